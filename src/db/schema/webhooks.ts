/** Postgres schema: outgoing webhooks (docs/storage.md "Outgoing webhooks"). Re-exported by db/schema.ts. */
import { sql } from "drizzle-orm";
import { bigint, boolean, check, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

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
