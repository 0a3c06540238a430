/**
 * Refunds due in Postgres (`refunds_due`), written by the archival consumer from the cart
 * objects' `payment.refund_due` messages; idempotent per order and payment.
 */
import { desc, sql } from "drizzle-orm";
import type { RefundDueV1 } from "../contracts";
import type { Db } from "./client";
import { refundsDue } from "./schema";

/** Records refunds due; one already recorded is left as it is. Returns how many were new. */
export async function recordRefunds(db: Db, messages: readonly RefundDueV1[]): Promise<number> {
  if (messages.length === 0) return 0;
  const rows = await db
    .insert(refundsDue)
    .values(
      messages.map(({ refund }) => ({
        orderId: refund.order_id,
        paymentId: refund.payment_id,
        amount: refund.amount.amount,
        currency: refund.amount.currency,
        reason: refund.reason,
        recordedAt: new Date(refund.recorded_at),
      })),
    )
    .onConflictDoNothing()
    .returning({ orderId: refundsDue.orderId });
  return rows.length;
}

/** A place in the newest-first listing: `recorded_at` (Postgres's own text, to the microsecond), order and payment. */
export interface RefundPosition {
  recorded_at: string;
  order_id: string;
  payment_id: string;
}

/** Refunds due, newest first, strictly after `after` in that order. */
export async function listRefunds(db: Db, options: { limit: number; after?: RefundPosition }) {
  const { after } = options;
  const rows = await db
    .select({
      row: refundsDue,
      position: sql<string>`to_char(${refundsDue.recordedAt} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    })
    .from(refundsDue)
    .where(
      after === undefined
        ? undefined
        : sql`(${refundsDue.recordedAt}, ${refundsDue.orderId}, ${refundsDue.paymentId}) < (${after.recorded_at}::timestamptz, ${after.order_id}, ${after.payment_id})`,
    )
    .orderBy(desc(refundsDue.recordedAt), desc(refundsDue.orderId), desc(refundsDue.paymentId))
    .limit(options.limit);
  return rows.map(({ row, position }) => ({
    refund: {
      order_id: row.orderId,
      payment_id: row.paymentId,
      amount: { amount: row.amount, currency: row.currency },
      reason: row.reason,
      recorded_at: row.recordedAt.toISOString(),
      refunded_at: row.refundedAt === null ? null : row.refundedAt.toISOString(),
    },
    position: { recorded_at: position, order_id: row.orderId, payment_id: row.paymentId },
  }));
}
