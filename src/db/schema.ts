/**
 * Postgres schema (drizzle). Postgres is the system of record for the catalog and the archive of
 * paid orders for back-office reporting. `npm run db:generate` writes migrations/ from this file.
 * Money columns are integer minor units (bigint) beside an ISO 4217 currency.
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

export const productStatus = pgEnum("product_status", ["active", "archived"]);
export const promotionStatus = pgEnum("promotion_status", ["active", "archived"]);
export const orderStatus = pgEnum("order_status", ["pending_payment", "paid", "paid_unfulfillable", "cancelled", "expired"]);

export const products = pgTable(
  "products",
  {
    id: text("id").primaryKey(),
    title: text("title").notNull(),
    description: text("description"),
    category: text("category"),
    status: productStatus("status").notNull().default("active"),
    /** Bumped on every replace; lets caches and SKU objects ignore older publishes. */
    version: integer("version").notNull().default(1),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [index("products_category_id_idx").on(t.category, t.id), index("products_status_id_idx").on(t.status, t.id)],
);

export const skus = pgTable(
  "skus",
  {
    sku: text("sku").primaryKey(),
    productId: text("product_id")
      .notNull()
      .references(() => products.id, { onDelete: "cascade" }),
    title: text("title").notNull(),
    priceAmount: bigint("price_amount", { mode: "number" }).notNull(),
    currency: char("currency", { length: 3 }).notNull(),
    /** Overrides MAX_LINE_QUANTITY for this SKU when set. */
    maxLineQuantity: integer("max_line_quantity"),
    /** Order of the variant within its product. */
    position: integer("position").notNull().default(0),
    /**
     * Set when a replace dropped this variant. The SKU stays owned by its product (its stock and
     * history live on) but is no longer sold; re-adding it to the same product clears this.
     */
    retiredAt: timestamp("retired_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    index("skus_product_id_idx").on(t.productId),
    check("skus_price_non_negative", sql`${t.priceAmount} >= 0`),
    check("skus_max_line_quantity_positive", sql`${t.maxLineQuantity} IS NULL OR ${t.maxLineQuantity} > 0`),
  ],
);

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
 * Transactional outbox for catalog publishing: written in the same transaction as a product
 * change, deleted once KV and the SKU objects have the version. Whatever is left (a KV error, a
 * Worker that died after the commit) is published again by the cron trigger, so the edge never
 * stays stale.
 */
export const catalogPublishQueue = pgTable("catalog_publish_queue", {
  productId: text("product_id").primaryKey(),
  version: integer("version").notNull(),
  attempts: integer("attempts").notNull().default(0),
  lastError: text("last_error"),
  enqueuedAt: timestamp("enqueued_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

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
 * The latest stock of every SKU as its InventoryObject last reported it (within seconds of a
 * change, plus a full snapshot by cron). `ledger_seq` is the object's ledger position: an older
 * or repeated report never overwrites a newer one. The low-stock report and `restore` read it.
 */
export const inventoryLevels = pgTable(
  "inventory_levels",
  {
    sku: text("sku").primaryKey(),
    onHand: integer("on_hand").notNull(),
    reserved: integer("reserved").notNull(),
    available: integer("available").notNull(),
    sold: integer("sold").notNull(),
    ledgerSeq: bigint("ledger_seq", { mode: "number" }).notNull(),
    reportedAt: timestamp("reported_at", { withTimezone: true, mode: "date" }).notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    index("inventory_levels_available_idx").on(t.available),
    check("inventory_levels_non_negative", sql`${t.onHand} >= 0 AND ${t.reserved} >= 0 AND ${t.available} >= 0`),
  ],
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

/**
 * Storefront keys: secrets the back office issues to server-side storefronts, which then pass
 * each shopper's IP for the per-IP limits (docs/api.md "Server-side storefronts"). Only the hex
 * SHA-256 of a key is stored, never the key; the live ones are published to KV (STOREFRONT_KEYS)
 * by that hash. A revoked key keeps its row (`revoked_at`) for the record.
 */
export const storefrontKeys = pgTable(
  "storefront_keys",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    keyHash: text("key_hash").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    uniqueIndex("storefront_keys_key_hash_idx").on(t.keyHash),
    // The back-office list: newest first with an id tiebreak, keyset-paginated.
    index("storefront_keys_created_at_id_idx").on(t.createdAt, t.id),
  ],
);

/** What a promotion takes off and from what (`definition`): the parts carts price with, as the admin API took them. */
export interface PromotionDefinition {
  value: { kind: "percent"; basis_points: number } | { kind: "fixed"; amounts: Record<string, number> };
  target:
    | { kind: "order" }
    | { kind: "skus"; skus: string[] }
    | { kind: "products"; product_ids: string[] }
    | { kind: "categories"; categories: string[] };
  allocation: "across" | "each";
  conditions: { min_subtotal?: Record<string, number>; min_quantity?: number };
}

/**
 * Promotions (discount codes and automatic promotions): the system of record. Every change bumps
 * `version`; the edge (the promotion's PromotionObject, and for automatic ones the KV list) is
 * confirmed at `published_version`, and the minute cron republishes any row where it is behind.
 * A code is stored upper case and never changes once set, nor does its absence: the object that
 * counts a code's redemptions is named by it. Deleting keeps the row (`deleted_at`), so a deleted
 * promotion's code stays taken and its object keeps counting under the same versions.
 */
export const promotions = pgTable(
  "promotions",
  {
    id: text("id").primaryKey(),
    code: text("code"),
    definition: jsonb("definition").$type<PromotionDefinition>().notNull(),
    startsAt: timestamp("starts_at", { withTimezone: true, mode: "date" }),
    endsAt: timestamp("ends_at", { withTimezone: true, mode: "date" }),
    usageLimit: integer("usage_limit"),
    combinable: boolean("combinable").notNull().default(true),
    priority: integer("priority").notNull().default(0),
    status: promotionStatus("status").notNull().default("active"),
    version: integer("version").notNull().default(1),
    publishedVersion: integer("published_version").notNull().default(0),
    deletedAt: timestamp("deleted_at", { withTimezone: true, mode: "date" }),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("promotions_code_idx").on(t.code),
    // The cron's look for what the edge lacks.
    index("promotions_unpublished_idx").on(t.id).where(sql`${t.publishedVersion} < ${t.version}`),
    check("promotions_code_normalized", sql`${t.code} IS NULL OR ${t.code} = upper(${t.code})`),
    check("promotions_window", sql`${t.startsAt} IS NULL OR ${t.endsAt} IS NULL OR ${t.endsAt} > ${t.startsAt}`),
    check("promotions_usage_limit_positive", sql`${t.usageLimit} IS NULL OR ${t.usageLimit} > 0`),
  ],
);

/**
 * Tax rates per destination country (TAX_MODE=rates), published to the edge as one KV value (the
 * whole table). `version` is bumped by every change of a country's rate; `published_version` is
 * the version the edge's table was last confirmed to hold. A deleted rate's row is removed (the
 * edge table is rewritten whole by the delete and by the minute cron).
 */
export const taxRates = pgTable(
  "tax_rates",
  {
    country: char("country", { length: 2 }).primaryKey(),
    basisPoints: integer("basis_points").notNull(),
    inclusive: boolean("inclusive").notNull(),
    version: integer("version").notNull().default(1),
    publishedVersion: integer("published_version").notNull().default(0),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    check("tax_rates_basis_points_range", sql`${t.basisPoints} BETWEEN 0 AND 10000`),
    check("tax_rates_country_upper", sql`${t.country} ~ '^[A-Z]{2}$'`),
  ],
);

// ---- outgoing webhooks (docs/storage.md "Outgoing webhooks") ------------------------------------

/**
 * Where the merchant wants events: a URL (checked against private and loopback hosts on every
 * write and again before every attempt), the event types, and the Standard Webhooks signing
 * secret (`whsec_…`), which the API shows once, at creation. The Worker signs with it, so it is
 * kept as issued: whoever reads this table can sign events as edgecart.
 */
export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    id: text("id").primaryKey(),
    url: text("url").notNull(),
    description: text("description"),
    eventTypes: text("event_types").array().notNull(),
    secret: text("secret").notNull(),
    enabled: boolean("enabled").notNull().default(true),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [index("webhook_endpoints_created_at_id_idx").on(t.createdAt, t.id)],
);

/** Each event sent to at least one endpoint, as sent (`id` is the `webhook-id` of every attempt). */
export const webhookEvents = pgTable(
  "webhook_events",
  {
    id: text("id").primaryKey(),
    type: text("type").notNull(),
    payload: jsonb("payload").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [index("webhook_events_created_at_idx").on(t.createdAt)],
);

/** One event to one endpoint: its state across attempts (`pending`, `delivered`, `failed`, `dead`). */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    eventId: text("event_id")
      .notNull()
      .references(() => webhookEvents.id, { onDelete: "cascade" }),
    endpointId: text("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    status: text("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    /** When its first delivery message was queued (null: the fan-out still owes it). */
    queuedAt: timestamp("queued_at", { withTimezone: true, mode: "date" }),
    /** An attempt in flight holds the delivery until then, so two copies of a message never send at once. */
    leaseUntil: timestamp("lease_until", { withTimezone: true, mode: "date" }),
    nextRetryAt: timestamp("next_retry_at", { withTimezone: true, mode: "date" }),
    deliveredAt: timestamp("delivered_at", { withTimezone: true, mode: "date" }),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_event_endpoint_idx").on(t.eventId, t.endpointId),
    index("webhook_deliveries_endpoint_id_idx").on(t.endpointId),
    check("webhook_deliveries_status", sql`${t.status} IN ('pending', 'delivered', 'failed', 'dead')`),
  ],
);

/** Every attempt: what the receiver answered, how long it took, and when the next one is due. */
export const webhookAttempts = pgTable(
  "webhook_attempts",
  {
    id: text("id").primaryKey(),
    deliveryId: text("delivery_id")
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: "cascade" }),
    endpointId: text("endpoint_id").notNull(),
    eventId: text("event_id").notNull(),
    eventType: text("event_type").notNull(),
    attempt: integer("attempt").notNull(),
    statusCode: integer("status_code"),
    latencyMs: integer("latency_ms").notNull(),
    error: text("error"),
    nextRetryAt: timestamp("next_retry_at", { withTimezone: true, mode: "date" }),
    attemptedAt: timestamp("attempted_at", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [
    // The back-office list: newest first, keyset-paginated, all endpoints or one.
    index("webhook_attempts_attempted_at_id_idx").on(t.attemptedAt, t.id),
    index("webhook_attempts_endpoint_attempted_at_id_idx").on(t.endpointId, t.attemptedAt, t.id),
    index("webhook_attempts_delivery_id_idx").on(t.deliveryId),
  ],
);

/**
 * Stock alerts per SKU: its own low-stock threshold (null: LOW_STOCK_THRESHOLD) and the state of
 * the last level report the webhooks consumer saw (`ok`, `low`, `out`; null: none yet), with its
 * ledger position: one `inventory.low` per crossing, an older or repeated report changes nothing.
 */
export const stockAlerts = pgTable(
  "stock_alerts",
  {
    sku: text("sku").primaryKey(),
    lowThreshold: integer("low_threshold"),
    state: text("state"),
    ledgerSeq: bigint("ledger_seq", { mode: "number" }).notNull().default(0),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    check("stock_alerts_state", sql`${t.state} IS NULL OR ${t.state} IN ('ok', 'low', 'out')`),
    check("stock_alerts_threshold", sql`${t.lowThreshold} IS NULL OR ${t.lowThreshold} >= 0`),
  ],
);
