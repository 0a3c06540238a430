/**
 * The whole route table on one screen. Each entry is a route definition from src/routes; the
 * itty-router instance, the 404/405 fallbacks and the OpenAPI document are all derived from it.
 * It also supplies the HTTP layer's one dependency on an object: where Idempotency-Key records
 * live.
 */
import { type IRequest, IttyRouter } from "itty-router";
import { type RouteServices, runRoute } from "./http/dispatch";
import type { IdempotencyRecords } from "./http/idempotency";
import { ApiError } from "./http/problem";
import type { RouteSpec } from "./http/route";
import { cartStub, idempotencyStub } from "./objects/stubs";
import { getAdminProduct, listAdminProducts } from "./routes/admin-catalog";
import { listAdminOrders, listUnarchivedOrders } from "./routes/admin-orders";
import { deleteProduct, putProduct } from "./routes/admin-products";
import { deletePromotionRoute, getPromotionRoute, listPromotionsRoute, putPromotion } from "./routes/admin-promotions";
import { listRefundsDue } from "./routes/admin-refunds";
import { lowStockReport, salesReport, topSkusReport } from "./routes/admin-reports";
import { getStockAlertRoute, putStockAlert } from "./routes/admin-stock-alerts";
import { deleteTaxRateRoute, getTaxRateRoute, getTaxSettings, listTaxRatesRoute, putTaxRate } from "./routes/admin-tax";
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getWebhookEndpoint,
  listWebhookDeliveries,
  listWebhookEndpoints,
  redeliverWebhook,
  replaceWebhookEndpoint,
} from "./routes/admin-webhooks";
import {
  createCart,
  deleteCartItem,
  deleteCartPromotion,
  getCart,
  mergeCarts,
  putCartItem,
  putCartPromotion,
  putCartShipTo,
} from "./routes/carts";
import { getAvailability, getInventory, postAdjustment, postRestore, putInventory } from "./routes/inventory";
import { getHealth, openApiRoute } from "./routes/meta";
import { cancelOrder, checkout, getOrder, getOrderForAdmin } from "./routes/orders";
import { getProductRoute, listProductsRoute } from "./routes/products";
import { createStorefrontKey, listStorefrontKeysRoute, revokeStorefrontKey } from "./routes/storefront-keys";
import { stripeWebhook } from "./routes/stripe-webhook";
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
  putCartPromotion,
  deleteCartPromotion,
  putCartShipTo,
  mergeCarts,
  deleteCartItem,
  checkout,
  getOrder,
  cancelOrder,
  paymentWebhook,
  stripeWebhook,
  listAdminProducts,
  getAdminProduct,
  putProduct,
  deleteProduct,
  getInventory,
  putInventory,
  postAdjustment,
  postRestore,
  // Before the {order_id} route, which would take "unarchived" for an (invalid) order id.
  listUnarchivedOrders,
  getOrderForAdmin,
  listAdminOrders,
  listRefundsDue,
  salesReport,
  topSkusReport,
  lowStockReport,
  createStorefrontKey,
  listStorefrontKeysRoute,
  revokeStorefrontKey,
  listPromotionsRoute,
  getPromotionRoute,
  putPromotion,
  deletePromotionRoute,
  listTaxRatesRoute,
  getTaxRateRoute,
  putTaxRate,
  deleteTaxRateRoute,
  getTaxSettings,
  // Outgoing webhooks (routes/admin-webhooks.ts, routes/admin-stock-alerts.ts).
  createWebhookEndpoint,
  listWebhookEndpoints,
  getWebhookEndpoint,
  replaceWebhookEndpoint,
  deleteWebhookEndpoint,
  listWebhookDeliveries,
  redeliverWebhook,
  getStockAlertRoute,
  putStockAlert,
];

/** Idempotency-Key records: one IdempotencyObject per credential scope and key. */
export const idempotencyRecords: IdempotencyRecords = (env, scopeHash, keyHash, region) => idempotencyStub(env, scopeHash, keyHash, region);

/** What the HTTP layer reaches objects through. */
export const services: RouteServices = {
  idempotencyRecords,
  legacyCartHolder: async (env, cartId, credential) => (await cartStub(env, cartId)?.isLegacyHolder(credential)) ?? false,
};

/** OpenAPI `{param}` → itty `:param`. */
function ittyPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ":$1");
}

function pathPattern(path: string): RegExp {
  const source = path.replace(/[.]/g, "\\.").replace(/\{\w+\}/g, "[^/]+");
  return new RegExp(`^${source}/*$`);
}

const patterns = routes.map((route) => ({ route, pattern: pathPattern(route.path) }));

type Args = [env: Env, ctx: ExecutionContext, requestId: string];
const router = IttyRouter<IRequest, Args>();
for (const route of routes) {
  router[route.method.toLowerCase() as "get"](
    ittyPath(route.path),
    (request: IRequest, env: Env, ctx: ExecutionContext, requestId: string) =>
      runRoute(route, request as unknown as Request, request.params, env, ctx, requestId, services),
  );
}
router.all("*", (request: IRequest) => {
  const pathname = new URL(request.url).pathname;
  const allowed = patterns.filter(({ pattern }) => pattern.test(pathname)).map(({ route }) => route.method);
  if (allowed.length === 0) throw new ApiError(404, "not_found", `No route matches ${request.method} ${pathname}.`);
  throw new ApiError(
    405,
    "method_not_allowed",
    `${request.method} is not allowed here; use ${allowed.join(", ")}.`,
    {},
    { allow: allowed.join(", ") },
  );
});

/** Routes a request to its handler (the caller supplies the error seam). */
export function route(request: Request, env: Env, ctx: ExecutionContext, requestId: string): Promise<Response> {
  return router.fetch(request as unknown as IRequest, env, ctx, requestId) as Promise<Response>;
}
