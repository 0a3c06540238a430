/**
 * Bench-only routes for `npm run bench` (bench/run.mjs). Served only while the var BENCH_ROUTES is
 * "on", which only the bench sets; otherwise src/router.ts answers them exactly as unknown paths
 * (404) and the OpenAPI document never lists them. Never enable them in production.
 *
 * - `noop`: the runtime's HTTP ceiling through this Worker's router and error seam.
 * - `postgres-row-lock`: the classic central-database design edgecart replaces. A cart is a row; a
 *   reservation is one conditional `UPDATE … SET available = available - n WHERE … available >= n`
 *   on a central Postgres, through the production driver path ({@link withDb}). Its tables live in
 *   the schema `edgecart_bench`, outside the drizzle migrations.
 * - micro benchmarks: holds timed inside one InventoryObject, and the order-archival consumer.
 */
import { inArray, sql } from "drizzle-orm";
import { z } from "zod";
import { settings } from "../config";
import { OrderArchivedV1, Sku, SkuParams } from "../contracts";
import { withDb } from "../db/client";
import { orders } from "../db/schema";
import { sha256Hex } from "../http/auth";
import { ApiError, notFound } from "../http/problem";
import { defineRoute, empty, json, type RouteSpec } from "../http/route";
import { inventoryStub } from "../objects/stubs";
import { consumeOrders, ORDERS_QUEUE } from "../queue";

/** Whether this deployment serves the bench routes (only `npm run bench` sets BENCH_ROUTES=on). */
export function benchEnabled(env: Env): boolean {
  return env.BENCH_ROUTES === "on";
}

const TAG = "bench";
const NO_STORE = { "cache-control": "no-store" };

// ---- noop ----------------------------------------------------------------------------------------

/** `POST /bench/noop`: reads the body and answers 204. The ceiling for "create a cart". */
export const benchNoopPost = defineRoute({
  method: "POST",
  path: "/bench/noop",
  operationId: "benchNoopPost",
  summary: "Bench: does nothing",
  tag: TAG,
  auth: "none",
  rawBody: true,
  responses: { 204: { description: "Nothing done" } },
  handler: () => empty(),
});

/** `PUT /bench/noop`: reads the body and answers 204. The ceiling for "put an item". */
export const benchNoopPut = defineRoute({
  method: "PUT",
  path: "/bench/noop",
  operationId: "benchNoopPut",
  summary: "Bench: does nothing",
  tag: TAG,
  auth: "none",
  rawBody: true,
  responses: { 204: { description: "Nothing done" } },
  handler: () => empty(),
});

// ---- postgres-row-lock ---------------------------------------------------------------------------

/**
 * No CHECK (available >= 0) on purpose: the conditional UPDATE alone must keep stock from going
 * negative, and an oversell has to show in the figures rather than turn into errors.
 */
const SCHEMA_DDL = [
  sql`CREATE SCHEMA IF NOT EXISTS edgecart_bench`,
  sql`CREATE TABLE IF NOT EXISTS edgecart_bench.stock (sku text PRIMARY KEY, available integer NOT NULL)`,
  sql`CREATE TABLE IF NOT EXISTS edgecart_bench.carts (id text PRIMARY KEY, token_hash text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
  sql`CREATE TABLE IF NOT EXISTS edgecart_bench.cart_lines (
        cart_id text NOT NULL REFERENCES edgecart_bench.carts (id),
        sku text NOT NULL,
        quantity integer NOT NULL CHECK (quantity > 0),
        PRIMARY KEY (cart_id, sku))`,
];

const BenchCartId = z.string().regex(/^[0-9a-f]{32}$/, "must be a bench cart id");
const StockBody = z.strictObject({ available: z.number().int().min(0).max(1_000_000_000) });
const StockLevel = z.object({ sku: Sku, available: z.number().int(), lines: z.number().int(), reserved: z.number().int() });
const ReserveBody = z.strictObject({ quantity: z.number().int().min(1).max(1000) });

/** Postgres SQLSTATE of a driver error (drizzle wraps it in `cause`). */
function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code ?? (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof code === "string" ? code : undefined;
}

/** 32 random hex characters: a bench cart id or token. */
function randomHex(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function stockLevel(env: Env, sku: string): Promise<z.infer<typeof StockLevel>> {
  const result = await withDb(env, (db) =>
    db.execute<{ available: number; lines: string; reserved: string | null }>(sql`
      SELECT s.available,
             (SELECT count(*) FROM edgecart_bench.cart_lines l WHERE l.sku = s.sku) AS lines,
             (SELECT sum(quantity) FROM edgecart_bench.cart_lines l WHERE l.sku = s.sku) AS reserved
      FROM edgecart_bench.stock s WHERE s.sku = ${sku}`),
  );
  const row = result.rows[0];
  if (row === undefined) throw notFound("SKU");
  return { sku, available: row.available, lines: Number(row.lines), reserved: Number(row.reserved ?? 0) };
}

/** `PUT /bench/pg/stock/{sku}`: creates the bench tables when missing and sets the SKU's stock. */
export const benchPgSetStock = defineRoute({
  method: "PUT",
  path: "/bench/pg/stock/{sku}",
  operationId: "benchPgSetStock",
  summary: "Bench: set a SKU's stock in the central-database design",
  tag: TAG,
  auth: "admin",
  params: SkuParams,
  body: StockBody,
  responses: { 200: { description: "Stock level", schema: StockLevel } },
  async handler({ env, params, body }) {
    await withDb(env, async (db) => {
      for (const statement of SCHEMA_DDL) await db.execute(statement);
      await db.execute(sql`
        INSERT INTO edgecart_bench.stock (sku, available) VALUES (${params.sku}, ${body.available})
        ON CONFLICT (sku) DO UPDATE SET available = excluded.available`);
    });
    return json(await stockLevel(env, params.sku), 200, NO_STORE);
  },
});

/** `GET /bench/pg/stock/{sku}`: stock left, and the lines and units reserved by carts. */
export const benchPgGetStock = defineRoute({
  method: "GET",
  path: "/bench/pg/stock/{sku}",
  operationId: "benchPgGetStock",
  summary: "Bench: a SKU's stock in the central-database design",
  tag: TAG,
  auth: "admin",
  params: SkuParams,
  responses: { 200: { description: "Stock level", schema: StockLevel } },
  async handler({ env, params }) {
    return json(await stockLevel(env, params.sku), 200, NO_STORE);
  },
});

/** `POST /bench/pg/carts`: one cart row (id and token hash), like `POST /v1/carts` creates an object. */
export const benchPgCreateCart = defineRoute({
  method: "POST",
  path: "/bench/pg/carts",
  operationId: "benchPgCreateCart",
  summary: "Bench: create a cart row in the central database",
  tag: TAG,
  auth: "none",
  responses: { 201: { description: "The cart and its token", schema: z.object({ id: BenchCartId, token: z.string() }) } },
  async handler({ env }) {
    const id = randomHex();
    const token = randomHex() + randomHex();
    const tokenHash = await sha256Hex(token);
    await withDb(env, (db) => db.execute(sql`INSERT INTO edgecart_bench.carts (id, token_hash) VALUES (${id}, ${tokenHash})`));
    return json({ id, token }, 201, NO_STORE);
  },
});

/**
 * `PUT /bench/pg/carts/{cart_id}/items/{sku}`: reserves `quantity` for a new line of the cart in
 * ONE statement, so it is atomic and costs one round trip: the cart's token is checked, the
 * conditional UPDATE takes the units (the row lock serialises concurrent shoppers), and the line
 * is inserted only when it did. A line that already exists fails the whole statement (23505).
 */
export const benchPgReserve = defineRoute({
  method: "PUT",
  path: "/bench/pg/carts/{cart_id}/items/{sku}",
  operationId: "benchPgReserve",
  summary: "Bench: reserve stock with one conditional UPDATE on the central database",
  tag: TAG,
  auth: "cart",
  params: z.strictObject({ cart_id: BenchCartId, sku: Sku }),
  body: ReserveBody,
  responses: {
    200: { description: "Reserved", schema: z.object({ cart_id: BenchCartId, sku: Sku, quantity: z.number().int(), available: z.number().int() }) },
    404: { description: "Unknown cart (or wrong token) or SKU" },
    409: { description: "insufficient_stock, or line_exists" },
  },
  async handler({ env, params, body, bearer }) {
    const tokenHash = await sha256Hex(bearer ?? "");
    let row: { cart_found: boolean; granted: number | null; available: number | null } | undefined;
    try {
      const result = await withDb(env, (db) =>
        db.execute<{ cart_found: boolean; granted: number | null; available: number | null }>(sql`
          WITH cart AS (
            SELECT id FROM edgecart_bench.carts WHERE id = ${params.cart_id} AND token_hash = ${tokenHash}
          ), reserved AS (
            UPDATE edgecart_bench.stock SET available = available - ${body.quantity}
            WHERE sku = ${params.sku} AND available >= ${body.quantity} AND EXISTS (SELECT 1 FROM cart)
            RETURNING available
          ), line AS (
            INSERT INTO edgecart_bench.cart_lines (cart_id, sku, quantity)
            SELECT ${params.cart_id}, ${params.sku}, ${body.quantity} FROM reserved
            RETURNING 1
          )
          SELECT EXISTS (SELECT 1 FROM cart) AS cart_found,
                 (SELECT available FROM reserved) AS granted,
                 (SELECT available FROM edgecart_bench.stock WHERE sku = ${params.sku}) AS available`),
      );
      row = result.rows[0];
    } catch (error) {
      if (sqlState(error) === "23505") throw new ApiError(409, "line_exists", "This bench cart already holds that SKU.");
      throw error;
    }
    if (row === undefined || !row.cart_found) throw notFound("cart");
    if (row.granted !== null) return json({ cart_id: params.cart_id, sku: params.sku, quantity: body.quantity, available: row.granted }, 200, NO_STORE);
    if (row.available === null) throw notFound("SKU");
    // The statement's snapshot: what was left when this shopper lost the race.
    throw new ApiError(409, "insufficient_stock", `Only ${row.available} of ${params.sku} can be held.`, { available: row.available });
  },
});

// ---- micro benchmarks ----------------------------------------------------------------------------

const HoldsBody = z.strictObject({
  count: z.number().int().min(1).max(100_000),
  mode: z.enum(["batched", "flushed", "rpc"]),
});
const HoldsResult = z.object({ sku: Sku, mode: z.string(), count: z.number().int(), granted: z.number().int(), elapsed_ms: z.number(), us_per_hold: z.number() });

/**
 * `POST /bench/inventory/{sku}/holds`: `count` one-unit holds on the SKU's object, timed.
 * `batched` and `flushed` run inside the object (InventoryObject.benchHolds: one flush at the end,
 * or one per hold); `rpc` makes `count` awaited hold calls from this Worker, as a cart does, each
 * flushed before its answer leaves the object.
 */
export const benchHolds = defineRoute({
  method: "POST",
  path: "/bench/inventory/{sku}/holds",
  operationId: "benchHolds",
  summary: "Bench: time holds on one InventoryObject",
  tag: TAG,
  auth: "admin",
  params: SkuParams,
  body: HoldsBody,
  responses: { 200: { description: "Timing", schema: HoldsResult } },
  async handler({ env, params, body }) {
    const stub = inventoryStub(env, params.sku);
    let granted = 0;
    let elapsed: number;
    if (body.mode === "rpc") {
      const ttl = settings(env).holdTtlSeconds;
      const started = performance.now();
      for (let i = 0; i < body.count; i++) {
        const outcome = await stub.hold(`bench:${crypto.randomUUID()}`, "bench", 1, ttl);
        if (outcome.ok) granted++;
      }
      elapsed = performance.now() - started;
    } else {
      const result = await stub.benchHolds(body.count, body.mode === "flushed");
      if (!result.ok) throw new ApiError(409, result.reason, "The SKU's object refused the bench run.");
      granted = result.granted;
      elapsed = result.elapsed_ms;
    }
    return json({ sku: params.sku, mode: body.mode, count: body.count, granted, elapsed_ms: elapsed, us_per_hold: (elapsed * 1000) / body.count }, 200, NO_STORE);
  },
});

const ArchiveBody = z.strictObject({
  count: z.number().int().min(1).max(100_000),
  batch_size: z.number().int().min(1).max(100).default(50),
});
const ArchiveResult = z.object({ count: z.number().int(), batches: z.number().int(), acked: z.number().int(), retried: z.number().int(), elapsed_ms: z.number(), orders_per_s: z.number() });

/** A synthetic paid order of one line, as a CartObject would send it. */
function syntheticOrder(now: Date): OrderArchivedV1 {
  const cartId = randomHex() + randomHex();
  const line = { sku: "BENCH-ARCHIVE", product_id: "bench-archive", title: "Bench", quantity: 1, unit_price: { amount: 1000, currency: "USD" }, line_total: { amount: 1000, currency: "USD" } };
  const at = now.toISOString();
  return {
    type: "order.paid",
    version: 1,
    order: { id: `ord_${cartId}`, cart_id: cartId, email: "bench@example.com", status: "paid", total: line.line_total, payment_id: "pi_bench", created_at: at, paid_at: at, payment_expires_at: at, lines: [line] },
  };
}

/**
 * `POST /bench/archive`: archives `count` synthetic paid orders through the queue consumer
 * ({@link consumeOrders}: validation, one transaction per batch, acks) in batches of `batch_size`
 * (wrangler.toml's max_batch_size is 50), one batch after the other, as one consumer does. Only
 * the consumer calls are timed; the orders are deleted afterwards.
 */
export const benchArchive = defineRoute({
  method: "POST",
  path: "/bench/archive",
  operationId: "benchArchive",
  summary: "Bench: time the order-archival consumer",
  tag: TAG,
  auth: "admin",
  body: ArchiveBody,
  responses: { 200: { description: "Timing", schema: ArchiveResult } },
  async handler({ env, body }) {
    const now = new Date();
    const all = Array.from({ length: body.count }, () => syntheticOrder(now));
    let acked = 0;
    let retried = 0;
    let batches = 0;
    const started = performance.now();
    for (let offset = 0; offset < all.length; offset += body.batch_size) {
      const messages = all.slice(offset, offset + body.batch_size).map(
        (order): Message => ({
          id: crypto.randomUUID(),
          timestamp: now,
          body: order,
          attempts: 1,
          ack: () => void acked++,
          retry: () => void retried++,
        }),
      );
      const batch: MessageBatch = {
        queue: ORDERS_QUEUE,
        messages,
        metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } },
        ackAll: () => void (acked += messages.length),
        retryAll: () => void (retried += messages.length),
      };
      await consumeOrders(batch, env);
      batches++;
    }
    const elapsed = performance.now() - started;
    const ids = all.map(({ order }) => order.id);
    await withDb(env, async (db) => {
      for (let offset = 0; offset < ids.length; offset += 1000) await db.delete(orders).where(inArray(orders.id, ids.slice(offset, offset + 1000)));
    });
    return json({ count: body.count, batches, acked, retried, elapsed_ms: elapsed, orders_per_s: (body.count * 1000) / elapsed }, 200, NO_STORE);
  },
});

/** Every bench-only route; src/router.ts serves them only when {@link benchEnabled}. */
export const benchRoutes: readonly RouteSpec[] = [
  benchNoopPost,
  benchNoopPut,
  benchPgSetStock,
  benchPgGetStock,
  benchPgCreateCart,
  benchPgReserve,
  benchHolds,
  benchArchive,
];
