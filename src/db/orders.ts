/**
 * The order archive in Postgres, written by the queue consumer. Idempotent by order id: the queue
 * delivers at least once, so a redelivered order changes nothing.
 */
import { and, asc, desc, eq, gte, inArray, lt, sql } from "drizzle-orm";
import type { Order, OrderArchivedV1 } from "../contracts";
import type { Db } from "./client";
import { deadLetters, orderLines, orders, skus } from "./schema";

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
          discountTotal: order.discount_total?.amount ?? 0,
          taxTotal: order.tax_total?.amount ?? 0,
          taxInclusive: order.tax_inclusive ?? false,
          discounts: order.discounts?.map((d) => ({ promotion_id: d.promotion_id, code: d.code, amount: d.amount.amount })) ?? null,
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
        order.lines.map((line, position) => ({
          orderId: order.id,
          sku: line.sku,
          productId: line.product_id,
          title: line.title,
          position,
          quantity: line.quantity,
          unitAmount: line.unit_price.amount,
          lineAmount: line.line_total.amount,
          discountAmount: line.discount?.amount ?? 0,
          taxAmount: line.tax?.amount ?? 0,
          currency: line.line_total.currency,
        })),
      );
    if (lines.length > 0) await tx.insert(orderLines).values(lines).onConflictDoNothing();
    return fresh.size;
  });
}

/** Records a dead-lettered message once (by queue and message id). */
export async function recordDeadLetter(
  db: Db,
  entry: { queue: string; messageId: string; body: unknown; error: string | null; attempts: number },
): Promise<void> {
  await db
    .insert(deadLetters)
    .values({
      queue: entry.queue,
      messageId: entry.messageId,
      body: sql`${JSON.stringify(entry.body ?? null)}::jsonb`,
      error: entry.error,
      attempts: entry.attempts,
    })
    .onConflictDoNothing();
}

/**
 * A place in the archive's newest-first order. `created_at` is Postgres's own text of the
 * timestamp, to the microsecond: rows written by other tools (backfills, imports) may carry more
 * precision than a JavaScript Date, and a truncated position would skip or repeat them.
 */
export interface OrderPosition {
  created_at: string;
  id: string;
}

/** An archived order with its place in the listing. */
export interface ListedOrder {
  order: Order;
  position: OrderPosition;
}

/**
 * Archived orders, newest first (`created_at` desc, then `id` desc), strictly after `after` in
 * that order (keyset pagination), optionally only those in `status` and created in
 * [`createdFrom`, `createdBefore`). At most `limit`.
 */
export async function listArchivedOrders(
  db: Db,
  options: { limit: number; status?: Order["status"]; after?: OrderPosition; createdFrom?: Date; createdBefore?: Date },
): Promise<ListedOrder[]> {
  const { after, status, createdFrom, createdBefore } = options;
  const rows = await db
    .select({
      row: orders,
      position: sql<string>`to_char(${orders.createdAt} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    })
    .from(orders)
    .where(
      and(
        status !== undefined ? eq(orders.status, status) : undefined,
        createdFrom !== undefined ? gte(orders.createdAt, createdFrom) : undefined,
        createdBefore !== undefined ? lt(orders.createdAt, createdBefore) : undefined,
        // A row comparison, so that (status,) created_at, id indexes serve it as one range.
        after !== undefined ? sql`(${orders.createdAt}, ${orders.id}) < (${after.created_at}::timestamptz, ${after.id})` : undefined,
      ),
    )
    .orderBy(desc(orders.createdAt), desc(orders.id))
    .limit(options.limit);
  if (rows.length === 0) return [];
  const lines = await db
    .select({
      orderId: orderLines.orderId,
      sku: orderLines.sku,
      // Lines archived before product_id/title were recorded fall back to the SKU's product.
      productId: sql<string>`coalesce(${orderLines.productId}, ${skus.productId}, '')`,
      title: sql<string>`coalesce(${orderLines.title}, ${skus.title}, ${orderLines.sku})`,
      quantity: orderLines.quantity,
      unitAmount: orderLines.unitAmount,
      lineAmount: orderLines.lineAmount,
      discountAmount: orderLines.discountAmount,
      taxAmount: orderLines.taxAmount,
    })
    .from(orderLines)
    .leftJoin(skus, eq(skus.sku, orderLines.sku))
    .where(
      inArray(
        orderLines.orderId,
        rows.map(({ row }) => row.id),
      ),
    )
    .orderBy(asc(orderLines.orderId), sql`${orderLines.position} ASC NULLS LAST`, asc(orderLines.sku));
  const byOrder = new Map<string, typeof lines>();
  for (const line of lines) {
    const list = byOrder.get(line.orderId);
    if (list) list.push(line);
    else byOrder.set(line.orderId, [line]);
  }
  return rows.map(({ row, position }) => {
    const money = (amount: number) => ({ amount, currency: row.currency });
    return {
      order: {
        id: row.id,
        cart_id: row.cartId,
        status: row.status,
        email: row.email,
        lines: (byOrder.get(row.id) ?? []).map((line) => ({
          sku: line.sku,
          product_id: line.productId,
          title: line.title,
          quantity: line.quantity,
          unit_price: money(line.unitAmount),
          line_total: money(line.lineAmount),
          discount: money(line.discountAmount),
          tax: money(line.taxAmount),
        })),
        subtotal: money((byOrder.get(row.id) ?? []).reduce((total, line) => total + line.lineAmount, 0)),
        discounts: (row.discounts ?? []).map((d) => ({ promotion_id: d.promotion_id, code: d.code, amount: money(d.amount) })),
        discount_total: money(row.discountTotal),
        tax_total: money(row.taxTotal),
        tax_inclusive: row.taxInclusive,
        total: money(row.totalAmount),
        payment_expires_at: row.paymentExpiresAt.toISOString(),
        created_at: row.createdAt.toISOString(),
        paid_at: row.paidAt === null ? null : row.paidAt.toISOString(),
      },
      position: { created_at: position, id: row.id },
    };
  });
}
