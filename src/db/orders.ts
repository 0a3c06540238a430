/**
 * The order archive in Postgres, written by the queue consumer. Idempotent by order id: the queue
 * delivers at least once, so a redelivered order changes nothing.
 */
import { sql } from "drizzle-orm";
import type { OrderArchivedV1 } from "../contracts";
import type { Db } from "./client";
import { deadLetters, orderLines, orders } from "./schema";

/** Archives paid orders and their lines in one transaction; already archived ones are skipped. Returns how many were new. */
export async function archiveOrders(db: Db, messages: readonly OrderArchivedV1[]): Promise<number> {
  if (messages.length === 0) return 0;
  return db.transaction(async (tx) => {
    const inserted = await tx
      .insert(orders)
      .values(
        messages.map(({ order }) => ({
          id: order.id,
          cartId: order.cart_id,
          status: order.status,
          email: order.email,
          totalAmount: order.total.amount,
          currency: order.total.currency,
          paymentId: order.payment_id,
          createdAt: new Date(order.created_at),
          paidAt: new Date(order.paid_at),
          paymentExpiresAt: new Date(order.payment_expires_at),
        })),
      )
      .onConflictDoNothing({ target: orders.id })
      .returning({ id: orders.id });
    const fresh = new Set(inserted.map((r) => r.id));
    const lines = messages
      .filter(({ order }) => fresh.has(order.id))
      .flatMap(({ order }) =>
        order.lines.map((line) => ({
          orderId: order.id,
          sku: line.sku,
          quantity: line.quantity,
          unitAmount: line.unit_price.amount,
          lineAmount: line.line_total.amount,
          currency: line.line_total.currency,
        })),
      );
    if (lines.length > 0) await tx.insert(orderLines).values(lines).onConflictDoNothing();
    return fresh.size;
  });
}

/** Records a dead-lettered message once (by queue and message id). */
export async function recordDeadLetter(db: Db, entry: { queue: string; messageId: string; body: unknown; error: string | null; attempts: number }): Promise<void> {
  await db
    .insert(deadLetters)
    .values({ queue: entry.queue, messageId: entry.messageId, body: sql`${JSON.stringify(entry.body ?? null)}::jsonb`, error: entry.error, attempts: entry.attempts })
    .onConflictDoNothing();
}
