// Helpers of the outgoing-webhook tests (test/webhooks.test.ts, test/webhooks-delivery.test.ts): the
// loopback receiver (test/lib/webhook-receiver.ts) and what it got, endpoints registered at it and
// removed after each test (removeEndpoints), verification with the standardwebhooks package, the
// webhooks consumer driven with createMessageBatch, stored deliveries, and a placed order.
import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { expect, inject } from "vitest";
import type { CreatedWebhookEndpoint, Order, WebhookAttempt, WebhookEventPayload } from "../../src/contracts";
import { withDb } from "../../src/db/client";
import { webhookDeliveries } from "../../src/db/schema";
import { fanOut } from "../../src/db/webhooks";
import worker from "../../src/index";
import { newId } from "../../src/sync/webhooks";
import { ADMIN, call, createStockedProduct, eventually, newCart, unique } from "../helpers";

export const RECEIVER = inject("webhookReceiver");

export interface Received {
  headers: Record<string, string>;
  body: string;
  answered: number;
}

/** What the receiver got at /hook/<name>, oldest first. */
export async function received(name: string): Promise<Received[]> {
  return (await (await fetch(`${RECEIVER}/_requests/${name}`)).json()) as Received[];
}

/** Makes the receiver answer `status` to the first `fail` requests of each webhook-id at <name>. */
export async function failFirst(name: string, fail: number, status = 500): Promise<void> {
  await fetch(`${RECEIVER}/_config/${name}`, { method: "PUT", body: JSON.stringify({ fail, status }) });
}

/** Polls the receiver until `accept` holds (queue delivery takes a second or two). */
export async function receivedWhen(name: string, accept: (requests: Received[]) => boolean, ms = 15_000): Promise<Received[]> {
  return eventually(() => received(name), accept, { withinMs: ms });
}

/** Endpoints registered by endpoint() and not yet removed. */
const created: string[] = [];

/** For afterEach: endpoints live in the shared Postgres, so leave none to receive other tests' events. */
export async function removeEndpoints(): Promise<void> {
  await Promise.all(created.splice(0).map((id) => call("DELETE", `/v1/admin/webhook-endpoints/${id}`, { headers: ADMIN })));
}

/** Registers an endpoint at the receiver's /hook/<name>. */
export async function endpoint(name: string, eventTypes: string[], extra: Record<string, unknown> = {}): Promise<CreatedWebhookEndpoint> {
  const response = await call("POST", "/v1/admin/webhook-endpoints", {
    body: { url: `${RECEIVER}/hook/${name}`, event_types: eventTypes, ...extra },
    headers: ADMIN,
  });
  expect(response.status).toBe(201);
  const body = (await response.json()) as CreatedWebhookEndpoint;
  created.push(body.id);
  return body;
}

/** Verifies a received request with the standardwebhooks package; returns the event. */
export function verified(secret: string, request: Received): WebhookEventPayload {
  return new Webhook(secret).verify(request.body, request.headers) as WebhookEventPayload;
}

export async function attempts(endpointId: string): Promise<WebhookAttempt[]> {
  const response = await call("GET", `/v1/admin/webhook-deliveries?endpoint=${endpointId}&limit=100`, { headers: ADMIN });
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: WebhookAttempt[] }).data;
}

/** Runs the webhooks consumer on one batch (as Queues would), with `environment`'s vars. */
export async function consume(bodies: unknown[], options: { attempts?: number; environment?: Env } = {}) {
  const batch = createMessageBatch(
    "edgecart-webhooks",
    bodies.map((body, i) => ({ id: `wh-${crypto.randomUUID()}-${i}`, timestamp: new Date(), attempts: options.attempts ?? 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, options.environment ?? env, ctx);
  return getQueueResult(batch, ctx);
}

/** Stores `event` with a delivery to `endpointId` without queueing it (the test drives the attempts). */
export async function storedDelivery(endpointId: string, event: WebhookEventPayload): Promise<string> {
  await withDb(env, (db) =>
    fanOut(db, {
      events: [event],
      reports: [],
      decide: () => ({ state: "ok", events: [] }),
      wants: () => [endpointId],
      newDeliveryId: () => newId("whd_"),
    }),
  );
  const rows = await withDb(env, (db) => db.select().from(webhookDeliveries).where(eq(webhookDeliveries.eventId, event.id)));
  expect(rows.map((row) => row.endpointId)).toEqual([endpointId]);
  return rows[0]!.id;
}

export function lowEvent(sku = unique("SYN")): WebhookEventPayload {
  return {
    id: newId("evt_"),
    type: "inventory.low",
    timestamp: new Date().toISOString(),
    data: { sku, on_hand: 3, reserved: 0, available: 3, threshold: 5, ledger_seq: 7 },
  };
}

/** A placed order for 2 units of a fresh SKU at 1999 USD. */
export async function placedOrder(): Promise<{ order: Order; sku: string; cart: Awaited<ReturnType<typeof newCart>> }> {
  const sku = unique("HOOK");
  await createStockedProduct([sku], 10, {}, { amount: 1999 });
  const cart = await newCart();
  expect((await call("PUT", `/v1/carts/${cart.id}/items/${sku}`, { body: { quantity: 2 }, headers: cart.headers })).status).toBe(200);
  const response = await call("POST", `/v1/carts/${cart.id}/checkout`, {
    body: { email: "hooks@example.com" },
    headers: { ...cart.headers, "idempotency-key": crypto.randomUUID() },
  });
  expect(response.status).toBe(201);
  return { order: (await response.json()) as Order, sku, cart };
}
