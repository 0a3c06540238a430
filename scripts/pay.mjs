// npm run pay -- <order_id> [--fail] [--provider standard|stripe] [--amount N] [--currency XXX] [--id event-id] [--intent pi_…] [--url URL]
// A local payment-provider simulator: looks the order up (admin API), then sends a signed payment
// event for it, printing the answer and the order afterwards.
//   --provider standard (the default): a Standard Webhooks `payment.succeeded` (`--fail`:
//     `payment.failed`) signed with PAYMENT_WEBHOOK_SECRET, to POST /v1/webhooks/payments.
//   --provider stripe: a Stripe `payment_intent.succeeded` (`--fail`: `payment_intent.payment_failed`)
//     event carrying the order id in the intent's metadata, signed with STRIPE_WEBHOOK_SECRET the way
//     Stripe signs (the stripe package's test-header helper), to POST /v1/webhooks/stripe.

import Stripe from "stripe";
import { baseUrl, flag, setting } from "./lib/config.mjs";
import { signedPaymentEvent } from "./lib/payments.mjs";

const USAGE =
  "usage: npm run pay -- <order_id> [--fail] [--provider standard|stripe] [--amount N] [--currency XXX] [--id event-id] [--intent pi_…] [--url URL]";
const argv = process.argv.slice(2);
const orderId = argv.find((a) => a.startsWith("ord_"));
const provider = flag(argv, "provider") ?? "standard";
if (!orderId || !["standard", "stripe"].includes(provider)) {
  console.error(USAGE);
  process.exit(2);
}
const url = baseUrl(argv);
const admin = { authorization: `Bearer ${setting("ADMIN_TOKEN")}` };
const fail = argv.includes("--fail");

async function order() {
  const response = await fetch(`${url}/v1/admin/orders/${orderId}`, { headers: admin });
  if (!response.ok) throw new Error(`order lookup: ${response.status} ${await response.text()}`);
  return response.json();
}

/** A Standard Webhooks payment event, signed (scripts/lib/payments.mjs): the path, headers and body to send. */
function standardEvent(amount, currency) {
  const { event, body, headers } = signedPaymentEvent({
    secret: setting("PAYMENT_WEBHOOK_SECRET"),
    type: fail ? "payment.failed" : "payment.succeeded",
    orderId,
    amount,
    currency,
    id: flag(argv, "id"),
  });
  return { path: "/v1/webhooks/payments", type: event.type, headers, body };
}

/** A Stripe PaymentIntent event as Stripe sends it (https://docs.stripe.com/api/events/object), signed: the path, headers and body to send. */
async function stripeEvent(amount, currency) {
  const now = Math.floor(Date.now() / 1000);
  const random = (n) => crypto.randomUUID().replaceAll("-", "").slice(0, n);
  // One PaymentIntent per order, as a storefront creates it: sending again is another event for the
  // same intent (already paid), unless --intent names another one (a second payment, refunded).
  const intentId = flag(argv, "intent") ?? `pi_sim${orderId.slice(4, 22)}`;
  const type = fail ? "payment_intent.payment_failed" : "payment_intent.succeeded";
  const event = {
    id: flag(argv, "id") ?? `evt_sim${random(18)}`,
    object: "event",
    api_version: Stripe.API_VERSION,
    created: now,
    data: {
      object: {
        id: intentId,
        object: "payment_intent",
        amount,
        amount_capturable: 0,
        amount_received: fail ? 0 : amount,
        capture_method: "automatic_async",
        client_secret: `${intentId}_secret_${random(24)}`,
        confirmation_method: "automatic",
        created: now,
        currency: currency.toLowerCase(),
        description: null,
        last_payment_error: fail
          ? { code: "card_declined", decline_code: "insufficient_funds", message: "Your card has insufficient funds.", type: "card_error" }
          : null,
        latest_charge: fail ? null : `ch_sim${random(18)}`,
        livemode: false,
        metadata: { order_id: orderId },
        payment_method: `pm_sim${random(18)}`,
        payment_method_types: ["card"],
        status: fail ? "requires_payment_method" : "succeeded",
      },
    },
    livemode: false,
    pending_webhooks: 1,
    request: { id: `req_sim${random(10)}`, idempotency_key: crypto.randomUUID() },
    type,
  };
  const body = JSON.stringify(event, null, 2);
  const signature = await Stripe.webhooks.generateTestHeaderStringAsync({ payload: body, secret: setting("STRIPE_WEBHOOK_SECRET") });
  return { path: "/v1/webhooks/stripe", type, headers: { "stripe-signature": signature }, body };
}

async function main() {
  const before = await order();
  const amount = Number(flag(argv, "amount") ?? before.total.amount);
  const currency = flag(argv, "currency") ?? before.total.currency;
  const signed = provider === "stripe" ? await stripeEvent(amount, currency) : standardEvent(amount, currency);
  const response = await fetch(`${url}${signed.path}`, {
    method: "POST",
    headers: { "content-type": "application/json; charset=utf-8", ...signed.headers },
    body: signed.body,
  });
  const text = await response.text();
  console.log(`pay: ${signed.type} ${amount} ${currency} for ${orderId} → ${signed.path} ${response.status}${text ? ` ${text}` : ""}`);
  const after = await order();
  console.log(`pay: order is now ${after.status}${after.paid_at ? ` (paid at ${after.paid_at})` : ""}`);
  process.exit(response.status === 204 ? 0 : 1);
}

main().catch((error) => {
  console.error(`pay: ${error.message}`);
  process.exit(1);
});
