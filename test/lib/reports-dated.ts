// Helpers of the dated-order tests (test/reports.test.ts): day windows of their own, orders written
// straight to Postgres by another tool, and the reporting views read with SQL.
import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { expect } from "vitest";
import { withDb } from "../../src/db/client";

const DAY_MS = 86_400_000;

/**
 * The day windows of one test file: a random first day (2031–2080), then for each `days(count)`,
 * `count` consecutive UTC days no other window of this `dayWindows()` uses, as `YYYY-MM-DD`
 * strings (plus helpers). Windows are disjoint only within one `dayWindows()`, so within one file.
 */
export function dayWindows() {
  let nextDay = Math.floor(Date.UTC(2031, 0, 1) / DAY_MS) + Math.floor(Math.random() * 18_000);
  return function days(count: number) {
    const first = nextDay;
    nextDay += count + 2;
    const day = (i: number) => new Date((first + i) * DAY_MS).toISOString().slice(0, 10);
    const at = (i: number, time: string) => `${day(i)}T${time}Z`;
    return { day, at };
  };
}

/**
 * Writes orders created (and, when paid, paid) at the given times, as another tool could. Ids must
 * be of the Order shape (`ord_` and 64 hex digits): every file of a project reads the same orders
 * table, and a back-office read that reaches another shape breaks the contract.
 */
async function insertOrders(status: "expired" | "paid", rows: ReadonlyArray<{ id: string; at: string; amount?: number }>): Promise<void> {
  for (const { id } of rows) expect(id, "an order id of the Order shape").toMatch(/^ord_[0-9a-f]{64}$/);
  const paid = status === "paid";
  await withDb(env, async (db) => {
    for (const row of rows) {
      const cartId = row.id.slice(4);
      await db.execute(
        sql`INSERT INTO orders (id, cart_id, status, email, total_amount, currency, payment_id, created_at, paid_at, payment_expires_at) VALUES (${row.id}, ${cartId}, ${status}, 'x@example.com', ${row.amount ?? 0}, 'USD', ${paid ? `pi_${cartId}` : null}, ${row.at}::timestamptz, ${paid ? row.at : null}::timestamptz, ${row.at}::timestamptz)`,
      );
    }
  });
}

/** Writes expired orders at the given times (microseconds included), as another tool could. */
export const insertExpired = (rows: Array<{ id: string; at: string }>) => insertOrders("expired", rows);

/** Writes paid orders of `amount` USD, created and paid at the given times, as another tool could. */
export const insertPaid = (rows: Array<{ id: string; at: string; amount: number }>) => insertOrders("paid", rows);

/** The rows of the reporting views for `sku`, and the daily sales from `from` to `to`. */
export async function viewRows(sku: string, from: string, to: string) {
  return withDb(env, async (db) => ({
    lines: (
      await db.execute(
        sql`SELECT day::text, order_id, position, sku, product_id, title, quantity, unit_amount::int, line_amount::int, currency FROM v_paid_order_lines WHERE sku = ${sku} ORDER BY day`,
      )
    ).rows,
    daily: (
      await db.execute(
        sql`SELECT day::text, currency, orders, units::int, revenue_amount::int FROM v_daily_sales WHERE day BETWEEN ${from} AND ${to} ORDER BY day`,
      )
    ).rows,
    skuDaily: (
      await db.execute(
        sql`SELECT day::text, orders, units::int, revenue_amount::int FROM v_sku_daily_sales WHERE sku = ${sku} ORDER BY day`,
      )
    ).rows,
    skuAllTime: (
      await db.execute(
        sql`SELECT sku, currency, orders, units::int, revenue_amount::int, first_day::text, last_day::text FROM v_sku_sales WHERE sku = ${sku}`,
      )
    ).rows,
  }));
}

/** Every row of the low-stock view. */
export async function lowStockRows() {
  return withDb(env, async (db) => {
    const all = (await db.execute(sql`SELECT sku, available FROM v_low_stock`)).rows as Array<{ sku: string; available: number }>;
    return all;
  });
}
