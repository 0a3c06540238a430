// The payment webhooks of a placed order (POST /v1/webhooks/payments); checkout itself is in test/checkout.test.ts.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Order } from "../src/contracts";
import { cartStub } from "../src/objects/stubs";
import { ADMIN, call, eventually, expectProblem, sendPayment, signedWebhookHeaders } from "./helpers";
import { archived, placedOrder, stock } from "./lib/checkout";

describe("payment webhooks", () => {
  it("ignores a duplicated webhook-id: 204, no second effect", async () => {
    const { sku, order } = await placedOrder(2);
    const id = `msg_${crypto.randomUUID()}`;
    expect((await sendPayment(order.id, 3998, "USD", { id })).status).toBe(204);
    expect((await sendPayment(order.id, 3998, "USD", { id })).status).toBe(204);
    expect(await stock(sku)).toEqual({ on_hand: 8, reserved: 0, available: 8 });
    const admin = (await (await call("GET", `/v1/admin/orders/${order.id}`, { headers: ADMIN })).json()) as {
      payments: Array<{ webhook_id: string; outcome: string }>;
    };
    expect(admin.payments).toMatchObject([{ webhook_id: id, outcome: "paid" }]);
    const row = await eventually(
      () => archived(order.id),
      (r) => r.orders.length > 0,
    );
    expect(row.orders).toMatchObject([{ id: order.id, status: "paid", totalAmount: 3998 }]);
  });

  it("refuses forged, unsigned and stale webhooks with 401 invalid_signature, changing nothing", async () => {
    const { sku, order } = await placedOrder(1);
    const body = JSON.stringify({
      type: "payment.succeeded",
      data: { order_id: order.id, amount: 1999, currency: "USD", payment_id: "pi_x" },
    });
    const forged = signedWebhookHeaders(body, { secret: `whsec_${btoa("not-the-secret-at-all-000000")}` });
    await expectProblem(await call("POST", "/v1/webhooks/payments", { body, headers: forged }), 401, "invalid_signature");
    const tampered = signedWebhookHeaders(body);
    await expectProblem(
      await call("POST", "/v1/webhooks/payments", { body: body.replace("1999", "1"), headers: tampered }),
      401,
      "invalid_signature",
    );
    await expectProblem(
      await call("POST", "/v1/webhooks/payments", { body, headers: { "content-type": "application/json" } }),
      401,
      "invalid_signature",
    );
    const stale = signedWebhookHeaders(body, { at: new Date(Date.now() - 6 * 60_000) });
    await expectProblem(await call("POST", "/v1/webhooks/payments", { body, headers: stale }), 401, "invalid_signature");
    const future = signedWebhookHeaders(body, { at: new Date(Date.now() + 6 * 60_000) });
    await expectProblem(await call("POST", "/v1/webhooks/payments", { body, headers: future }), 401, "invalid_signature");
    expect(await stock(sku)).toEqual({ on_hand: 10, reserved: 1, available: 9 });
  });

  it("leaves the order untouched on an amount or currency mismatch (409)", async () => {
    const { sku, cart, order } = await placedOrder(2);
    expect(await expectProblem(await sendPayment(order.id, 3000, "USD"), 409, "amount_mismatch")).toMatchObject({
      expected: { amount: 3998, currency: "USD" },
    });
    await expectProblem(await sendPayment(order.id, 3998, "EUR"), 409, "amount_mismatch");
    expect(((await (await call("GET", `/v1/orders/${order.id}`, { headers: cart.headers })).json()) as Order).status).toBe(
      "pending_payment",
    );
    expect(await stock(sku)).toEqual({ on_hand: 10, reserved: 2, available: 8 });
  });

  it("answers 404 for an unknown order and 204 for event types it does not handle", async () => {
    await expectProblem(await sendPayment(`ord_${"ab".repeat(32)}`, 1, "USD"), 404, "not_found");
    await expectProblem(await sendPayment("not-an-order", 1, "USD"), 404, "not_found");
    const { order } = await placedOrder(1);
    expect((await sendPayment(order.id, 1999, "USD", { type: "payment.refunded" })).status).toBe(204);
  });

  it("records payment.failed and keeps the order payable; a reordered failure after success changes nothing", async () => {
    const { sku, cart, order } = await placedOrder(1);
    expect((await sendPayment(order.id, 1999, "USD", { type: "payment.failed" })).status).toBe(204);
    expect(((await (await call("GET", `/v1/orders/${order.id}`, { headers: cart.headers })).json()) as Order).status).toBe(
      "pending_payment",
    );
    expect((await sendPayment(order.id, 1999, "USD")).status).toBe(204);
    expect((await sendPayment(order.id, 1999, "USD", { type: "payment.failed" })).status).toBe(204);
    expect(((await (await call("GET", `/v1/orders/${order.id}`, { headers: cart.headers })).json()) as Order).status).toBe("paid");
    expect(await stock(sku)).toEqual({ on_hand: 9, reserved: 0, available: 9 });
  });

  it("answers a late payment on a cancelled order with 409 order_not_payable and records it for refund", async () => {
    const { sku, cart, order } = await placedOrder(2);
    const cancelled = await call("POST", `/v1/orders/${order.id}/cancel`, { headers: cart.headers });
    expect(cancelled.status).toBe(200);
    expect(((await cancelled.json()) as Order).status).toBe("cancelled");
    expect(await stock(sku)).toEqual({ on_hand: 10, reserved: 0, available: 10 });
    await expectProblem(await sendPayment(order.id, 3998, "USD", { paymentId: "pi_late" }), 409, "order_not_payable");
    const refunds = await runInDurableObject(cartStub(env, cart.id)!, (_i, state) =>
      state.storage.sql.exec<{ payment_id: string; refund_due: number }>("SELECT payment_id, refund_due FROM payment_events").toArray(),
    );
    expect(refunds).toEqual([{ payment_id: "pi_late", refund_due: 1 }]);
    expect(await stock(sku)).toEqual({ on_hand: 10, reserved: 0, available: 10 });
    await expectProblem(await call("POST", `/v1/orders/${order.id}/cancel`, { headers: cart.headers }), 409, "invalid_transition");
  });
});
