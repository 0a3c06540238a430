// The archive of a run's orders in Postgres, compared with the orders as the carts paid them: the
// soak (test/faults.test.ts) and the chaos run (test/recovery/chaos.test.ts) both end with it.
import { env } from "cloudflare:test";
import { inArray } from "drizzle-orm";
import type { Order } from "../../src/contracts";
import { withDb } from "../../src/db/client";
import { orderLines, orders } from "../../src/db/schema";

/** Strings in code-unit order, as `Array.prototype.sort()` orders them by default. */
const codeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** What an order's archive must say: paid, its total, and each line's SKU, quantity and amounts. */
function content(order: { status: string; total: number; currency: string; lines: Array<[string, number, number, number]> }): string {
  return JSON.stringify({ ...order, lines: [...order.lines].sort(([a], [b]) => codeUnits(a, b)) });
}

/** The rows Postgres holds for `ids`: orders (sorted by id, as JavaScript sorts) and their lines. */
export async function archivedRows(ids: readonly string[]) {
  return withDb(env, async (db) => ({
    orders: (
      await db
        .select({ id: orders.id, status: orders.status, totalAmount: orders.totalAmount, currency: orders.currency })
        .from(orders)
        .where(inArray(orders.id, [...ids]))
    ).sort((a, b) => codeUnits(a.id, b.id)),
    lines: await db
      .select({
        orderId: orderLines.orderId,
        sku: orderLines.sku,
        quantity: orderLines.quantity,
        unitAmount: orderLines.unitAmount,
        lineAmount: orderLines.lineAmount,
      })
      .from(orderLines)
      .where(inArray(orderLines.orderId, [...ids])),
  }));
}

/**
 * The ids of archived orders whose rows differ from the order as paid: not `paid`, another total,
 * or lines that are not the order's (a line missing or extra, a quantity or amount applied twice).
 * Primary keys keep an order and its lines to one row each, so a redelivery applied twice shows
 * here or nowhere.
 */
export function mismatched(paid: readonly Order[], archived: Awaited<ReturnType<typeof archivedRows>>): string[] {
  const asPaid = new Map(
    paid.map((o) => [
      o.id,
      content({
        status: "paid",
        total: o.total.amount,
        currency: o.total.currency,
        lines: o.lines.map((l) => [l.sku, l.quantity, l.unit_price.amount, l.line_total.amount]),
      }),
    ]),
  );
  return archived.orders
    .filter(
      (row) =>
        asPaid.get(row.id) !==
        content({
          status: row.status,
          total: row.totalAmount,
          currency: row.currency,
          lines: archived.lines.filter((l) => l.orderId === row.id).map((l) => [l.sku, l.quantity, l.unitAmount, l.lineAmount]),
        }),
    )
    .map((row) => row.id);
}
