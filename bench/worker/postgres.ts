/**
 * The central-database design edgecart replaces, three ways, each a choice a real Worker could
 * make. The tables live in the schema `edgecart_bench`, created by the bench runner before the
 * Worker starts (bench/lib/database.mjs): nothing here runs DDL.
 *
 * Connections:
 * - `request`: a connection per request, as a Worker without a pooler pays it: the production
 *   `withDb` (src/db/client.ts), Neon's driver over WebSocket (locally through the bench's relay).
 * - `pooled`: node-postgres through a Hyperdrive binding (`env.HYPERDRIVE.connectionString`).
 *   Locally wrangler points Hyperdrive at `localConnectionString`, which the bench sets to its
 *   pooling proxy (bench/lib/db-proxy.mjs): a warm pool of Postgres connections, as Hyperdrive
 *   keeps near the database.
 *
 * Reservations:
 * - `single`: ONE statement, so one round trip: the cart's token is checked, a conditional
 *   `UPDATE … SET available = available - n WHERE sku = $ AND available >= n` takes the units (the
 *   row lock serialises concurrent shoppers only for the statement's own execution; under READ
 *   COMMITTED a waiter re-checks the condition on the new row version), and the cart line is
 *   inserted only when the UPDATE took something.
 * - `for-update`: the textbook transaction: BEGIN; SELECT … FOR UPDATE (the row lock is taken
 *   here); the application checks the stock; UPDATE + INSERT (one statement); COMMIT. The lock is
 *   held across the round trips between the SELECT and the COMMIT.
 *
 * No CHECK (available >= 0) on purpose: the SQL alone must keep stock from going negative, and an
 * oversell has to show in the figures rather than turn into errors.
 */
import { Client } from "pg";
import { withDb } from "../../src/db/client";

export type BenchEnv = Env & { HYPERDRIVE: Hyperdrive; BENCH_LOG?: string };
export type Connection = "request" | "pooled";

interface Queryable {
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

/** Runs `work` on a connection of the given kind, closed afterwards. */
export async function withConnection<T>(
  env: BenchEnv,
  ctx: ExecutionContext,
  kind: Connection,
  work: (db: Queryable) => Promise<T>,
): Promise<T> {
  if (kind === "request") {
    return withDb(env, (db) => {
      // drizzle keeps the driver's pool as $client: the same pg-style query() as below, so both
      // connection kinds run the very same SQL text.
      const client = (db as unknown as { $client?: Queryable }).$client;
      if (typeof client?.query !== "function") throw new Error("withDb's drizzle instance has no $client.query");
      return work(client);
    });
  }
  const client = new Client({ connectionString: env.HYPERDRIVE.connectionString });
  await client.connect();
  try {
    return await work(client as unknown as Queryable);
  } finally {
    ctx.waitUntil(client.end().catch(() => {}));
  }
}

/** Postgres SQLSTATE of a driver error. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code ?? (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof code === "string" ? code : undefined;
}

export async function createCart(db: Queryable, id: string, tokenHash: string): Promise<void> {
  await db.query("INSERT INTO edgecart_bench.carts (id, token_hash) VALUES ($1, $2)", [id, tokenHash]);
}

export type Reservation =
  | { outcome: "granted"; available: number }
  | { outcome: "refused"; available: number }
  | { outcome: "no_cart" }
  | { outcome: "no_sku" };

const SINGLE = `
  WITH cart AS (
    SELECT id FROM edgecart_bench.carts WHERE id = $1 AND token_hash = $2
  ), reserved AS (
    UPDATE edgecart_bench.stock SET available = available - $4
    WHERE sku = $3 AND available >= $4 AND EXISTS (SELECT 1 FROM cart)
    RETURNING available
  ), line AS (
    INSERT INTO edgecart_bench.cart_lines (cart_id, sku, quantity)
    SELECT $1, $3, $4 FROM reserved
    RETURNING 1
  )
  SELECT EXISTS (SELECT 1 FROM cart) AS cart_found,
         (SELECT available FROM reserved) AS granted,
         (SELECT available FROM edgecart_bench.stock WHERE sku = $3) AS available`;

/** One statement, one round trip (see the file comment). */
export async function reserveSingle(db: Queryable, cartId: string, tokenHash: string, sku: string, quantity: number): Promise<Reservation> {
  const { rows } = await db.query<{ cart_found: boolean; granted: number | null; available: number | null }>(SINGLE, [
    cartId,
    tokenHash,
    sku,
    quantity,
  ]);
  const row = rows[0];
  if (!row?.cart_found) return { outcome: "no_cart" };
  if (row.granted !== null) return { outcome: "granted", available: row.granted };
  if (row.available === null) return { outcome: "no_sku" };
  return { outcome: "refused", available: row.available };
}

const LOCK = `
  SELECT s.available,
         EXISTS (SELECT 1 FROM edgecart_bench.carts c WHERE c.id = $1 AND c.token_hash = $2) AS cart_found
  FROM edgecart_bench.stock s WHERE s.sku = $3
  FOR UPDATE OF s`;

const TAKE = `
  WITH reserved AS (
    UPDATE edgecart_bench.stock SET available = available - $3 WHERE sku = $2 RETURNING available
  )
  INSERT INTO edgecart_bench.cart_lines (cart_id, sku, quantity)
  SELECT $1, $2, $3 FROM reserved
  RETURNING (SELECT available FROM reserved) AS available`;

/** BEGIN; SELECT … FOR UPDATE; check; UPDATE + INSERT; COMMIT (see the file comment). */
export async function reserveForUpdate(
  db: Queryable,
  cartId: string,
  tokenHash: string,
  sku: string,
  quantity: number,
): Promise<Reservation> {
  await db.query("BEGIN");
  let done = false;
  try {
    const { rows } = await db.query<{ available: number; cart_found: boolean }>(LOCK, [cartId, tokenHash, sku]);
    const row = rows[0];
    let result: Reservation;
    if (row === undefined) result = { outcome: "no_sku" };
    else if (!row.cart_found) result = { outcome: "no_cart" };
    else if (row.available < quantity) result = { outcome: "refused", available: row.available };
    else {
      const taken = await db.query<{ available: number }>(TAKE, [cartId, sku, quantity]);
      result = { outcome: "granted", available: taken.rows[0]!.available };
    }
    await db.query(result.outcome === "granted" ? "COMMIT" : "ROLLBACK");
    done = true;
    return result;
  } finally {
    if (!done) await db.query("ROLLBACK").catch(() => {});
  }
}

export async function setStock(db: Queryable, sku: string, available: number): Promise<void> {
  await db.query(
    `INSERT INTO edgecart_bench.stock (sku, available) VALUES ($1, $2)
     ON CONFLICT (sku) DO UPDATE SET available = excluded.available`,
    [sku, available],
  );
}

export async function stockLevel(
  db: Queryable,
  sku: string,
): Promise<{ sku: string; available: number; lines: number; reserved: number } | null> {
  const { rows } = await db.query<{ available: number; lines: string; reserved: string | null }>(
    `SELECT s.available,
            (SELECT count(*) FROM edgecart_bench.cart_lines l WHERE l.sku = s.sku) AS lines,
            (SELECT sum(quantity) FROM edgecart_bench.cart_lines l WHERE l.sku = s.sku) AS reserved
     FROM edgecart_bench.stock s WHERE s.sku = $1`,
    [sku],
  );
  const row = rows[0];
  return row === undefined
    ? null
    : { sku, available: Number(row.available), lines: Number(row.lines), reserved: Number(row.reserved ?? 0) };
}
