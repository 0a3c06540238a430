/**
 * Outgoing webhooks, end to end:
 * 1. Order events are written to the cart object's outbox in the transaction that changes the
 *    order (objects/order-store.ts): paid, cancelled, expired, refund due. The cart object sends
 *    them here (queue `edgecart-webhooks`) and resends until this consumer confirms them.
 * 2. SKU objects send their level reports here too (at most one per SKU per second). This consumer
 *    keeps each SKU's alert state in Postgres (`stock_alerts`, with the report's ledger position)
 *    and turns a crossing into one `inventory.low` / `inventory.out_of_stock` event.
 * 3. Fan-out: the events wanted by at least one enabled endpoint (the list is cached for
 *    {@link ENDPOINT_CACHE_MS}) are stored with one delivery per endpoint, in the same Postgres
 *    transaction as the stock state; then one `webhook.delivery` message per delivery is queued,
 *    and order events are confirmed to their cart objects.
 * 4. Delivery: each message is one attempt. The delivery is leased in Postgres (one attempt at a
 *    time), the endpoint read fresh (disabled or deleted: nothing is sent), its URL checked again,
 *    the event signed (Standard Webhooks; `webhook-id` is the event id on every attempt) and
 *    POSTed with a 10 s timeout, redirects not followed. Every attempt is recorded. A failure is
 *    retried by the queue on the schedule of domain/webhooks.ts (8 attempts over 27.6 h), then the
 *    delivery is dead-lettered (`edgecart-webhooks-dlq`).
 */
import { Webhook } from "standardwebhooks";
import { z } from "zod";
import {
  type InventoryLevelV1,
  type WebhookDeliveryV1,
  type WebhookEventPayload,
  type WebhookEventType,
  type WebhookEventV1,
  WebhookQueueMessage,
} from "../contracts";
import { withDb } from "../db/client";
import { recordDeadLetter } from "../db/orders";
import {
  claimDelivery,
  type EndpointRef,
  enabledEndpoints,
  fanOut,
  markDeliveryDead,
  markQueued,
  recordAttempt,
  type StockAlertRow,
} from "../db/webhooks";
import {
  checkWebhookUrl,
  delivered,
  endpointWants,
  type StockState,
  stockCrossings,
  stockState,
  WEBHOOK_MAX_ATTEMPTS,
  WEBHOOK_TIMEOUT_MS,
  webhookRetryDelay,
} from "../domain/webhooks";
import { cartStub } from "../objects/stubs";
import { toHex } from "../platform/crypto";
import { errorFields, log } from "../platform/log";
import { describeIssues, retryDelaySeconds } from "./archival";
import { WEBHOOKS_QUEUE } from "./queues";

/** How long the fan-out trusts its list of endpoints (per isolate). */
export const ENDPOINT_CACHE_MS = 10_000;
/** How long one attempt holds its delivery (the 10 s timeout and the bookkeeping around it). */
const LEASE_MS = 30_000;
const QUEUE_SEND_BATCH = 100;

/** The webhook settings from vars. */
export function webhookSettings(env: Env): { allowLoopback: boolean; lowStockThreshold: number } {
  const threshold = z.coerce
    .number()
    .int()
    .min(0)
    .max(1_000_000_000)
    .catch(5)
    .parse(env.LOW_STOCK_THRESHOLD ?? "5");
  return { allowLoopback: env.WEBHOOKS_ALLOW_LOOPBACK === "on", lowStockThreshold: threshold };
}

/** A new random id with `prefix` (`we_`, `whd_`, `wha_`, `evt_`). */
export function newId(prefix: string): string {
  return `${prefix}${toHex(crypto.getRandomValues(new Uint8Array(16)))}`;
}

let cached: { at: number; endpoints: Promise<EndpointRef[]> } | null = null;

/** The enabled endpoints, read at most every {@link ENDPOINT_CACHE_MS} per isolate. */
function endpoints(env: Env): Promise<EndpointRef[]> {
  const now = Date.now();
  if (cached === null || now - cached.at > ENDPOINT_CACHE_MS) {
    const entry = { at: now, endpoints: withDb(env, (db) => enabledEndpoints(db)) };
    entry.endpoints.catch(() => {
      if (cached === entry) cached = null;
    });
    cached = entry;
  }
  return cached.endpoints;
}

/** Forgets the cached endpoints (after an admin write in this isolate; other isolates follow within the cache time). */
export function forgetWebhookEndpoints(): void {
  cached = null;
}

/** Consumes the webhooks queue: order events and level reports to fan out, deliveries to attempt. */
export async function consumeWebhooks(batch: MessageBatch, env: Env): Promise<void> {
  const fan: Array<{ message: Message; body: WebhookEventV1 | InventoryLevelV1 }> = [];
  const deliveries: Array<{ message: Message; body: WebhookDeliveryV1 }> = [];
  for (const message of batch.messages) {
    const parsed = WebhookQueueMessage.safeParse(message.body);
    if (!parsed.success) await deadLetter(env, message, `invalid message: ${describeIssues(parsed.error.issues)}`);
    else if (parsed.data.type === "webhook.delivery") deliveries.push({ message, body: parsed.data });
    else fan.push({ message, body: parsed.data });
  }
  await Promise.all([
    fan.length > 0 ? fanOutBatch(env, fan) : undefined,
    ...deliveries.map((item) => attempt(env, item.message, item.body)),
  ]);
}

/** The stock rule for one report, as the fan-out applies it under the SKU's row lock. */
function stockDecision(defaultThreshold: number) {
  return (row: StockAlertRow, report: InventoryLevelV1): { state: string; events: WebhookEventPayload[] } => {
    const threshold = row.low_threshold ?? defaultThreshold;
    const state = stockState(report.available, threshold);
    const events = stockCrossings(row.state as StockState | null, state).map(
      (type): WebhookEventPayload => ({
        id: newId("evt_"),
        type,
        timestamp: report.reported_at,
        data: {
          sku: report.sku,
          on_hand: report.on_hand,
          reserved: report.reserved,
          available: report.available,
          threshold,
          ledger_seq: report.ledger_seq,
        },
      }),
    );
    return { state, events };
  };
}

async function fanOutBatch(env: Env, items: Array<{ message: Message; body: WebhookEventV1 | InventoryLevelV1 }>): Promise<void> {
  try {
    const list = await endpoints(env);
    const wants = (type: WebhookEventType) => list.filter((endpoint) => endpointWants(endpoint, type)).map((endpoint) => endpoint.id);
    const events = items.flatMap(({ body }) => (body.type === "webhook.event" ? [body.event] : []));
    // No endpoint wants stock events: nothing to track (a later subscriber starts from "ok").
    const stockWanted = wants("inventory.low").length + wants("inventory.out_of_stock").length > 0;
    const reports = stockWanted ? items.flatMap(({ body }) => (body.type === "inventory.level" ? [body] : [])) : [];
    const needsDb = reports.length > 0 || events.some((event) => wants(event.type).length > 0);
    if (needsDb) {
      const decide = stockDecision(webhookSettings(env).lowStockThreshold);
      const { deliveries } = await withDb(env, (db) => fanOut(db, { events, reports, decide, wants, newDeliveryId: () => newId("whd_") }));
      await queueDeliveries(env, deliveries);
    }
    for (const { message } of items) message.ack();
  } catch (error) {
    log("warn", "webhook fan-out failed; retrying the batch", { batch: items.length, ...errorFields(error) });
    for (const { message } of items) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    return;
  }
  await confirm(
    env,
    items.flatMap(({ body }) => (body.type === "webhook.event" ? [body.source] : [])),
  );
}

/** Queues the first message of each delivery, then notes it (a crash in between queues it again: an attempt too many, never one too few). */
async function queueDeliveries(env: Env, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += QUEUE_SEND_BATCH) {
    const chunk = ids.slice(i, i + QUEUE_SEND_BATCH);
    const body = (id: string): WebhookDeliveryV1 => ({ type: "webhook.delivery", version: 1, delivery_id: id });
    await env.WEBHOOKS_QUEUE.sendBatch(chunk.map((id) => ({ body: body(id), contentType: "json" as const })));
    await withDb(env, (db) => markQueued(db, chunk, new Date()));
  }
}

/** Tells each order event's cart object that its event is stored (it stops resending it). */
async function confirm(env: Env, sources: ReadonlyArray<{ cart_id: string; key: string }>): Promise<void> {
  await Promise.all(
    sources.map(async ({ cart_id, key }) => {
      try {
        await cartStub(env, cart_id)?.confirmDelivered(key);
      } catch (error) {
        log("warn", "webhook event confirmation failed; the cart object will send again", { cart_id, key, ...errorFields(error) });
      }
    }),
  );
}

/** The headers and body of one signed attempt. */
export function signedRequest(
  secret: string,
  eventId: string,
  payload: unknown,
  at: Date,
): { headers: Record<string, string>; body: string } {
  const body = JSON.stringify(payload);
  const signature = new Webhook(secret).sign(eventId, at, body);
  return {
    body,
    headers: {
      "content-type": "application/json",
      "user-agent": "edgecart-webhooks/1",
      "webhook-id": eventId,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": signature,
    },
  };
}

/** POSTs one attempt: the receiver's status, or the error that kept it from answering. */
async function post(
  url: string,
  request: { headers: Record<string, string>; body: string },
): Promise<{ status: number | null; error: string | null; latencyMs: number }> {
  const started = performance.now();
  const since = Date.now();
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: request.headers,
      body: request.body,
      redirect: "manual",
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    await response.body?.cancel().catch(() => undefined);
    const latencyMs = Math.max(0, Math.round(performance.now() - started) || Date.now() - since);
    return { status: response.status, error: delivered(response.status) ? null : `the receiver answered ${response.status}`, latencyMs };
  } catch (error) {
    const latencyMs = Math.max(0, Date.now() - since);
    const timeout = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    return {
      status: null,
      error: timeout
        ? `no answer within ${WEBHOOK_TIMEOUT_MS / 1000} s`
        : `request failed: ${error instanceof Error ? error.message : String(error)}`.slice(0, 500),
      latencyMs,
    };
  }
}

/** One delivery attempt (see the header). */
async function attempt(env: Env, message: Message, body: WebhookDeliveryV1): Promise<void> {
  try {
    await withDb(env, async (db) => {
      const now = new Date();
      const claim = await claimDelivery(db, body.delivery_id, now, new Date(now.getTime() + LEASE_MS));
      if (claim.kind === "busy") return message.retry({ delaySeconds: LEASE_MS / 1000 });
      if (claim.kind !== "claimed") return message.ack();
      const { delivery } = claim;
      const number = delivery.attempts + 1;
      const base = {
        id: newId("wha_"),
        deliveryId: delivery.id,
        endpointId: delivery.endpoint?.id ?? "",
        eventId: delivery.event.id,
        eventType: delivery.event.type,
        attempt: number,
      };
      const endpoint = delivery.endpoint;
      if (endpoint === null || !endpoint.enabled) {
        await recordAttempt(
          db,
          {
            ...base,
            endpointId: endpoint?.id ?? base.endpointId,
            statusCode: null,
            latencyMs: 0,
            error: "the endpoint is disabled: nothing was sent",
            nextRetryAt: null,
            attemptedAt: now,
          },
          "failed",
        );
        return message.ack();
      }
      const allowed = checkWebhookUrl(endpoint.url, { allowLoopback: webhookSettings(env).allowLoopback });
      if (!allowed.ok) {
        log("warn", "webhook URL refused at delivery", { endpoint_id: endpoint.id, reason: allowed.reason });
        await recordAttempt(
          db,
          {
            ...base,
            statusCode: null,
            latencyMs: 0,
            error: `URL refused: ${allowed.reason}; nothing was sent`,
            nextRetryAt: null,
            attemptedAt: now,
          },
          "failed",
        );
        return message.ack();
      }
      const result = await post(allowed.url, signedRequest(endpoint.secret, delivery.event.id, delivery.event.payload, now));
      if (result.status !== null && delivered(result.status)) {
        await recordAttempt(
          db,
          { ...base, statusCode: result.status, latencyMs: result.latencyMs, error: null, nextRetryAt: null, attemptedAt: now },
          "delivered",
        );
        return message.ack();
      }
      const delay = webhookRetryDelay(number);
      if (delay === null) {
        await recordAttempt(
          db,
          {
            ...base,
            statusCode: result.status,
            latencyMs: result.latencyMs,
            error: `${result.error}; dead-lettered after ${WEBHOOK_MAX_ATTEMPTS} attempts`,
            nextRetryAt: null,
            attemptedAt: now,
          },
          "dead",
        );
        await env.WEBHOOKS_DLQ.send(
          { ...body, reason: `failed ${WEBHOOK_MAX_ATTEMPTS} attempts; last: ${result.error}` },
          { contentType: "json" },
        );
        return message.ack();
      }
      await recordAttempt(
        db,
        {
          ...base,
          statusCode: result.status,
          latencyMs: result.latencyMs,
          error: result.error,
          nextRetryAt: new Date(now.getTime() + delay * 1000),
          attemptedAt: now,
        },
        "pending",
      );
      message.retry({ delaySeconds: delay });
    });
  } catch (error) {
    log("warn", "webhook delivery bookkeeping failed; retrying", { delivery_id: body.delivery_id, ...errorFields(error) });
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  }
}

/** Sends a poison message to the dead-letter queue and acks it here. */
async function deadLetter(env: Env, message: Message, reason: string): Promise<void> {
  log("error", "poison webhook message dead-lettered", { message_id: message.id, reason });
  try {
    await env.WEBHOOKS_DLQ.send({ body: message.body, reason }, { contentType: "json" });
    message.ack();
  } catch (error) {
    log("error", "dead-letter send failed; retrying", { message_id: message.id, ...errorFields(error) });
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  }
}

const DeadDelivery = z.object({ type: z.literal("webhook.delivery"), delivery_id: z.string() });

/** Dead letters of the webhooks queue: deliveries are marked dead; every message is kept in `dead_letters`. */
export async function consumeWebhookDeadLetters(batch: MessageBatch, env: Env): Promise<void> {
  try {
    await withDb(env, async (db) => {
      for (const message of batch.messages) {
        const delivery = DeadDelivery.safeParse(message.body);
        if (delivery.success) await markDeliveryDead(db, delivery.data.delivery_id);
        const reason = (message.body as { reason?: unknown } | null)?.reason;
        await recordDeadLetter(db, {
          queue: WEBHOOKS_QUEUE,
          messageId: message.id,
          body: message.body,
          error: typeof reason === "string" ? reason : "failed after every retry",
          attempts: message.attempts,
        });
      }
    });
    batch.ackAll();
  } catch (error) {
    log("error", "recording webhook dead letters failed; retrying", errorFields(error));
    batch.retryAll({ delaySeconds: 30 });
  }
}
