// POST /v1/webhooks/stripe in the real runtime: events signed the way Stripe signs them (the
// `stripe` package's test-header helper), applied by the same payment state machine as the Standard
// Webhooks endpoint: one paid order, stock sold and archived once, whatever is replayed.
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { inventoryStub } from "../src/objects/stubs";
import { call, eventually, expectProblem } from "./helpers";
import { adminOrder, archived, intentEvent, placedOrder, sendStripe, stock, stripeHeaders } from "./lib/stripe";
import { TEST_STRIPE_WEBHOOK_SECRET } from "./secrets";

describe("Stripe webhooks", () => {
  it("pays the order on a Stripe-signed payment_intent.succeeded: paid, stock sold, archived once", async () => {
    const { sku, order } = await placedOrder(2);
    expect(await stock(sku)).toEqual({ on_hand: 10, reserved: 2, available: 8 });
    const response = await sendStripe(intentEvent("payment_intent.succeeded", { orderId: order.id, amount: 3998, id: "pi_3Paid" }));
    expect(response.status).toBe(204);
    const paid = await adminOrder(order.id);
    expect(paid).toMatchObject({ status: "paid", payment_id: "pi_3Paid" });
    expect(paid.paid_at).not.toBeNull();
    expect(paid.payments).toMatchObject([
      { type: "payment.succeeded", payment_id: "pi_3Paid", amount: { amount: 3998, currency: "USD" }, outcome: "paid" },
    ]);
    expect(paid.payments[0]!.webhook_id).toMatch(/^evt_/);
    expect(await stock(sku)).toEqual({ on_hand: 8, reserved: 0, available: 8 });
    expect(await inventoryStub(env, sku).verify()).toMatchObject({ ok: true, sold: 2 });
    const rows = await eventually(
      () => archived(order.id),
      (r) => r.length > 0,
    );
    expect(rows).toMatchObject([{ id: order.id, status: "paid", totalAmount: 3998, currency: "USD", paymentId: "pi_3Paid" }]);
  });

  it("refuses a forged signature, a tampered body and a missing header with 401, changing nothing", async () => {
    const { sku, order } = await placedOrder(1);
    const event = intentEvent("payment_intent.succeeded", { orderId: order.id, amount: 1999 });
    await expectProblem(await sendStripe(event, { secret: "whsec_not_the_endpoint_secret_000000" }), 401, "invalid_signature");
    const body = JSON.stringify(event);
    const headers = await stripeHeaders(body);
    await expectProblem(
      await call("POST", "/v1/webhooks/stripe", { body: body.replace("1999", "1998"), headers }),
      401,
      "invalid_signature",
    );
    await expectProblem(
      await call("POST", "/v1/webhooks/stripe", { body, headers: { "content-type": "application/json" } }),
      401,
      "invalid_signature",
    );
    // A Standard Webhooks signature is not a Stripe one.
    await expectProblem(
      await call("POST", "/v1/webhooks/stripe", { body, headers: { ...headers, "stripe-signature": "v1,abc" } }),
      401,
      "invalid_signature",
    );
    expect(await stock(sku)).toEqual({ on_hand: 10, reserved: 1, available: 9 });
    expect((await adminOrder(order.id)).status).toBe("pending_payment");
  });

  it("refuses a timestamp outside the 5-minute tolerance, past or future, with 401", async () => {
    const { sku, order } = await placedOrder(1);
    const event = intentEvent("payment_intent.succeeded", { orderId: order.id, amount: 1999 });
    const now = Math.floor(Date.now() / 1000);
    await expectProblem(await sendStripe(event, { at: now - 301 - 5 }), 401, "invalid_signature");
    await expectProblem(await sendStripe(event, { at: now + 301 + 5 }), 401, "invalid_signature");
    expect(await stock(sku)).toEqual({ on_hand: 10, reserved: 1, available: 9 });
    // Within the tolerance (Stripe's clock a little off either way) it is accepted.
    expect((await sendStripe(event, { at: now - 240 })).status).toBe(204);
    expect((await adminOrder(order.id)).status).toBe("paid");
  });

  it("answers a replayed event (same id) with 204 and no second effect", async () => {
    const { sku, order } = await placedOrder(2);
    const event = intentEvent("payment_intent.succeeded", { orderId: order.id, amount: 3998 });
    expect((await sendStripe(event)).status).toBe(204);
    // Stripe redelivers the same event (same id), re-signed; even a changed body is not applied again.
    expect((await sendStripe(event)).status).toBe(204);
    const changed = { ...event, data: { object: { ...event.data.object, id: "pi_3Other" } } };
    expect((await sendStripe(changed)).status).toBe(204);
    const after = await adminOrder(order.id);
    expect(after.payments).toMatchObject([{ payment_id: event.data.object.id }]);
    expect(after.refunds_due).toEqual([]);
    expect(await stock(sku)).toEqual({ on_hand: 8, reserved: 0, available: 8 });
    // Postgres has the order as the first event paid it, not the changed body's intent.
    const rows = await eventually(
      () => archived(order.id),
      (r) => r.length > 0,
    );
    expect(rows).toMatchObject([{ id: order.id, status: "paid", paymentId: event.data.object.id }]);
  });

  it("treats another event for the same intent after payment as already paid: 204, no second effect", async () => {
    const { sku, order } = await placedOrder(1);
    expect((await sendStripe(intentEvent("payment_intent.succeeded", { orderId: order.id, amount: 1999, id: "pi_3Same" }))).status).toBe(
      204,
    );
    expect((await sendStripe(intentEvent("payment_intent.succeeded", { orderId: order.id, amount: 1999, id: "pi_3Same" }))).status).toBe(
      204,
    );
    const after = await adminOrder(order.id);
    expect(after.status).toBe("paid");
    expect(after.payments.map((p) => p.outcome)).toEqual(["paid", "already_paid"]);
    expect(after.refunds_due).toEqual([]);
    expect(await stock(sku)).toEqual({ on_hand: 9, reserved: 0, available: 9 });
    // A second, different intent for a paid order is money to give back: 409, recorded for refund.
    await expectProblem(
      await sendStripe(intentEvent("payment_intent.succeeded", { orderId: order.id, amount: 1999, id: "pi_3Second" })),
      409,
      "order_not_payable",
    );
    expect((await adminOrder(order.id)).refunds_due).toMatchObject([
      { payment_id: "pi_3Second", amount: { amount: 1999, currency: "USD" } },
    ]);
    expect(await stock(sku)).toEqual({ on_hand: 9, reserved: 0, available: 9 });
  });

  it("leaves the order untouched on an amount or currency mismatch (409), and a partial capture is a mismatch", async () => {
    const { sku, order } = await placedOrder(2);
    const wrongAmount = await sendStripe(intentEvent("payment_intent.succeeded", { orderId: order.id, amount: 3000 }));
    expect(await expectProblem(wrongAmount, 409, "amount_mismatch")).toMatchObject({ expected: { amount: 3998, currency: "USD" } });
    await expectProblem(
      await sendStripe(intentEvent("payment_intent.succeeded", { orderId: order.id, amount: 3998, currency: "eur" })),
      409,
      "amount_mismatch",
    );
    await expectProblem(
      await sendStripe(intentEvent("payment_intent.succeeded", { orderId: order.id, amount: 3998, received: 2000 })),
      409,
      "amount_mismatch",
    );
    const after = await adminOrder(order.id);
    expect(after.status).toBe("pending_payment");
    expect(after.payments).toEqual([]);
    expect(await stock(sku)).toEqual({ on_hand: 10, reserved: 2, available: 8 });
  });

  it("records payment_intent.payment_failed and keeps the order payable", async () => {
    const { sku, order } = await placedOrder(1);
    expect(
      (await sendStripe(intentEvent("payment_intent.payment_failed", { orderId: order.id, amount: 1999, id: "pi_3Retry" }))).status,
    ).toBe(204);
    const failed = await adminOrder(order.id);
    expect(failed.status).toBe("pending_payment");
    expect(failed.payments).toMatchObject([
      { type: "payment.failed", payment_id: "pi_3Retry", amount: { amount: 1999, currency: "USD" }, outcome: "failed" },
    ]);
    expect(await stock(sku)).toEqual({ on_hand: 10, reserved: 1, available: 9 });
    // The shopper retries on the same intent, which then succeeds.
    expect((await sendStripe(intentEvent("payment_intent.succeeded", { orderId: order.id, amount: 1999, id: "pi_3Retry" }))).status).toBe(
      204,
    );
    expect((await adminOrder(order.id)).status).toBe("paid");
    expect(await stock(sku)).toEqual({ on_hand: 9, reserved: 0, available: 9 });
  });

  it("answers 404 for an unknown order or an intent without metadata.order_id, and 204 for other event types", async () => {
    await expectProblem(
      await sendStripe(intentEvent("payment_intent.succeeded", { orderId: `ord_${"cd".repeat(32)}`, amount: 100 })),
      404,
      "not_found",
    );
    await expectProblem(
      await sendStripe(intentEvent("payment_intent.succeeded", { orderId: "not-an-order", amount: 100 })),
      404,
      "not_found",
    );
    await expectProblem(await sendStripe(intentEvent("payment_intent.succeeded", { orderId: null, amount: 100 })), 404, "not_found");
    const noMetadata = intentEvent("payment_intent.payment_failed", { orderId: null, amount: 100 });
    await expectProblem(
      await sendStripe({ ...noMetadata, data: { object: { ...noMetadata.data.object, metadata: undefined } } }),
      404,
      "not_found",
    );
    const { order } = await placedOrder(1);
    expect((await sendStripe(intentEvent("payment_intent.created", { orderId: order.id, amount: 1999 }))).status).toBe(204);
    expect((await sendStripe(intentEvent("charge.refunded", { orderId: order.id, amount: 1999 }))).status).toBe(204);
    expect((await adminOrder(order.id)).payments).toEqual([]);
  });

  it("answers 400 for a validly signed body that is not JSON or not a valid event", async () => {
    await expectProblem(await sendStripe("this is not json"), 400, "invalid_request");
    await expectProblem(await sendStripe({ object: "event", type: "payment_intent.succeeded" }), 400, "invalid_request");
    const { order } = await placedOrder(1);
    const event = intentEvent("payment_intent.succeeded", { orderId: order.id, amount: 1999 });
    const noAmount = await sendStripe({ ...event, data: { object: { ...event.data.object, amount: "19.99" } } });
    expect(await expectProblem(noAmount, 400, "invalid_request")).toMatchObject({ errors: [{ path: "data.object.amount" }] });
    expect((await adminOrder(order.id)).status).toBe("pending_payment");
  });

  describe("logs", () => {
    afterEach(() => vi.restoreAllMocks());

    it("never log the signing secret or a signature, in success or failure", async () => {
      const lines: string[] = [];
      for (const level of ["log", "info", "warn", "error", "debug"] as const) {
        vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
          lines.push(
            args.map((a) => (typeof a === "string" ? a : a instanceof Error ? `${a.message} ${a.stack}` : JSON.stringify(a))).join(" "),
          );
        });
      }
      const { order } = await placedOrder(1);
      const body = JSON.stringify(intentEvent("payment_intent.succeeded", { orderId: order.id, amount: 1999 }));
      const good = await stripeHeaders(body);
      const forged = await stripeHeaders(body, { secret: "whsec_forged_secret_0000000000000000" });
      await expectProblem(await call("POST", "/v1/webhooks/stripe", { body, headers: forged }), 401, "invalid_signature");
      await expectProblem(
        await call("POST", "/v1/webhooks/stripe", {
          body,
          headers: await stripeHeaders(body, { at: Math.floor(Date.now() / 1000) - 3600 }),
        }),
        401,
        "invalid_signature",
      );
      await expectProblem(await sendStripe("not json"), 400, "invalid_request");
      expect((await call("POST", "/v1/webhooks/stripe", { body, headers: good })).status).toBe(204);
      const log = lines.join("\n");
      for (const secret of [
        TEST_STRIPE_WEBHOOK_SECRET,
        TEST_STRIPE_WEBHOOK_SECRET.slice("whsec_".length),
        good["stripe-signature"]!.split("v1=")[1]!,
        forged["stripe-signature"]!.split("v1=")[1]!,
      ]) {
        expect(log.includes(secret), `${secret.slice(0, 12)}… appears in the log`).toBe(false);
      }
    });
  });
});
