// npm run pay -- <order_id> [--fail] [--amount N] [--currency XXX] [--id webhook-id] [--url URL]
// A local payment-provider simulator: looks the order up (admin API), then signs a Standard
// Webhooks `payment.succeeded` (or `payment.failed`) event with PAYMENT_WEBHOOK_SECRET and sends it
// to POST /v1/webhooks/payments, printing the answer and the order afterwards.
import { baseUrl, flag, setting } from "./lib/config.mjs";
import { signedPaymentEvent } from "./lib/payments.mjs";

const argv = process.argv.slice(2);
const orderId = argv.find((a) => a.startsWith("ord_"));
if (!orderId) {
  console.error("usage: npm run pay -- <order_id> [--fail] [--amount N] [--currency XXX] [--id webhook-id]");
  process.exit(2);
}
const url = baseUrl(argv);
const admin = { authorization: `Bearer ${setting("ADMIN_TOKEN")}` };

async function order() {
  const response = await fetch(`${url}/v1/admin/orders/${orderId}`, { headers: admin });
  if (!response.ok) throw new Error(`order lookup: ${response.status} ${await response.text()}`);
  return response.json();
}

async function main() {
  const before = await order();
  const { event, body, headers } = signedPaymentEvent({
    secret: setting("PAYMENT_WEBHOOK_SECRET"),
    type: argv.includes("--fail") ? "payment.failed" : "payment.succeeded",
    orderId,
    amount: Number(flag(argv, "amount") ?? before.total.amount),
    currency: flag(argv, "currency") ?? before.total.currency,
    id: flag(argv, "id"),
  });
  const response = await fetch(`${url}/v1/webhooks/payments`, { method: "POST", headers, body });
  const text = await response.text();
  console.log(
    `pay: ${event.type} ${event.data.amount} ${event.data.currency} for ${orderId} → ${response.status}${text ? ` ${text}` : ""}`,
  );
  const after = await order();
  console.log(`pay: order is now ${after.status}${after.paid_at ? ` (paid at ${after.paid_at})` : ""}`);
  process.exit(response.status === 204 ? 0 : 1);
}

main().catch((error) => {
  console.error(`pay: ${error.message}`);
  process.exit(1);
});
