// Helpers of the Stripe webhook tests (test/stripe-webhook.test.ts): PaymentIntent events as Stripe
// sends them, signed the way Stripe signs them (the `stripe` package's test-header helper), a placed
// order, its admin view and archived row, and the SKU's stock.
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import Stripe from "stripe";
import { expect } from "vitest";
import type { AdminOrder, Order } from "../../src/contracts";
import { withDb } from "../../src/db/client";
import { orders } from "../../src/db/schema";
import { inventoryStub } from "../../src/objects/stubs";
import { ADMIN, call, createStockedProduct, newCart, unique } from "../helpers";
import { TEST_STRIPE_WEBHOOK_SECRET } from "../secrets";

const cryptoProvider = Stripe.createSubtleCryptoProvider();

/** A realistic PaymentIntent event as Stripe sends it (fields edgecart ignores included). */
export function intentEvent(
  type: string,
  intent: { orderId?: string | null; amount: number; currency?: string; id?: string; received?: number },
  eventId = `evt_${crypto.randomUUID().replaceAll("-", "")}`,
) {
  const succeeded = type === "payment_intent.succeeded";
  const created = Math.floor(Date.now() / 1000);
  return {
    id: eventId,
    object: "event",
    api_version: "2026-10-28.endive",
    created,
    livemode: false,
    pending_webhooks: 1,
    request: { id: `req_${crypto.randomUUID().slice(0, 14)}`, idempotency_key: crypto.randomUUID() },
    type,
    data: {
      object: {
        id: intent.id ?? "pi_3TestIntent000001",
        object: "payment_intent",
        amount: intent.amount,
        amount_capturable: 0,
        amount_received: intent.received ?? (succeeded ? intent.amount : 0),
        capture_method: "automatic_async",
        client_secret: "pi_3TestIntent000001_secret_abc",
        created,
        currency: intent.currency ?? "usd",
        last_payment_error: succeeded ? null : { code: "card_declined", decline_code: "generic_decline", type: "card_error" },
        latest_charge: succeeded ? "ch_3TestCharge" : null,
        livemode: false,
        metadata: intent.orderId === null ? {} : { order_id: intent.orderId, storefront: "test" },
        payment_method_types: ["card"],
        status: succeeded ? "succeeded" : "requires_payment_method",
      },
    },
  };
}

/** Headers signing `body` as Stripe does, with the test secret unless told otherwise. */
export async function stripeHeaders(body: string, options: { secret?: string; at?: number } = {}): Promise<Record<string, string>> {
  const signature = await Stripe.webhooks.generateTestHeaderStringAsync({
    payload: body,
    secret: options.secret ?? TEST_STRIPE_WEBHOOK_SECRET,
    timestamp: options.at ?? Math.floor(Date.now() / 1000),
    cryptoProvider,
  });
  return {
    "stripe-signature": signature,
    "content-type": "application/json; charset=utf-8",
    "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
  };
}

export async function sendStripe(event: unknown, options: { secret?: string; at?: number } = {}): Promise<Response> {
  const body = typeof event === "string" ? event : JSON.stringify(event, null, 2);
  return call("POST", "/v1/webhooks/stripe", { body, headers: await stripeHeaders(body, options) });
}

export async function placedOrder(quantity = 2) {
  const sku = unique("STRIPE");
  await createStockedProduct([sku], 10, {}, { amount: 1999 });
  const cart = await newCart();
  expect((await call("PUT", `/v1/carts/${cart.id}/items/${sku}`, { body: { quantity }, headers: cart.headers })).status).toBe(200);
  const response = await call("POST", `/v1/carts/${cart.id}/checkout`, {
    body: { email: "s@example.com" },
    headers: { ...cart.headers, "idempotency-key": unique("k") },
  });
  expect(response.status).toBe(201);
  return { sku, cart, order: (await response.json()) as Order };
}

export async function stock(sku: string) {
  const snapshot = await inventoryStub(env, sku).snapshot();
  if (!snapshot.ok) throw new Error(snapshot.reason);
  const { on_hand, reserved, available } = snapshot.snapshot;
  return { on_hand, reserved, available };
}

export const adminOrder = async (orderId: string) =>
  (await (await call("GET", `/v1/admin/orders/${orderId}`, { headers: ADMIN })).json()) as AdminOrder;
export const archived = (orderId: string) => withDb(env, (db) => db.select().from(orders).where(eq(orders.id, orderId)));
