// Security properties of the HTTP surface (see security.test.ts): webhook authenticity,
// Idempotency-Key scoping, and mass assignment.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Cart, Order } from "../src/contracts";
import { cartStub, inventoryStub } from "../src/objects/stubs";
import { ADMIN, accessOf, call, clientIpHeader, expectProblem, newCart, signedWebhookHeaders, stockedSku, unique } from "./helpers";
import { levels, orderedCart, put } from "./lib/security";
import { TEST_WEBHOOK_SECRET } from "./secrets";

describe("payment webhooks", () => {
  function event(orderId: string, amount: number, extra: Record<string, unknown> = {}) {
    return JSON.stringify({
      type: "payment.succeeded",
      data: { order_id: orderId, amount, currency: "USD", payment_id: "pi_sec", ...extra },
    });
  }
  const post = (body: string, headers: Record<string, string>) => call("POST", "/v1/webhooks/payments", { body, headers });

  it("refuses forged and altered signatures with 401 and leaves the order pending", async () => {
    const { sku, cart, order } = await orderedCart();
    const body = event(order.id, order.total.amount);
    const good = signedWebhookHeaders(body);
    const [, goodSignature] = good["webhook-signature"]!.split(",");
    const forgeries: Array<[string, string, Record<string, string>]> = [
      ["the signature under another webhook-id", body, { ...good, "webhook-id": `msg_${crypto.randomUUID()}` }],
      ["the signature under another timestamp", body, { ...good, "webhook-timestamp": String(Number(good["webhook-timestamp"]) + 1) }],
      ["the signature for another order", event(`ord_${"ab".repeat(32)}`, order.total.amount), good],
      ["an unknown signature version", body, { ...good, "webhook-signature": `v2,${goodSignature}` }],
      ["a bare signature without version", body, { ...good, "webhook-signature": goodSignature! }],
      ["a truncated signature", body, { ...good, "webhook-signature": `v1,${goodSignature!.slice(0, 20)}` }],
      ["a signature with the raw secret as key", body, signedWebhookHeaders(body, { secret: `whsec_${btoa(TEST_WEBHOOK_SECRET)}` })],
      ["a 300-character webhook-id", body, { ...signedWebhookHeaders(body, { id: "m".repeat(300) }) }],
      ["a non-numeric timestamp", body, { ...good, "webhook-timestamp": "now" }],
      ["no webhook-id", body, Object.fromEntries(Object.entries(good).filter(([k]) => k !== "webhook-id"))],
    ];
    for (const [name, forgedBody, headers] of forgeries) {
      const response = await post(forgedBody, headers);
      expect(response.status, name).toBe(401);
      await expectProblem(response, 401, "invalid_signature");
    }
    expect(((await (await call("GET", `/v1/orders/${order.id}`, { headers: cart.headers })).json()) as Order).status).toBe(
      "pending_payment",
    );
    expect(await levels(sku)).toEqual({ on_hand: 10, reserved: 2, available: 8 });
    // The genuine one still works, once.
    expect((await post(body, good)).status).toBe(204);
    expect(await levels(sku)).toEqual({ on_hand: 8, reserved: 0, available: 8 });
  });

  it("treats a replayed webhook as a no-op, whether replayed verbatim or re-sent under a new id", async () => {
    const { sku, order } = await orderedCart();
    const body = event(order.id, order.total.amount);
    const headers = signedWebhookHeaders(body);
    expect((await post(body, headers)).status).toBe(204);
    for (let i = 0; i < 3; i++) expect((await post(body, headers)).status).toBe(204);
    // The provider's own retry of the same payment under a fresh id: recorded, nothing sold twice.
    expect((await post(body, signedWebhookHeaders(body))).status).toBe(204);
    expect(await levels(sku)).toEqual({ on_hand: 8, reserved: 0, available: 8 });
    expect(await inventoryStub(env, sku).verify()).toMatchObject({ ok: true, sold: 2 });
    // A replay older than the 5-minute tolerance is refused outright.
    await expectProblem(await post(body, signedWebhookHeaders(body, { at: new Date(Date.now() - 10 * 60_000) })), 401, "invalid_signature");
  });

  it("ignores extra fields a forger adds to a genuine event and still checks the amount", async () => {
    const { cart, order } = await orderedCart();
    const body = event(order.id, 1, { status: "paid", total: order.total, amount_paid: order.total.amount });
    await expectProblem(await post(body, signedWebhookHeaders(body)), 409, "amount_mismatch");
    expect(((await (await call("GET", `/v1/orders/${order.id}`, { headers: cart.headers })).json()) as Order).status).toBe(
      "pending_payment",
    );
  });
});

describe("Idempotency-Key abuse", () => {
  it("refuses malformed keys with 400 before anything runs", async () => {
    const { cart } = await orderedCart();
    for (const key of ["k".repeat(256), "k".repeat(64 * 1024), "tab\there", "caf\u00e9", ""]) {
      const response = await call("POST", "/v1/carts", { headers: { ...clientIpHeader(), "idempotency-key": key } });
      const problem = await expectProblem(response, 400, "invalid_request");
      expect(problem.errors).toEqual([{ path: "header.idempotency-key", message: expect.any(String) }]);
      await expectProblem(
        await call("POST", `/v1/orders/ord_${cart.id}/cancel`, { headers: { ...cart.headers, "idempotency-key": key } }),
        400,
        "invalid_request",
      );
    }
    // The order was not cancelled by any of them.
    expect((await cartStub(env, cart.id)!.orderForAdmin())?.status).toBe("pending_payment");
  });

  it("scopes keys to the credential: another cart's token never gets the first caller's stored answer", async () => {
    const { cart, order } = await orderedCart();
    const key = unique("shared");
    // The victim's checkout is stored under (victim token, key); replayed to the victim only.
    const victimReplay = await call("POST", `/v1/carts/${cart.id}/checkout`, {
      body: { email: "sec@example.com" },
      headers: { ...cart.headers, "idempotency-key": key },
    });
    expect(victimReplay.status).toBe(409);
    const attacker = await newCart();
    const stolen = await call("POST", `/v1/carts/${cart.id}/checkout`, {
      body: { email: "sec@example.com" },
      headers: { ...attacker.headers, "idempotency-key": key },
    });
    await expectProblem(stolen, 404, "not_found");
    expect(stolen.headers.get("idempotent-replayed")).toBeNull();
    // The same key from a third cart, on its own cart, is that cart's own request.
    const third = await newCart();
    await expectProblem(
      await call("POST", `/v1/carts/${third.id}/checkout`, {
        body: { email: "sec@example.com" },
        headers: { ...third.headers, "idempotency-key": key },
      }),
      409,
      "cart_empty",
    );
    // And the order itself cannot be read or cancelled through a replay.
    const cancelKey = unique("cancel");
    await expectProblem(
      await call("POST", `/v1/orders/${order.id}/cancel`, { headers: { ...attacker.headers, "idempotency-key": cancelKey } }),
      404,
      "not_found",
    );
    expect((await cartStub(env, cart.id)!.orderForAdmin())?.status).toBe("pending_payment");
  });

  it("never replays one client's new cart (and its token) to another client that reuses the key", async () => {
    const key = unique("cart-key");
    const first = await call("POST", "/v1/carts", { headers: { "cf-connecting-ip": "198.51.100.7", "idempotency-key": key } });
    const other = await call("POST", "/v1/carts", { headers: { "cf-connecting-ip": "198.51.100.8", "idempotency-key": key } });
    expect([first.status, other.status]).toEqual([201, 201]);
    const [a, b] = [(await first.json()) as Cart & { token: string }, (await other.json()) as Cart & { token: string }];
    expect(b.id).not.toBe(a.id);
    expect(b.token).not.toBe(a.token);
    expect(other.headers.get("idempotent-replayed")).toBeNull();
  });

  it("answers 422 to an admin key reused with another body, on another SKU or on another route, changing nothing", async () => {
    const skus = [await stockedSku("IK", 5), await stockedSku("IK", 5)];
    const key = unique("adm");
    const adjust = (sku: string, delta: number) =>
      call("POST", `/v1/admin/inventory/${sku}/adjustments`, {
        body: { delta, reason: "count" },
        headers: { ...ADMIN, "idempotency-key": key },
      });
    expect((await adjust(skus[0]!, 1)).status).toBe(200);
    await expectProblem(await adjust(skus[0]!, 2), 422, "idempotency_key_reused");
    await expectProblem(await adjust(skus[1]!, 1), 422, "idempotency_key_reused");
    await expectProblem(
      await call("POST", "/v1/admin/maintenance/restore-inventory", {
        body: { skus: [skus[0]] },
        headers: { ...ADMIN, "idempotency-key": key },
      }),
      422,
      "idempotency_key_reused",
    );
    expect([(await levels(skus[0]!)).on_hand, (await levels(skus[1]!)).on_hand]).toEqual([6, 5]);
  });
});

describe("mass assignment", () => {
  it("refuses server-owned fields in every body with 400, naming each, and changes nothing", async () => {
    const { sku, productId, cart, order } = await orderedCart();
    const open = await newCart();
    expect((await put(open, sku, 1)).status).toBe(200);
    const before = {
      open: await cartStub(env, open.id)!.view(await accessOf(open)),
      order: await cartStub(env, cart.id)!.orderForAdmin(),
      stock: await levels(sku),
    };
    const product = { title: "T", status: "active", variants: [{ sku, title: "V", price: { amount: 1, currency: "USD" } }] };
    const cases: Array<[string, string, Record<string, string>, Record<string, unknown>, string[]]> = [
      [
        "POST",
        "/v1/carts",
        clientIpHeader(),
        { status: "checked_out", id: "0".repeat(64), token: "mine", version: 9 },
        ["status", "id", "token", "version"],
      ],
      [
        "POST",
        "/v1/carts",
        clientIpHeader(),
        { currency: "USD", order_id: order.id, expires_at: "2999-01-01T00:00:00Z" },
        ["order_id", "expires_at"],
      ],
      [
        "PUT",
        `/v1/carts/${open.id}/items/${sku}`,
        open.headers,
        { quantity: 1, unit_price: { amount: 0, currency: "USD" }, status: "open" },
        ["unit_price", "status"],
      ],
      ["PUT", `/v1/carts/${open.id}/items/${sku}`, open.headers, { quantity: 1, version: 1, line_total: 0 }, ["version", "line_total"]],
      [
        "POST",
        `/v1/carts/${open.id}/checkout`,
        { ...open.headers, "idempotency-key": unique("k") },
        { email: "a@b.example", total: { amount: 0, currency: "USD" }, status: "paid" },
        ["total", "status"],
      ],
      [
        "PUT",
        `/v1/admin/products/${productId}`,
        ADMIN,
        { ...product, id: "other", updated_at: "2020-01-01T00:00:00Z", version: 99 },
        ["id", "updated_at", "version"],
      ],
      [
        "PUT",
        `/v1/admin/products/${productId}`,
        ADMIN,
        { ...product, variants: [{ ...product.variants[0], on_hand: 1000, product_id: "x" }] },
        ["variants.0.on_hand", "variants.0.product_id"],
      ],
      ["PUT", `/v1/admin/inventory/${sku}`, ADMIN, { on_hand: 50, reserved: 0, sold: 0 }, ["reserved", "sold"]],
      ["POST", `/v1/admin/inventory/${sku}/adjustments`, ADMIN, { delta: 5, reason: "x", on_hand: 1 }, ["on_hand"]],
      [
        "POST",
        `/v1/admin/inventory/${sku}/adjustments`,
        ADMIN,
        JSON.parse('{"delta": 5, "reason": "x", "__proto__": {"on_hand": 1}, "constructor": 1}') as Record<string, unknown>,
        ["__proto__", "constructor"],
      ],
    ];
    for (const [method, path, headers, body, fields] of cases) {
      const problem = await expectProblem(await call(method, path, { body, headers }), 400, "invalid_request");
      expect(
        (problem.errors as Array<{ path: string; message: string }>)
          .filter((e) => e.message === "unknown field")
          .map((e) => e.path)
          .sort(),
        `${method} ${path}`,
      ).toEqual([...fields].sort());
    }
    expect({
      open: await cartStub(env, open.id)!.view(await accessOf(open)),
      order: await cartStub(env, cart.id)!.orderForAdmin(),
      stock: await levels(sku),
    }).toEqual(before);
    expect((await inventoryStub(env, sku).pricing())?.price).toEqual({ amount: 1500, currency: "USD" });
  });
});
