/**
 * The whole route table on one screen. Each entry is a route definition from src/routes; the
 * itty-router instance, the 404/405 fallbacks and the OpenAPI document are all derived from it.
 * The bench-only routes (src/routes/bench.ts) are served only while BENCH_ROUTES is "on" and are
 * never documented.
 */
import { IttyRouter, type IRequest } from "itty-router";
import { runRoute } from "./http/dispatch";
import { ApiError } from "./http/problem";
import type { RouteSpec } from "./http/route";
import { getAdminProduct, listAdminProducts } from "./routes/admin-catalog";
import { listAdminOrders } from "./routes/admin-orders";
import { deleteProduct, putProduct } from "./routes/admin-products";
import { lowStockReport, salesReport, topSkusReport } from "./routes/admin-reports";
import { createCart, deleteCartItem, getCart, putCartItem } from "./routes/carts";
import { benchEnabled, benchRoutes } from "./routes/bench";
import { getAvailability, getInventory, postAdjustment, postRestore, putInventory } from "./routes/inventory";
import { getHealth, openApiRoute } from "./routes/meta";
import { cancelOrder, checkout, getOrder, getOrderForAdmin } from "./routes/orders";
import { getProductRoute, listProductsRoute } from "./routes/products";
import { paymentWebhook } from "./routes/webhooks";

/** Every route, in the order the OpenAPI document lists them. */
export const routes: readonly RouteSpec[] = [
  getHealth,
  openApiRoute(() => routes),
  listProductsRoute,
  getProductRoute,
  getAvailability,
  createCart,
  getCart,
  putCartItem,
  deleteCartItem,
  checkout,
  getOrder,
  cancelOrder,
  paymentWebhook,
  listAdminProducts,
  getAdminProduct,
  putProduct,
  deleteProduct,
  getInventory,
  putInventory,
  postAdjustment,
  postRestore,
  getOrderForAdmin,
  listAdminOrders,
  salesReport,
  topSkusReport,
  lowStockReport,
];

/** OpenAPI `{param}` → itty `:param`. */
function ittyPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ":$1");
}

function pathPattern(path: string): RegExp {
  const source = path.replace(/[.]/g, "\\.").replace(/\{\w+\}/g, "[^/]+");
  return new RegExp(`^${source}/*$`);
}

const benchOnly = new Set(benchRoutes);

/** Whether `env` serves `route`: always, except a bench-only route while the bench is off. */
function served(route: RouteSpec, env: Env): boolean {
  return !benchOnly.has(route) || benchEnabled(env);
}

const patterns = [...routes, ...benchRoutes].map((route) => ({ route, pattern: pathPattern(route.path) }));

type Args = [env: Env, ctx: ExecutionContext, requestId: string];
const router = IttyRouter<IRequest, Args>();
for (const route of [...routes, ...benchRoutes]) {
  // A handler that returns undefined lets itty fall through: an unserved route ends in the 404.
  router[route.method.toLowerCase() as "get"](ittyPath(route.path), (request: IRequest, env: Env, ctx: ExecutionContext, requestId: string) =>
    served(route, env) ? runRoute(route, request as unknown as Request, request.params, env, ctx, requestId) : undefined,
  );
}
router.all("*", (request: IRequest, env: Env) => {
  const pathname = new URL(request.url).pathname;
  const allowed = patterns.filter(({ route, pattern }) => served(route, env) && pattern.test(pathname)).map(({ route }) => route.method);
  if (allowed.length === 0) throw new ApiError(404, "not_found", `No route matches ${request.method} ${pathname}.`);
  throw new ApiError(405, "method_not_allowed", `${request.method} is not allowed here; use ${allowed.join(", ")}.`, {}, { allow: allowed.join(", ") });
});

/** Routes a request to its handler (the caller supplies the error seam). */
export function route(request: Request, env: Env, ctx: ExecutionContext, requestId: string): Promise<Response> {
  return router.fetch(request as unknown as IRequest, env, ctx, requestId) as Promise<Response>;
}
