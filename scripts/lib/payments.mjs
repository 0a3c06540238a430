// The payment provider simulator's side of POST /v1/webhooks/payments (npm run pay, and
// examples/storefront.ts): a Standard Webhooks event signed with PAYMENT_WEBHOOK_SECRET.
import { Webhook } from "standardwebhooks";

/**
 * A signed `payment.succeeded` (or `payment.failed`) event for an order: the exact body to send
 * (the signature covers its bytes) and the headers that go with it.
 */
export function signedPaymentEvent({ secret, type = "payment.succeeded", orderId, amount, currency, paymentId, id }) {
  const event = { type, data: { order_id: orderId, amount, currency, payment_id: paymentId ?? `pi_sim_${Date.now().toString(36)}` } };
  const body = JSON.stringify(event);
  const webhookId = id ?? `msg_${crypto.randomUUID()}`;
  // One timestamp, whole seconds, for both the signature and its header.
  const timestamp = new Date(Math.floor(Date.now() / 1000) * 1000);
  const signature = new Webhook(secret).sign(webhookId, timestamp, body);
  return {
    event,
    body,
    headers: {
      "content-type": "application/json",
      "webhook-id": webhookId,
      "webhook-timestamp": String(timestamp.getTime() / 1000),
      "webhook-signature": signature,
    },
  };
}
