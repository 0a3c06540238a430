/**
 * Postgres schema: the archive of paid orders, the refunds due, and the queue messages that could
 * not be written (dead letters). Re-exported by db/schema.ts.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  char,
  check,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

export const orderStatus = pgEnum("order_status", ["pending_payment", "paid", "paid_unfulfillable", "cancelled", "expired"]);

export const orders = pgTable(
  "orders",
  {
    id: text("id").primaryKey(),
    cartId: text("cart_id").notNull(),
    status: orderStatus("status").notNull(),
    email: text("email").notNull(),
    totalAmount: bigint("total_amount", { mode: "number" }).notNull(),
    /** What promotions took off, and the tax (added to total_amount, or contained in it when tax_inclusive). */
    discountTotal: bigint("discount_total", { mode: "number" }).notNull().default(0),
    taxTotal: bigint("tax_total", { mode: "number" }).notNull().default(0),
    taxInclusive: boolean("tax_inclusive").notNull().default(false),
    /** The promotions applied: [{promotion_id, code, amount}] (null for orders archived before promotions). */
    discounts: jsonb("discounts").$type<Array<{ promotion_id: string; code: string | null; amount: number }>>(),
    currency: char("currency", { length: 3 }).notNull(),
    paymentId: text("payment_id"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull(),
    paidAt: timestamp("paid_at", { withTimezone: true, mode: "date" }),
    paymentExpiresAt: timestamp("payment_expires_at", { withTimezone: true, mode: "date" }).notNull(),
    archivedAt: timestamp("archived_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    // The back-office list: newest first with an id tiebreak, keyset-paginated, optionally by status.
    index("orders_created_at_id_idx").on(t.createdAt, t.id),
    index("orders_status_created_at_id_idx").on(t.status, t.createdAt, t.id),
    index("orders_paid_at_idx").on(t.paidAt),
    // The sales reports group and filter paid orders by the UTC day of payment (v_daily_sales,
    // v_sku_daily_sales); this expression is exactly theirs, so a day range is an index range.
    index("orders_paid_day_idx").on(sql`((${t.paidAt} AT TIME ZONE 'UTC')::date)`).where(sql`${t.status} = 'paid'`),
  ],
);

export const orderLines = pgTable(
  "order_lines",
  {
    orderId: text("order_id")
      .notNull()
      .references(() => orders.id, { onDelete: "cascade" }),
    sku: text("sku").notNull(),
    /**
     * The product and line title as sold (from the archival message). Nullable: lines archived
     * before these columns existed have neither; readers fall back to the SKU's current product.
     */
    productId: text("product_id"),
    title: text("title"),
    /** The line's place in the order (0-based), so the archive lists lines as the order did. */
    position: integer("position"),
    quantity: integer("quantity").notNull(),
    unitAmount: bigint("unit_amount", { mode: "number" }).notNull(),
    lineAmount: bigint("line_amount", { mode: "number" }).notNull(),
    discountAmount: bigint("discount_amount", { mode: "number" }).notNull().default(0),
    taxAmount: bigint("tax_amount", { mode: "number" }).notNull().default(0),
    currency: char("currency", { length: 3 }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.orderId, t.sku] }),
    index("order_lines_sku_idx").on(t.sku),
    check("order_lines_quantity_positive", sql`${t.quantity} > 0`),
  ],
);

/**
 * Queue messages that could not be archived (invalid, or failing past every retry), kept for
 * inspection and replay.
 */
export const deadLetters = pgTable(
  "dead_letters",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    queue: text("queue").notNull(),
    messageId: text("message_id").notNull(),
    body: jsonb("body").notNull(),
    error: text("error"),
    attempts: integer("attempts").notNull(),
    receivedAt: timestamp("received_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    replayedAt: timestamp("replayed_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [uniqueIndex("dead_letters_message_id_idx").on(t.queue, t.messageId)],
);

/**
 * Payments to give back: late payments (the order had expired or was cancelled), second payments,
 * and payments of orders whose stock could not be secured. Written by the archival consumer from
 * the cart objects' `payment.refund_due` messages, once per order and payment.
 */
export const refundsDue = pgTable(
  "refunds_due",
  {
    orderId: text("order_id").notNull(),
    paymentId: text("payment_id").notNull(),
    amount: bigint("amount", { mode: "number" }).notNull(),
    currency: char("currency", { length: 3 }).notNull(),
    reason: text("reason").notNull(),
    recordedAt: timestamp("recorded_at", { withTimezone: true, mode: "date" }).notNull(),
    refundedAt: timestamp("refunded_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [primaryKey({ columns: [t.orderId, t.paymentId] }), index("refunds_due_recorded_at_idx").on(t.recordedAt, t.orderId)],
);
