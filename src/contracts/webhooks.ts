/**
 * Outgoing webhooks (docs/api.md "Outgoing webhooks"): the endpoints a merchant registers, the
 * events edgecart sends them (Standard Webhooks payloads), the delivery attempts the back office
 * lists, per-SKU low-stock thresholds, and the messages of the queue `edgecart-webhooks`.
 */
import * as z from "zod";
import { PageQuery, Sku, Timestamp } from "./common";
import { InventoryLevelV1 } from "./inventory";
import { Order, OrderArchivedV1, RefundDueV1 } from "./orders";

/** Every event type an endpoint may subscribe to. */
export const WebhookEventType = z.enum([
  "order.paid",
  "order.cancelled",
  "order.expired",
  "order.refund_due",
  "inventory.low",
  "inventory.out_of_stock",
]);
export type WebhookEventType = z.infer<typeof WebhookEventType>;

export const WebhookEndpointId = z.string().regex(/^we_[0-9a-f]{32}$/, "must be a webhook endpoint id (we_ and 32 hex characters)");
export const WebhookDeliveryId = z.string().regex(/^whd_[0-9a-f]{32}$/, "must be a webhook delivery id (whd_ and 32 hex characters)");
export const WebhookAttemptId = z.string().regex(/^wha_[0-9a-f]{32}$/);
/** The event's id, sent as `webhook-id` on every attempt to every endpoint: receivers dedupe by it. */
export const WebhookEventId = z.string().regex(/^evt_[0-9a-f]{32}$/, "must be an event id (evt_ and 32 hex characters)");

/** The signing secret, Standard Webhooks form: `whsec_` and the base64 of 32 random bytes. */
export const WebhookSecret = z.string().regex(/^whsec_[A-Za-z0-9+/]{43}=$/);

export const WebhookEndpointParams = z.strictObject({ endpoint_id: WebhookEndpointId });
export const WebhookDeliveryParams = z.strictObject({ delivery_id: WebhookDeliveryId });

const EventTypes = z
  .array(WebhookEventType)
  .min(1)
  .max(WebhookEventType.options.length)
  .refine((types) => new Set(types).size === types.length, "must not repeat a type")
  .describe("The event types this endpoint receives");

/** The body of `POST` (create) and `PUT` (replace) on webhook endpoints. */
export const WebhookEndpointBody = z.strictObject({
  url: z
    .string()
    .max(2048)
    .describe(
      "Where events are POSTed: https only, never a private, loopback or link-local address (loopback over http only where WEBHOOKS_ALLOW_LOOPBACK is on)",
    ),
  event_types: EventTypes,
  description: z.string().trim().max(200).optional().describe("What the endpoint is for (at most 200 characters)"),
  enabled: z.boolean().default(true).describe("A disabled endpoint is sent nothing (default true)"),
});
export type WebhookEndpointBody = z.infer<typeof WebhookEndpointBody>;

export const WebhookEndpointListQuery = z.strictObject({ ...PageQuery });

/** An endpoint as the back office lists it: never its secret. */
export const WebhookEndpoint = z
  .object({
    id: WebhookEndpointId,
    url: z.string(),
    event_types: z.array(WebhookEventType),
    description: z.string().nullable(),
    enabled: z.boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .meta({ id: "WebhookEndpoint" });
export type WebhookEndpoint = z.infer<typeof WebhookEndpoint>;

export const CreatedWebhookEndpoint = WebhookEndpoint.extend({
  secret: WebhookSecret.describe("The signing secret (Standard Webhooks), shown in this answer only"),
});
export type CreatedWebhookEndpoint = z.infer<typeof CreatedWebhookEndpoint>;

export const WebhookEndpointPage = z.object({ data: z.array(WebhookEndpoint), next_cursor: z.string().nullable() });

export const WebhookDeliveryStatus = z.enum(["pending", "delivered", "failed", "dead"]);
export type WebhookDeliveryStatus = z.infer<typeof WebhookDeliveryStatus>;

export const WebhookDeliveryListQuery = z.strictObject({
  endpoint: WebhookEndpointId.optional().describe("Only this endpoint's attempts"),
  ...PageQuery,
});

/** One attempt to deliver one event to one endpoint. */
export const WebhookAttempt = z
  .object({
    id: WebhookAttemptId,
    delivery_id: WebhookDeliveryId.describe("The delivery (one event to one endpoint) this attempt belongs to; redeliver by this id"),
    endpoint_id: WebhookEndpointId,
    event_id: WebhookEventId.describe("Sent as webhook-id, the same on every attempt"),
    event_type: WebhookEventType,
    attempt: z.number().int().min(1).describe("1 for the first attempt of a delivery (a redelivery starts again at 1)"),
    status_code: z.number().int().nullable().describe("The receiver's HTTP status, or null when no answer came"),
    latency_ms: z.number().int().min(0),
    error: z.string().nullable().describe("Why the attempt failed (timeout, refused URL, status), or null"),
    next_retry_at: Timestamp.nullable().describe("When the next attempt is due; null when delivered, failed for good or dead-lettered"),
    attempted_at: Timestamp,
    delivery_status: WebhookDeliveryStatus.describe("The delivery's status now"),
  })
  .meta({ id: "WebhookAttempt" });
export type WebhookAttempt = z.infer<typeof WebhookAttempt>;

export const WebhookAttemptPage = z.object({ data: z.array(WebhookAttempt), next_cursor: z.string().nullable() });

export const RedeliveryAccepted = z.object({ delivery_id: WebhookDeliveryId, event_id: WebhookEventId, status: z.literal("pending") });

/** Per-SKU threshold of `inventory.low` (PUT body); null falls back to LOW_STOCK_THRESHOLD. */
export const StockAlertBody = z.strictObject({
  low_stock_threshold: z
    .number()
    .int()
    .min(0)
    .max(1_000_000_000)
    .nullable()
    .describe("inventory.low fires when available drops to this or below; null: the LOW_STOCK_THRESHOLD default"),
});
export const StockAlertParams = z.strictObject({ sku: Sku });
export const StockAlert = z
  .object({
    sku: Sku,
    low_stock_threshold: z.number().int().nullable().describe("This SKU's own threshold, or null"),
    effective_threshold: z.number().int().describe("The threshold in force (its own, else LOW_STOCK_THRESHOLD)"),
    state: z.enum(["ok", "low", "out"]).nullable().describe("The stock state of the last level report seen (null: none seen yet)"),
  })
  .meta({ id: "StockAlert" });
export type StockAlert = z.infer<typeof StockAlert>;

// ---- the events (payloads POSTed to endpoints) ------------------------------------------------

/** The data of `order.paid`: the paid order exactly as it is archived in Postgres. */
export const PaidOrderData = OrderArchivedV1.shape.order;

/** A stock event's data: the SKU's levels at the report that crossed the threshold. */
export const StockEventData = z.object({
  sku: Sku,
  on_hand: z.number().int(),
  reserved: z.number().int(),
  available: z.number().int(),
  threshold: z.number().int().describe("The low-stock threshold in force"),
  ledger_seq: z.number().int().describe("The SKU's ledger position of the report"),
});

const envelope = <T extends string, D extends z.ZodType>(type: T, data: D) =>
  z.object({ id: WebhookEventId, type: z.literal(type), timestamp: Timestamp.describe("When the event happened"), data });

/** What an endpoint receives (Standard Webhooks payload: `type`, `timestamp`, `data`, plus the `id`). */
export const WebhookEventPayload = z
  .discriminatedUnion("type", [
    envelope("order.paid", PaidOrderData),
    envelope("order.cancelled", Order),
    envelope("order.expired", Order),
    envelope("order.refund_due", RefundDueV1.shape.refund),
    envelope("inventory.low", StockEventData),
    envelope("inventory.out_of_stock", StockEventData),
  ])
  .meta({ id: "WebhookEvent" });
export type WebhookEventPayload = z.infer<typeof WebhookEventPayload>;

// ---- queue `edgecart-webhooks` ------------------------------------------------------------------

/**
 * An order event from a cart object's outbox: the fan-out stores it and its deliveries, then
 * confirms `key` to the cart (`confirmDelivered`), which resends it until then.
 */
export const WebhookEventV1 = z.object({
  type: z.literal("webhook.event"),
  version: z.literal(1),
  event: WebhookEventPayload,
  /** The cart object to confirm to, and its outbox key. */
  source: z.object({ cart_id: z.string().regex(/^[0-9a-f]{64}$/), key: z.string().min(1).max(200) }),
});
export type WebhookEventV1 = z.infer<typeof WebhookEventV1>;

/** One delivery to attempt (again): the consumer reads the event and endpoint from Postgres. */
export const WebhookDeliveryV1 = z.object({ type: z.literal("webhook.delivery"), version: z.literal(1), delivery_id: WebhookDeliveryId });
export type WebhookDeliveryV1 = z.infer<typeof WebhookDeliveryV1>;

/** Every message the webhooks queue carries: order events, SKU level reports, deliveries. */
export const WebhookQueueMessage = z.discriminatedUnion("type", [WebhookEventV1, InventoryLevelV1, WebhookDeliveryV1]);
export type WebhookQueueMessage = z.infer<typeof WebhookQueueMessage>;
