/**
 * The bench Worker (bench/wrangler.toml): the production Worker plus the routes `npm run bench`
 * needs, in a Worker of its own so that none of it ships in production.
 *
 * Every path outside /bench/ goes to the production Worker's own `fetch` (src/index.ts), as do
 * queue batches and crons; the Durable Object classes are the production ones, except INVENTORY,
 * bound to the test-only subclass BenchInventoryObject (bench/worker/inventory.ts).
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
 *
 * BENCH_LOG = "quiet" drops the info-level console lines (the production Worker writes one per
 * request; `wrangler dev` parses and prints every one in its own Node process, on the same cores
 * as the load). Warnings and errors are kept.
 */
import production, { CartObject, IdempotencyObject, PaidOrdersObject, PromotionObject } from "../../src/index";
import { type HoldFn, holdOneUnit } from "./hold-call";
import { BenchInventoryObject } from "./inventory";
import {
  type BenchEnv,
  type Connection,
  createCart,
  reserveForUpdate,
  type Reservation,
  reserveSingle,
  setStock,
  sqlState,
  stockLevel,
  withConnection,
} from "./postgres";

export { BenchInventoryObject, CartObject, IdempotencyObject, PaidOrdersObject, PromotionObject };

let quieted = false;
/** Silences console.log / console.info in this isolate when BENCH_LOG is "quiet". */
function applyLogSetting(env: BenchEnv): void {
  if (quieted || env.BENCH_LOG !== "quiet") return;
  quieted = true;
  console.log = () => {};
  console.info = () => {};
}

const JSON_HEADERS = { "content-type": "application/json", "cache-control": "no-store" };
const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
const problem = (status: number, code: string, detail: string, extra: Record<string, unknown> = {}) =>
  json({ status, code, detail, ...extra }, status);

class HttpError extends Error {
  constructor(readonly response: Response) {
    super("http error");
  }
}

function randomHex(bytes = 16): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function bearer(request: Request): string | null {
  const match = /^Bearer (.+)$/.exec(request.headers.get("authorization") ?? "");
  return match ? match[1]! : null;
}

function requireAdmin(request: Request, env: BenchEnv): void {
  if (!env.ADMIN_TOKEN || bearer(request) !== env.ADMIN_TOKEN)
    throw new HttpError(problem(401, "unauthorized", "The bench's admin routes need the admin token."));
}

async function body<T extends Record<string, unknown>>(request: Request): Promise<T> {
  const text = await request.text();
  if (!text) return {} as T;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as T;
  } catch {
    // Falls through.
  }
  throw new HttpError(problem(400, "invalid_request", "The body must be a JSON object."));
}

function int(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new HttpError(problem(400, "invalid_request", `${name} must be an integer from ${min} to ${max}.`));
  }
  return value;
}

const SKU = "[A-Za-z0-9._-]{1,64}";
const CART = "[0-9a-f]{32}";
const holdTtl = (env: BenchEnv) => Number(env.HOLD_TTL_SECONDS) || 900;
const inventory = (env: BenchEnv, sku: string) => env.INVENTORY.getByName(sku) as unknown as DurableObjectStub<BenchInventoryObject>;

type Handler = (request: Request, env: BenchEnv, ctx: ExecutionContext, params: string[], url: URL) => Promise<Response>;
const routes: Array<[method: string, pattern: RegExp, handler: Handler]> = [
  [
    "POST",
    /^\/bench\/noop$/,
    async (request) => {
      await request.arrayBuffer();
      return new Response(null, { status: 204 });
    },
  ],

  // ---- the central-database design ----
  [
    "POST",
    /^\/bench\/pg\/(request|pooled)\/carts$/,
    async (request, env, ctx, [conn]) => {
      await request.arrayBuffer();
      const id = randomHex();
      const token = randomHex(32);
      const tokenHash = await sha256Hex(token);
      await withConnection(env, ctx, conn as Connection, (db) => createCart(db, id, tokenHash));
      return json({ id, token }, 201);
    },
  ],
  [
    "PUT",
    new RegExp(`^/bench/pg/(request|pooled)/carts/(${CART})/items/(${SKU})$`),
    async (request, env, ctx, [conn, cartId, sku], url) => {
      const token = bearer(request);
      if (token === null) return problem(401, "unauthorized", "This route needs the cart's bearer token.");
      const quantity = int((await body(request)).quantity, "quantity", 1, 1000);
      const lock = url.searchParams.get("lock") ?? "single";
      if (lock !== "single" && lock !== "for-update") return problem(400, "invalid_request", "lock must be single or for-update.");
      const tokenHash = await sha256Hex(token);
      let result: Reservation;
      try {
        result = await withConnection(env, ctx, conn as Connection, (db) =>
          (lock === "for-update" ? reserveForUpdate : reserveSingle)(db, cartId!, tokenHash, sku!, quantity),
        );
      } catch (error) {
        if (sqlState(error) === "23505") return problem(409, "line_exists", "This bench cart already holds that SKU.");
        throw error;
      }
      switch (result.outcome) {
        case "granted":
          return json({ cart_id: cartId, sku, quantity, available: result.available });
        case "refused":
          return problem(409, "insufficient_stock", `Only ${result.available} of ${sku} can be held.`, { available: result.available });
        case "no_cart":
          return problem(404, "not_found", "No such cart.");
        case "no_sku":
          return problem(404, "not_found", "No such SKU.");
      }
    },
  ],
  [
    "PUT",
    new RegExp(`^/bench/pg/stock/(${SKU})$`),
    async (request, env, ctx, [sku]) => {
      requireAdmin(request, env);
      const available = int((await body(request)).available, "available", 0, 1_000_000_000);
      const level = await withConnection(env, ctx, "pooled", async (db) => {
        await setStock(db, sku!, available);
        return stockLevel(db, sku!);
      });
      return json(level);
    },
  ],
  [
    "GET",
    new RegExp(`^/bench/pg/stock/(${SKU})$`),
    async (request, env, ctx, [sku]) => {
      requireAdmin(request, env);
      const level = await withConnection(env, ctx, "pooled", (db) => stockLevel(db, sku!));
      return level === null ? problem(404, "not_found", "No such SKU.") : json(level);
    },
  ],

  // ---- the SKU object ----
  [
    "POST",
    new RegExp(`^/bench/inventory/(${SKU})/configure$`),
    async (request, env, _ctx, [sku]) => {
      requireAdmin(request, env);
      const rttMs = int((await body(request)).rtt_ms, "rtt_ms", 0, 10_000);
      return json(await inventory(env, sku!).benchConfigure({ rttMs }));
    },
  ],
  [
    "POST",
    new RegExp(`^/bench/inventory/(${SKU})/holds$`),
    async (request, env, _ctx, [sku]) => {
      requireAdmin(request, env);
      const input = await body<{ count?: unknown; mode?: unknown }>(request);
      const count = int(input.count, "count", 1, 100_000);
      const stub = inventory(env, sku!);
      let granted = 0;
      let elapsed: number;
      if (input.mode === "rpc") {
        // The Worker awaits one hold call after the other, as a cart does.
        const hold: HoldFn = (...args) => stub.hold(...args);
        const started = performance.now();
        for (let i = 0; i < count; i++) if (await holdOneUnit(hold, holdTtl(env))) granted++;
        elapsed = performance.now() - started;
      } else if (input.mode === "batched" || input.mode === "flushed") {
        ({ granted, elapsed_ms: elapsed } = await stub.benchTimeHolds(count, input.mode === "flushed", holdTtl(env)));
      } else {
        return problem(400, "invalid_request", "mode must be batched, flushed or rpc.");
      }
      return json({ sku, mode: input.mode, count, granted, elapsed_ms: elapsed, us_per_hold: (elapsed * 1000) / count });
    },
  ],
  [
    "POST",
    new RegExp(`^/bench/inventory/(${SKU})/ceiling$`),
    async (request, env, _ctx, [sku]) => {
      requireAdmin(request, env);
      const input = await body<{ callers?: unknown; holds?: unknown }>(request);
      const callers = int(input.callers, "callers", 1, 1000);
      const holds = int(input.holds, "holds", 1, 100_000);
      const stub = inventory(env, sku!);
      const hold: HoldFn = (...args) => stub.hold(...args);
      const ttl = holdTtl(env);
      const latencies: number[] = [];
      let next = 0;
      let granted = 0;
      let failed = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: callers }, async () => {
          while (next < holds) {
            next++;
            const t = performance.now();
            try {
              if (await holdOneUnit(hold, ttl)) granted++;
            } catch {
              failed++;
            }
            latencies.push(performance.now() - t);
          }
        }),
      );
      const elapsed = performance.now() - started;
      latencies.sort((a, b) => a - b);
      const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? null;
      return json({
        sku,
        callers,
        holds,
        granted,
        failed,
        elapsed_ms: elapsed,
        holds_per_s: (holds * 1000) / elapsed,
        p50_ms: at(0.5),
        p99_ms: at(0.99),
      });
    },
  ],
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
