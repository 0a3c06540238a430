/**
 * The webhooks fan-out (step 3 of sync/webhooks.ts): the events wanted by at least one enabled
 * endpoint (the list is cached for {@link ENDPOINT_CACHE_MS}) are stored with one delivery per
 * endpoint, in the same Postgres transaction as the stock state; then one `webhook.delivery`
 * message per delivery is queued, and order events are confirmed to their cart objects.
 */
import type { InventoryLevelV1, WebhookDeliveryV1, WebhookEventPayload, WebhookEventType, WebhookEventV1 } from "../contracts";
import { withDb } from "../db/client";
import type { StockAlertRow } from "../db/stock-alerts";
import { markQueued } from "../db/webhook-deliveries";
import { type EndpointRef, enabledEndpoints } from "../db/webhook-endpoints";
import { fanOut } from "../db/webhooks";
import { endpointWants, type StockState, stockCrossings, stockState } from "../domain/webhooks";
import { cartStub } from "../objects/stubs";
import { errorFields, log } from "../platform/log";
import { retryDelaySeconds } from "./archival";
import { newId, webhookSettings } from "./webhook-settings";

/** How long the fan-out trusts its list of endpoints (per isolate). */
export const ENDPOINT_CACHE_MS = 10_000;
const QUEUE_SEND_BATCH = 100;

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

/** Fans out a batch of order events and level reports; acks it, or retries it whole on any failure. */
export async function fanOutBatch(env: Env, items: Array<{ message: Message; body: WebhookEventV1 | InventoryLevelV1 }>): Promise<void> {
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
