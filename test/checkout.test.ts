import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Cart, Order } from "../src/contracts";
import { cartStub, inventoryStub } from "../src/objects/stubs";
import { ADMIN, call, eventually, expectProblem, newCart, sendPayment } from "./helpers";
import { archived, checkout, filledCart, placedOrder, stock } from "./lib/checkout";

describe("the whole purchase", () => {
  it("checks out, holds stock through the payment window, is paid once, sold, and archived once", async () => {
    const { sku, cart } = await filledCart(2);
    const response = await checkout(cart);
    expect(response.status).toBe(201);
    const order = (await response.json()) as Order;
    expect(order).toMatchObject({
      id: `ord_${cart.id}`,
      cart_id: cart.id,
      status: "pending_payment",
      email: "shopper@example.com",
      total: { amount: 3998, currency: "USD" },
      paid_at: null,
    });
    expect(order.lines).toEqual([
      {
        sku,
        product_id: expect.any(String),
        title: `Variant ${sku}`,
        quantity: 2,
        unit_price: { amount: 1999, currency: "USD" },
        line_total: { amount: 3998, currency: "USD" },
        discount: { amount: 0, currency: "USD" },
        tax: { amount: 0, currency: "USD" },
      },
    ]);
    expect(Date.parse(order.payment_expires_at) - Date.parse(order.created_at)).toBe(1800_000);
    const closed = (await (await call("GET", `/v1/carts/${cart.id}`, { headers: cart.headers })).json()) as Cart;
    expect(closed).toMatchObject({ status: "checked_out", order_id: order.id });
    expect(await stock(sku)).toEqual({ on_hand: 10, reserved: 2, available: 8 });
    const hold = await inventoryStub(env, sku).snapshot();
    expect(Date.parse(hold.ok ? hold.snapshot.holds[0]!.expires_at : "")).toBeGreaterThanOrEqual(Date.parse(order.payment_expires_at));

    expect((await sendPayment(order.id, 3998, "USD")).status).toBe(204);
    const paid = (await (await call("GET", `/v1/orders/${order.id}`, { headers: cart.headers })).json()) as Order;
    expect(paid.status).toBe("paid");
    expect(paid.paid_at).not.toBeNull();
    expect(await stock(sku)).toEqual({ on_hand: 8, reserved: 0, available: 8 });
    expect(await inventoryStub(env, sku).verify()).toMatchObject({ ok: true, sold: 2 });

    const row = await eventually(
      () => archived(order.id),
      (r) => r.orders.length > 0,
    );
    expect(row.orders).toMatchObject([
      { id: order.id, status: "paid", totalAmount: 3998, currency: "USD", email: "shopper@example.com", paymentId: "pi_test" },
    ]);
    expect(row.lines).toMatchObject([{ sku, quantity: 2, unitAmount: 1999, lineAmount: 3998 }]);
  });
});

describe("checkout", () => {
  it("needs an Idempotency-Key and a non-empty cart", async () => {
    const { cart } = await filledCart(1);
    await expectProblem(await checkout(cart, null), 400, "idempotency_key_required");
    const empty = await newCart();
    await expectProblem(await checkout(empty), 409, "cart_empty");
    await expectProblem(
      await call("POST", `/v1/carts/${cart.id}/checkout`, {
        body: { email: "not-an-email" },
        headers: { ...cart.headers, "idempotency-key": "k" },
      }),
      400,
      "invalid_request",
    );
  });

  it("replays a retried checkout, refuses the key with another body, and places one order", async () => {
    const { sku, cart } = await filledCart(3);
    const first = await checkout(cart, "checkout-1");
    const again = await checkout(cart, "checkout-1");
    expect(again.status).toBe(201);
    expect(await again.text()).toBe(await first.text());
    await expectProblem(await checkout(cart, "checkout-1", "other@example.com"), 422, "idempotency_key_reused");
    await expectProblem(await checkout(cart, "checkout-2"), 409, "cart_not_open");
    await expectProblem(
      await call("PUT", `/v1/carts/${cart.id}/items/${sku}`, { body: { quantity: 1 }, headers: cart.headers }),
      409,
      "cart_not_open",
    );
    expect(await stock(sku)).toEqual({ on_hand: 10, reserved: 3, available: 7 });
  });

  it("answers price_changed with the updated cart when a price moved, and places no order", async () => {
    const { sku, productId, cart } = await filledCart(2);
    await call("PUT", `/v1/admin/products/${productId}`, {
      body: {
        title: "Test product",
        status: "active",
        variants: [{ sku, title: `Variant ${sku}`, price: { amount: 1499, currency: "USD" } }],
      },
      headers: ADMIN,
    });
    const problem = await expectProblem(await checkout(cart), 409, "price_changed");
    const updated = problem.cart as Cart;
    expect(updated.items[0]).toMatchObject({
      sku,
      unit_price: { amount: 1499, currency: "USD" },
      line_total: { amount: 2998, currency: "USD" },
    });
    expect(updated.status).toBe("open");
    const order = (await (await checkout(cart)).json()) as Order;
    expect(order.total).toEqual({ amount: 2998, currency: "USD" });
  });

  it("resumes a checkout interrupted after the holds were extended, with the same key", async () => {
    const { sku, cart } = await filledCart(2);
    await runInDurableObject(cartStub(env, cart.id)!, (_i, state) => state.storage.sql.exec("UPDATE cart SET checkout_key = 'resume-me'"));
    await inventoryStub(env, sku).hold(`cart:${cart.id}:${sku}`, cart.id, 2, 1920);
    await evictDurableObject(cartStub(env, cart.id)!);
    const response = await checkout(cart, "resume-me");
    expect(response.status).toBe(201);
    expect(await stock(sku)).toEqual({ on_hand: 10, reserved: 2, available: 8 });
  });
});

describe("order access and expiry", () => {
  it("answers a foreign token on order routes with 404", async () => {
    const { order } = await placedOrder(1);
    const stranger = await newCart();
    await expectProblem(await call("GET", `/v1/orders/${order.id}`, { headers: stranger.headers }), 404, "not_found");
    await expectProblem(await call("POST", `/v1/orders/${order.id}/cancel`, { headers: stranger.headers }), 404, "not_found");
    await expectProblem(await call("GET", `/v1/orders/${order.id}`), 401, "unauthorized");
  });

  it("expires an unpaid order when its payment window ends and returns its stock", async () => {
    const { sku, cart, order } = await placedOrder(3);
    await runInDurableObject(cartStub(env, cart.id)!, (_i, state) =>
      state.storage.sql.exec("UPDATE orders SET payment_expires_at = ?", Date.now() - 1),
    );
    expect(await runDurableObjectAlarm(cartStub(env, cart.id)!)).toBe(true);
    expect(((await (await call("GET", `/v1/orders/${order.id}`, { headers: cart.headers })).json()) as Order).status).toBe("expired");
    expect(await stock(sku)).toEqual({ on_hand: 10, reserved: 0, available: 10 });
    await expectProblem(await sendPayment(order.id, 5997, "USD"), 409, "order_not_payable");
    expect(await inventoryStub(env, sku).verify()).toMatchObject({ ok: true });
  });
});

describe("archival outbox", () => {
  it("sends the archival message after an eviction between the paid commit and the send, archiving once", async () => {
    const { cart, order } = await placedOrder(1);
    expect((await sendPayment(order.id, 1999, "USD")).status).toBe(204);
    await eventually(
      () => archived(order.id),
      (r) => r.orders.length > 0,
    );
    // As if the Worker died after the paid transaction and before the queue send.
    await runInDurableObject(cartStub(env, cart.id)!, async (_i, state) => {
      state.storage.sql.exec("UPDATE outbox SET sent_at = NULL, confirmed_at = NULL, attempts = 0, next_attempt_at = ?", Date.now());
      await state.storage.setAlarm(Date.now() + 5000);
    });
    await evictDurableObject(cartStub(env, cart.id)!);
    expect(await runDurableObjectAlarm(cartStub(env, cart.id)!)).toBe(true);
    const unsent = await runInDurableObject(
      cartStub(env, cart.id)!,
      (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL").one().n,
    );
    expect(unsent).toBe(0);
    // The consumer confirms the message only after its Postgres transaction committed: the second
    // delivery was taken as done (a duplicate key would have left it unconfirmed, to be retried)
    // and, read after that, Postgres still holds the order once.
    const confirmed = await eventually(
      () =>
        runInDurableObject(
          cartStub(env, cart.id)!,
          (_i, state) =>
            state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE key = 'archive' AND confirmed_at IS NULL").one()
              .n,
        ),
      (n) => n === 0,
    );
    expect(confirmed).toBe(0);
    expect((await archived(order.id)).orders).toHaveLength(1);
  });
});
