/**
 * Outgoing webhooks, end to end:
 * 1. Order events are written to the cart object's outbox in the transaction that changes the
 *    order (objects/order-store.ts): paid, cancelled, expired, refund due. The cart object sends
 *    them here (queue `edgecart-webhooks`) and resends until this consumer confirms them.
 * 2. SKU objects send their level reports here too (at most one per SKU per second). This consumer
 *    keeps each SKU's alert state in Postgres (`stock_alerts`, with the report's ledger position)
 *    and turns a crossing into one `inventory.low` / `inventory.out_of_stock` event.
 * 3. Fan-out (sync/webhook-fanout.ts): the events wanted by at least one enabled endpoint (the
 *    list is cached for `ENDPOINT_CACHE_MS`) are stored with one delivery per endpoint, in the same
 *    Postgres transaction as the stock state; then one `webhook.delivery` message per delivery is
 *    queued, and order events are confirmed to their cart objects.
 * 4. Delivery (sync/webhook-delivery.ts): each message is one attempt. The delivery is leased in
 *    Postgres (one attempt at a time), the endpoint read fresh (disabled or deleted: nothing is
 *    sent), its URL checked again, the event signed (Standard Webhooks; `webhook-id` is the event
 *    id on every attempt) and POSTed with a 10 s timeout, redirects not followed. Every attempt is
 *    recorded. A failure is retried by the queue on the schedule of domain/webhooks.ts (8 attempts
 *    over 27.6 h), then the delivery is dead-lettered (`edgecart-webhooks-dlq`, whose consumer is
 *    sync/webhook-dead-letters.ts).
 * This module is the queue's consumer; it re-exports what routes and the entry use of the others.
 */
import { type InventoryLevelV1, type WebhookDeliveryV1, type WebhookEventV1, WebhookQueueMessage } from "../contracts";
import { describeIssues } from "./archival";
import { deadLetter } from "./webhook-dead-letters";
import { attemptDelivery } from "./webhook-delivery";
import { fanOutBatch } from "./webhook-fanout";

export { consumeWebhookDeadLetters } from "./webhook-dead-letters";
export { signedRequest } from "./webhook-delivery";
export { ENDPOINT_CACHE_MS, forgetWebhookEndpoints } from "./webhook-fanout";
export { newId, webhookSettings } from "./webhook-settings";

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
    ...deliveries.map((item) => attemptDelivery(env, item.message, item.body)),
  ]);
}
