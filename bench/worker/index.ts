/**
 * The bench Worker (bench/wrangler.toml): the production Worker plus the routes `npm run bench`
 * needs, in a Worker of its own so that none of it ships in production.
 *
 * Every path outside /bench/ goes to the production Worker's own `fetch` (src/index.ts), as do
 * queue batches and crons; the Durable Object classes are the production ones, except CARTS and
 * INVENTORY, bound to the test-only subclasses BenchCartObject (bench/worker/cart.ts: calls to SKU
 * objects pay the simulated round trip, bench/worker/hop.ts) and BenchInventoryObject
 * (bench/worker/inventory.ts), plus the bare design's BareCartObject and BareSkuObject
 * (bench/worker/bare.ts, bound as BARE_CARTS and BARE_SKUS).
 *
 * Routes (JSON bodies; "admin" = `Authorization: Bearer <ADMIN_TOKEN>`):
 *   POST /bench/noop                                 204 from this entry, nothing else
 *   POST /bench/pg/{conn}/carts                      a cart row; conn = request | pooled
 *   PUT  /bench/pg/{conn}/carts/{id}/items/{sku}     {quantity}; ?lock=for-update for the transaction
 *   PUT  /bench/pg/stock/{sku}                       admin: {available}
 *   GET  /bench/pg/stock/{sku}                       admin: available, lines, reserved
 *   POST /bench/inventory/{sku}/configure            admin: {rtt_ms} simulated cart -> SKU round trip
 *   POST /bench/inventory/{sku}/holds                admin: {count, mode: batched | flushed | rpc}
 *   POST /bench/inventory/{sku}/ceiling              admin: {callers, holds} concurrent hold RPCs
 *   POST /bench/bare/carts                           the bare design (bench/worker/bare.ts): id and token, no object
 *   PUT  /bench/bare/carts/{id}                      its first change without a line (creates the object)
 *   PUT  /bench/bare/carts/{id}/items/{sku}          {quantity}, held in the SKU's BareSkuObject
 *   PUT  /bench/bare/stock/{sku}                     admin: {available}
 *   GET  /bench/bare/stock/{sku}                     admin: available, reserved, lines
 *
 * The handlers live in bench/worker/routes-pg.ts, bench/worker/routes-inventory.ts and
 * bench/worker/routes-bare.ts, what they share in bench/worker/http.ts; this entry matches the routes and logs one line per request.
 *
 * BENCH_LOG = "quiet" drops the info-level console lines (the production Worker writes one per
 * request; `wrangler dev` parses and prints every one in its own Node process, on the same cores
 * as the load). Warnings and errors are kept.
 */
import production, { IdempotencyObject, PaidOrdersObject, PromotionObject } from "../../src/index";
import { BareCartObject, BareSkuObject } from "./bare";
import { BenchCartObject } from "./cart";
import { HttpError, problem, type Route } from "./http";
import { BenchInventoryObject } from "./inventory";
import type { BenchEnv } from "./postgres";
import { bareRoutes } from "./routes-bare";
import { inventoryRoutes } from "./routes-inventory";
import { postgresRoutes } from "./routes-pg";

export { BareCartObject, BareSkuObject, BenchCartObject, BenchInventoryObject, IdempotencyObject, PaidOrdersObject, PromotionObject };

let quieted = false;
/** Silences console.log / console.info in this isolate when BENCH_LOG is "quiet". */
function applyLogSetting(env: BenchEnv): void {
  if (quieted || env.BENCH_LOG !== "quiet") return;
  quieted = true;
  console.log = () => {};
  console.info = () => {};
}

const routes: Route[] = [
  [
    "POST",
    /^\/bench\/noop$/,
    async (request) => {
      await request.arrayBuffer();
      return new Response(null, { status: 204 });
    },
  ],
  ...postgresRoutes,
  ...inventoryRoutes,
  ...bareRoutes,
];

async function benchRoute(request: Request, env: BenchEnv, ctx: ExecutionContext, url: URL): Promise<Response> {
  const started = Date.now();
  let response: Response;
  try {
    const matching = routes.filter(([, pattern]) => pattern.test(url.pathname));
    const route = matching.find(([method]) => method === request.method);
    if (route === undefined) {
      response =
        matching.length > 0
          ? problem(405, "method_not_allowed", `${request.method} is not allowed here.`)
          : problem(404, "not_found", `No bench route matches ${request.method} ${url.pathname}.`);
    } else {
      response = await route[2](request, env, ctx, route[1].exec(url.pathname)!.slice(1), url);
    }
  } catch (error) {
    if (error instanceof HttpError) response = error.response;
    else {
      console.error(
        JSON.stringify({
          level: "error",
          message: "bench route failed",
          path: url.pathname,
          error: String(error),
          stack: (error as Error)?.stack,
        }),
      );
      response = problem(500, "internal", String(error));
    }
  }
  // The same one line per request as the production seam writes (dropped when BENCH_LOG=quiet).
  console.log(
    JSON.stringify({
      level: "info",
      message: "request",
      method: request.method,
      path: url.pathname,
      status: response.status,
      duration_ms: Date.now() - started,
    }),
  );
  return response;
}

export default {
  async fetch(request, env, ctx): Promise<Response> {
    applyLogSetting(env);
    const url = new URL(request.url);
    if (url.pathname.startsWith("/bench/")) return benchRoute(request, env, ctx, url);
    return production.fetch(request, env, ctx);
  },
  async queue(batch, env, ctx): Promise<void> {
    applyLogSetting(env);
    return production.queue(batch, env, ctx);
  },
  async scheduled(controller, env, ctx): Promise<void> {
    applyLogSetting(env);
    return production.scheduled(controller, env, ctx);
  },
} satisfies ExportedHandler<BenchEnv>;
