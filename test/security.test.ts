// Security properties of the HTTP surface, route by route from the served OpenAPI document:
// credentials, object-level authorization, webhook authenticity, Idempotency-Key scoping, mass
// assignment, size and rate limits, and secrets kept out of storage and logs.
// (test/admin-auth.test.ts covers the basic bad-token cases on one admin route; this file
// extends them to every admin route and to the comparison itself.)
import { createExecutionContext, createMessageBatch, env, getQueueResult, runInDurableObject } from "cloudflare:test";
import { inArray } from "drizzle-orm";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Cart, Order } from "../src/contracts";
import { withDb } from "../src/db/client";
import { orders } from "../src/db/schema";
import { secretsEqual, sha256Hex } from "../src/platform/crypto";
import worker from "../src/index";
import { cartStub, idempotencyStub, inventoryStub } from "../src/objects/stubs";
import { ADMIN, accessOf, BASE, call, clientIpHeader, eventually, expectProblem, newCart, sendPayment, signedWebhookHeaders, stockedSku, unique } from "./helpers";
import { fillPath, type Operation, servedOperations } from "./lib/openapi";
import { TEST_ADMIN_TOKEN, TEST_WEBHOOK_SECRET } from "./secrets";

type CartHandle = Awaited<ReturnType<typeof newCart>>;

let operations: Operation[] = [];
beforeAll(async () => {
  operations = await servedOperations();
});

async function put(cart: CartHandle, sku: string, quantity: number): Promise<Response> {
  return call("PUT", `/v1/carts/${cart.id}/items/${sku}`, { body: { quantity }, headers: cart.headers });
}

/** A cart holding 2 of a fresh SKU (stock 10), checked out: its pending order. */
async function orderedCart() {
  const sku = await stockedSku("SEC", 10, { price: { amount: 1500, currency: "USD" } });
  const productId = `product-${sku}`;
  const cart = await newCart();
  expect((await put(cart, sku, 2)).status).toBe(200);
  const response = await call("POST", `/v1/carts/${cart.id}/checkout`, { body: { email: "sec@example.com" }, headers: { ...cart.headers, "idempotency-key": unique("k") } });
  expect(response.status).toBe(201);
  return { sku, productId, cart, order: (await response.json()) as Order };
}

async function levels(sku: string) {
  const snapshot = await inventoryStub(env, sku).snapshot();
  if (!snapshot.ok) throw new Error(snapshot.reason);
  const { on_hand, reserved, available } = snapshot.snapshot;
  return { on_hand, reserved, available };
}

/** Every row of every user table in an object's SQLite database, as one string. */
async function dumpStorage(stub: DurableObjectStub): Promise<string> {
  return runInDurableObject(stub, (_instance, state) => {
    const tables = state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite_%'")
      .toArray()
      .map((t) => t.name);
    return JSON.stringify(tables.map((t) => ({ table: t, rows: state.storage.sql.exec(`SELECT * FROM "${t}"`).toArray() })), (_k, v: unknown) => (v instanceof ArrayBuffer ? new TextDecoder().decode(v) : v));
  });
}

/** A problem body without its per-request member, for comparing two answers. */
async function problemShape(response: Response) {
  const body = (await response.json()) as Record<string, unknown>;
  delete body.request_id;
  const headers = [...response.headers.keys()].filter((h) => h !== "x-request-id").sort();
  return { status: response.status, headers, body };
}

describe("admin routes refuse every credential but the admin token", () => {
  const badCredentials: Array<[string, Record<string, string>]> = [
    ["no credential", {}],
    ["the token in another case", { authorization: `Bearer ${TEST_ADMIN_TOKEN.toUpperCase()}` }],
    ["the token with a space inside", { authorization: `Bearer ${TEST_ADMIN_TOKEN.slice(0, 8)} ${TEST_ADMIN_TOKEN.slice(8)}` }],
    ["the token twice", { authorization: `Bearer ${TEST_ADMIN_TOKEN}${TEST_ADMIN_TOKEN}` }],
    ["a doubled scheme", { authorization: `Bearer Bearer ${TEST_ADMIN_TOKEN}` }],
    ["a 16 KiB token", { authorization: `Bearer ${"a".repeat(16 * 1024)}` }],
    ["the token as a cookie", { cookie: `token=${TEST_ADMIN_TOKEN}` }],
    ["the token in another header", { "x-admin-token": TEST_ADMIN_TOKEN }],
  ];

  it("answers 401 unauthorized with a Bearer challenge on every admin operation, for every wrong credential and for a cart token", async () => {
    const admin = operations.filter((op) => op.security === "adminToken");
    expect(admin.length).toBeGreaterThanOrEqual(10);
    const cart = await newCart();
    const sku = unique("ADM");
    const values = { sku, product_id: unique("p"), order_id: `ord_${cart.id}`, key_id: `sfk_${"0".repeat(32)}`, endpoint_id: `we_${"0".repeat(32)}`, delivery_id: `whd_${"0".repeat(32)}` };
    let checked = 0;
    for (const op of admin) {
      for (const [, headers] of [...badCredentials, ["a cart token", { authorization: cart.headers.authorization }] as [string, Record<string, string>]]) {
        const response = await call(op.method, fillPath(op.path, values), { headers, ...(op.body ? { body: {} } : {}) });
        expect(response.headers.get("www-authenticate"), `${op.method} ${op.path}`).toBe('Bearer realm="edgecart"');
        await expectProblem(response, 401, "unauthorized");
        checked++;
      }
    }
    // The token in the query string is not a credential either, nor one with a non-ASCII byte
    // appended (sent once: workerd logs a warning for every non-ASCII header value).
    await expectProblem(await call("GET", `/v1/admin/inventory/${sku}?token=${TEST_ADMIN_TOKEN}`), 401, "unauthorized");
    await expectProblem(await call("GET", `/v1/admin/inventory/${sku}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}\u00e9` } }), 401, "unauthorized");
    expect(checked).toBe(admin.length * (badCredentials.length + 1));
    // Nothing was created by any of them.
    expect((await inventoryStub(env, sku).snapshot()).ok).toBe(false);
  });

  it("compares tokens in constant time: both sides are hashed to 32 bytes and compared with timingSafeEqual", async () => {
    const spy = vi.spyOn(crypto.subtle, "timingSafeEqual");
    try {
      for (const presented of ["x", TEST_ADMIN_TOKEN.slice(0, -1), `${TEST_ADMIN_TOKEN}x`, "y".repeat(5000), TEST_ADMIN_TOKEN]) {
        spy.mockClear();
        const response = await call("GET", `/v1/admin/inventory/${unique("CT")}`, { headers: { authorization: `Bearer ${presented}` } });
        expect(response.status).toBe(presented === TEST_ADMIN_TOKEN ? 404 : 401);
        // One comparison, of equal-length digests, whatever the presented length or prefix.
        expect(spy).toHaveBeenCalledTimes(1);
        const [a, b] = spy.mock.calls[0]!;
        expect([(a as ArrayBuffer).byteLength, (b as ArrayBuffer).byteLength]).toEqual([32, 32]);
      }
      expect(await secretsEqual("", TEST_ADMIN_TOKEN)).toBe(false);
    } finally {
      spy.mockRestore();
    }
  });

  it("fails closed when no admin token is configured", async () => {
    for (const token of ["", undefined]) {
      const unconfigured = { ...env, ADMIN_TOKEN: token } as unknown as Env;
      for (const authorization of ["Bearer ", "Bearer undefined", `Bearer ${TEST_ADMIN_TOKEN}`]) {
        const response = await worker.fetch(new Request(`${BASE}/v1/admin/orders`, { headers: { authorization } }), unconfigured, createExecutionContext());
        await expectProblem(response, 401, "unauthorized");
      }
    }
  });
});

describe("object-level authorization on cart and order routes", () => {
  it("answers a foreign, made-up or admin token on EVERY cart and order operation exactly as a cart or order that does not exist", async () => {
    const cartOps = operations.filter((op) => op.security === "cartToken");
    expect(cartOps.map((op) => op.operationId).sort()).toEqual(expect.arrayContaining(["getCart", "setCartItem", "removeCartItem", "checkout", "getOrder", "cancelOrder"]));
    const { sku, cart } = await orderedCart();
    const open = await newCart();
    expect((await put(open, sku, 1)).status).toBe(200);
    const stranger = await newCart();
    const before = { ordered: await cartStub(env, cart.id)!.orderForAdmin(), open: await cartStub(env, open.id)!.view(await accessOf(open)), stock: await levels(sku) };
    const missingCart = "0".repeat(64);
    const impostors: Record<string, Record<string, string>> = {
      "another cart's token": stranger.headers,
      "a made-up token": { authorization: `Bearer ${"A".repeat(43)}`, ...clientIpHeader() },
      "the admin token": { ...ADMIN, ...clientIpHeader() },
    };
    let compared = 0;
    for (const op of cartOps) {
      for (const victim of [cart, open]) {
        const ids = { cart_id: victim.id, order_id: `ord_${victim.id}`, sku };
        const missing = { cart_id: missingCart, order_id: `ord_${missingCart}`, sku };
        const body = op.body ? (op.operationId === "checkout" ? { email: "attacker@example.com" } : { quantity: 1 }) : undefined;
        const send = (values: Record<string, string>, headers: Record<string, string>) =>
          call(op.method, fillPath(op.path, values), { headers: { ...headers, ...(op.method === "POST" ? { "idempotency-key": unique("k") } : {}) }, ...(body ? { body } : {}) });
        const reference = await problemShape(await send(missing, stranger.headers));
        expect(reference.status, `${op.operationId} on a missing cart`).toBe(404);
        expect(reference.body.code).toBe("not_found");
        for (const [name, headers] of Object.entries(impostors)) {
          const answer = await problemShape(await send(ids, headers));
          expect(answer, `${op.operationId} with ${name}`).toEqual(reference);
          compared++;
        }
      }
    }
    expect(compared).toBe(cartOps.length * 2 * Object.keys(impostors).length);
    // And nothing changed: no foreign PUT, DELETE, checkout or cancel took effect.
    expect({ ordered: await cartStub(env, cart.id)!.orderForAdmin(), open: await cartStub(env, open.id)!.view(await accessOf(open)), stock: await levels(sku) }).toEqual(before);
  });

  it("never stores a cart token: not in the cart object, its order, its idempotency records, nor in Postgres", async () => {
    const { cart, order } = await orderedCart();
    expect((await sendPayment(order.id, order.total.amount, "USD")).status).toBe(204);
    const dump = await dumpStorage(cartStub(env, cart.id)!);
    // Nothing of the token is stored: it is checked against the cart id by its MAC.
    expect(dump).toContain(cart.id);
    expect(dump).not.toContain(cart.token);
    expect(dump).not.toContain(cart.token.split(".").at(-1));
    expect(dump).not.toContain(await sha256Hex(cart.token));
    // The checkout's Idempotency-Key record is named by hashes and holds the order, not the token.
    const key = unique("k");
    const checkoutAgain = await call("POST", `/v1/carts/${cart.id}/checkout`, { body: { email: "sec@example.com" }, headers: { ...cart.headers, "idempotency-key": key } });
    expect(checkoutAgain.status).toBe(409);
    const record = idempotencyStub(env, await sha256Hex(`cart:${cart.token}`), await sha256Hex(key));
    const recordDump = await dumpStorage(record);
    expect(recordDump).toContain("cart_not_open");
    expect(recordDump).not.toContain(cart.token);
    const archived = await eventually(() => withDb(env, (db) => db.select().from(orders).where(inArray(orders.id, [order.id]))), (rows) => rows.length === 1, 400);
    expect(archived).toHaveLength(1);
    expect(JSON.stringify(archived)).not.toContain(cart.token);
  });

  it("marks every answer that carries a cart or an order no-store", async () => {
    const { cart, order } = await orderedCart();
    const created = await call("POST", "/v1/carts", { headers: clientIpHeader() });
    for (const response of [created, await call("GET", `/v1/carts/${cart.id}`, { headers: cart.headers }), await call("GET", `/v1/orders/${order.id}`, { headers: cart.headers })]) {
      expect(response.status).toBeLessThan(300);
      expect(response.headers.get("cache-control")).toBe("no-store");
    }
  });
});

describe("payment webhooks", () => {
  function event(orderId: string, amount: number, extra: Record<string, unknown> = {}) {
    return JSON.stringify({ type: "payment.succeeded", data: { order_id: orderId, amount, currency: "USD", payment_id: "pi_sec", ...extra } });
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
    expect(((await (await call("GET", `/v1/orders/${order.id}`, { headers: cart.headers })).json()) as Order).status).toBe("pending_payment");
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
    expect(((await (await call("GET", `/v1/orders/${order.id}`, { headers: cart.headers })).json()) as Order).status).toBe("pending_payment");
  });
});

describe("Idempotency-Key abuse", () => {
  it("refuses malformed keys with 400 before anything runs", async () => {
    const { cart } = await orderedCart();
    for (const key of ["k".repeat(256), "k".repeat(64 * 1024), "tab\there", "caf\u00e9", ""]) {
      const response = await call("POST", "/v1/carts", { headers: { ...clientIpHeader(), "idempotency-key": key } });
      const problem = await expectProblem(response, 400, "invalid_request");
      expect(problem.errors).toEqual([{ path: "header.idempotency-key", message: expect.any(String) }]);
      await expectProblem(await call("POST", `/v1/orders/ord_${cart.id}/cancel`, { headers: { ...cart.headers, "idempotency-key": key } }), 400, "invalid_request");
    }
    // The order was not cancelled by any of them.
    expect((await cartStub(env, cart.id)!.orderForAdmin())?.status).toBe("pending_payment");
  });

  it("scopes keys to the credential: another cart's token never gets the first caller's stored answer", async () => {
    const { cart, order } = await orderedCart();
    const key = unique("shared");
    // The victim's checkout is stored under (victim token, key); replayed to the victim only.
    const victimReplay = await call("POST", `/v1/carts/${cart.id}/checkout`, { body: { email: "sec@example.com" }, headers: { ...cart.headers, "idempotency-key": key } });
    expect(victimReplay.status).toBe(409);
    const attacker = await newCart();
    const stolen = await call("POST", `/v1/carts/${cart.id}/checkout`, { body: { email: "sec@example.com" }, headers: { ...attacker.headers, "idempotency-key": key } });
    await expectProblem(stolen, 404, "not_found");
    expect(stolen.headers.get("idempotent-replayed")).toBeNull();
    // The same key from a third cart, on its own cart, is that cart's own request.
    const third = await newCart();
    await expectProblem(await call("POST", `/v1/carts/${third.id}/checkout`, { body: { email: "sec@example.com" }, headers: { ...third.headers, "idempotency-key": key } }), 409, "cart_empty");
    // And the order itself cannot be read or cancelled through a replay.
    const cancelKey = unique("cancel");
    await expectProblem(await call("POST", `/v1/orders/${order.id}/cancel`, { headers: { ...attacker.headers, "idempotency-key": cancelKey } }), 404, "not_found");
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
    const adjust = (sku: string, delta: number) => call("POST", `/v1/admin/inventory/${sku}/adjustments`, { body: { delta, reason: "count" }, headers: { ...ADMIN, "idempotency-key": key } });
    expect((await adjust(skus[0]!, 1)).status).toBe(200);
    await expectProblem(await adjust(skus[0]!, 2), 422, "idempotency_key_reused");
    await expectProblem(await adjust(skus[1]!, 1), 422, "idempotency_key_reused");
    await expectProblem(await call("POST", "/v1/admin/maintenance/restore-inventory", { body: { skus: [skus[0]] }, headers: { ...ADMIN, "idempotency-key": key } }), 422, "idempotency_key_reused");
    expect([(await levels(skus[0]!)).on_hand, (await levels(skus[1]!)).on_hand]).toEqual([6, 5]);
  });
});

describe("mass assignment", () => {
  it("refuses server-owned fields in every body with 400, naming each, and changes nothing", async () => {
    const { sku, productId, cart, order } = await orderedCart();
    const open = await newCart();
    expect((await put(open, sku, 1)).status).toBe(200);
    const before = { open: await cartStub(env, open.id)!.view(await accessOf(open)), order: await cartStub(env, cart.id)!.orderForAdmin(), stock: await levels(sku) };
    const product = { title: "T", status: "active", variants: [{ sku, title: "V", price: { amount: 1, currency: "USD" } }] };
    const cases: Array<[string, string, Record<string, string>, Record<string, unknown>, string[]]> = [
      ["POST", "/v1/carts", clientIpHeader(), { status: "checked_out", id: "0".repeat(64), token: "mine", version: 9 }, ["status", "id", "token", "version"]],
      ["POST", "/v1/carts", clientIpHeader(), { currency: "USD", order_id: order.id, expires_at: "2999-01-01T00:00:00Z" }, ["order_id", "expires_at"]],
      ["PUT", `/v1/carts/${open.id}/items/${sku}`, open.headers, { quantity: 1, unit_price: { amount: 0, currency: "USD" }, status: "open" }, ["unit_price", "status"]],
      ["PUT", `/v1/carts/${open.id}/items/${sku}`, open.headers, { quantity: 1, version: 1, line_total: 0 }, ["version", "line_total"]],
      ["POST", `/v1/carts/${open.id}/checkout`, { ...open.headers, "idempotency-key": unique("k") }, { email: "a@b.example", total: { amount: 0, currency: "USD" }, status: "paid" }, ["total", "status"]],
      ["PUT", `/v1/admin/products/${productId}`, ADMIN, { ...product, id: "other", updated_at: "2020-01-01T00:00:00Z", version: 99 }, ["id", "updated_at", "version"]],
      ["PUT", `/v1/admin/products/${productId}`, ADMIN, { ...product, variants: [{ ...product.variants[0], on_hand: 1000, product_id: "x" }] }, ["variants.0.on_hand", "variants.0.product_id"]],
      ["PUT", `/v1/admin/inventory/${sku}`, ADMIN, { on_hand: 50, reserved: 0, sold: 0 }, ["reserved", "sold"]],
      ["POST", `/v1/admin/inventory/${sku}/adjustments`, ADMIN, { delta: 5, reason: "x", on_hand: 1 }, ["on_hand"]],
      ["POST", `/v1/admin/inventory/${sku}/adjustments`, ADMIN, JSON.parse('{"delta": 5, "reason": "x", "__proto__": {"on_hand": 1}, "constructor": 1}') as Record<string, unknown>, ["__proto__", "constructor"]],
    ];
    for (const [method, path, headers, body, fields] of cases) {
      const problem = await expectProblem(await call(method, path, { body, headers }), 400, "invalid_request");
      expect((problem.errors as Array<{ path: string; message: string }>).filter((e) => e.message === "unknown field").map((e) => e.path).sort(), `${method} ${path}`).toEqual([...fields].sort());
    }
    expect({ open: await cartStub(env, open.id)!.view(await accessOf(open)), order: await cartStub(env, cart.id)!.orderForAdmin(), stock: await levels(sku) }).toEqual(before);
    expect((await inventoryStub(env, sku).pricing())?.price).toEqual({ amount: 1500, currency: "USD" });
  });
});

describe("body size limit", () => {
  it("answers 413 for a body over 64 KiB on every operation that takes a body, before authentication", async () => {
    const withBody = operations.filter((op) => op.method === "POST" || op.method === "PUT");
    expect(withBody.length).toBeGreaterThanOrEqual(8);
    const big = JSON.stringify({ pad: "x".repeat(64 * 1024) });
    const values = { cart_id: "0".repeat(64), order_id: `ord_${"0".repeat(64)}`, sku: "SKU-1", product_id: "p-1", key_id: `sfk_${"0".repeat(32)}`, endpoint_id: `we_${"0".repeat(32)}`, delivery_id: `whd_${"0".repeat(32)}` };
    for (const op of withBody) {
      // No credential at all: the size is refused first, so an anonymous client cannot make the
      // Worker buffer a large body on an authenticated route.
      const response = await call(op.method, fillPath(op.path, values), { body: big, headers: { "content-type": "application/json" } });
      await expectProblem(response, 413, "payload_too_large");
    }
    // Exactly 64 KiB is still read (and then judged on its content).
    const limit = JSON.stringify({ on_hand: 1, pad: "" }).length;
    const exact = JSON.stringify({ on_hand: 1, pad: "x".repeat(64 * 1024 - limit) });
    expect(new TextEncoder().encode(exact).byteLength).toBe(64 * 1024);
    await expectProblem(await call("PUT", `/v1/admin/inventory/${unique("S")}`, { body: exact, headers: { ...ADMIN, "content-type": "application/json" } }), 400, "invalid_request");
  });
});

describe("rate limits", () => {
  /**
   * The limiter counts in wall-clock-aligned windows of a minute. Runs `burst` (which only
   * records), and runs it once more if a window boundary fell inside it, so that the assertions
   * see one window.
   */
  async function inOneWindow<T>(burst: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const window = Math.floor(Date.now() / 60_000);
      const result = await burst();
      if (Math.floor(Date.now() / 60_000) === window || attempt === 1) return result;
    }
  }

  it("limits cart creation per client IP (429 rate_limited with Retry-After), without affecting other IPs or trusting X-Forwarded-For", async () => {
    const { statuses, limited } = await inOneWindow(async () => {
      const ip = clientIpHeader();
      const statuses: number[] = [];
      let limited: Response | null = null;
      for (let i = 0; i < 22; i++) {
        const response = await call("POST", "/v1/carts", { headers: { ...ip, "x-forwarded-for": `203.0.113.${i}` } });
        statuses.push(response.status);
        if (response.status === 429) limited ??= response;
        else await response.body?.cancel();
      }
      return { statuses, limited };
    });
    expect(statuses).toEqual([...Array<number>(20).fill(201), 429, 429]);
    expect(limited!.headers.get("retry-after")).toBe("60");
    await expectProblem(limited!, 429, "rate_limited");
    expect((await call("POST", "/v1/carts", { headers: clientIpHeader() })).status).toBe(201);
  });

  it("limits cart changes per client IP (300 a minute), and a limited change changes nothing", async () => {
    const sku = await stockedSku("RL", 1000);
    const { cart, accepted, limited, lastAccepted } = await inOneWindow(async () => {
      const ip = clientIpHeader();
      const cart = await newCart({}, ip);
      let limited: Response | null = null;
      let accepted = 0;
      let lastAccepted = 0;
      for (let i = 1; i <= 305 && limited === null; i++) {
        const quantity = (i % 5) + 1;
        const response = await call("PUT", `/v1/carts/${cart.id}/items/${sku}`, { body: { quantity }, headers: cart.headers });
        if (response.status === 429) limited = response;
        else {
          expect(response.status).toBe(200);
          accepted++;
          lastAccepted = quantity;
          await response.body?.cancel();
        }
      }
      return { cart, accepted, limited, lastAccepted };
    });
    expect(accepted).toBe(300);
    await expectProblem(limited!, 429, "rate_limited");
    // The refused change (quantity 2) did not happen: the hold is what the last accepted one set.
    expect((await inventoryStub(env, sku).holdOf(`cart:${cart.id}:${sku}`)).quantity).toBe(lastAccepted);
  });
});

describe("secrets in logs", () => {
  afterEach(() => vi.restoreAllMocks());

  it("never logs the admin token, cart tokens, the webhook secret or the database URL, in success or failure", async () => {
    const lines: string[] = [];
    for (const level of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        lines.push(args.map((a) => (typeof a === "string" ? a : a instanceof Error ? `${a.message} ${a.stack}` : JSON.stringify(a))).join(" "));
      });
    }
    const secretDbUrl = "postgres://edgecart:pw-DO-NOT-LOG-7f3a@127.0.0.1:9/none";
    // A whole purchase, and the failures around it.
    const { sku, cart, order } = await orderedCart();
    const stranger = await newCart();
    await call("GET", `/v1/carts/${cart.id}`, { headers: stranger.headers });
    await call("PUT", `/v1/carts/${cart.id}/items/${sku}`, { body: { quantity: 1 }, headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    await call("GET", "/v1/admin/orders", { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN.slice(0, -2)}` } });
    await call("GET", `/v1/admin/inventory/${sku}?token=${cart.token}`, { headers: ADMIN });
    const body = JSON.stringify({ type: "payment.succeeded", data: { order_id: order.id, amount: order.total.amount, currency: "USD", payment_id: "pi_log" } });
    await call("POST", "/v1/webhooks/payments", { body, headers: signedWebhookHeaders(body, { secret: "whsec_" + btoa("wrong-secret-wrong-secret") }) });
    expect((await call("POST", "/v1/webhooks/payments", { body, headers: signedWebhookHeaders(body) })).status).toBe(204);
    await eventually(() => withDb(env, (db) => db.select({ id: orders.id }).from(orders).where(inArray(orders.id, [order.id]))), (rows) => rows.length === 1);
    // Database failures: the deep health check and the archival consumer against an unreachable
    // database whose URL carries a password.
    const broken = { ...env, DATABASE_URL: secretDbUrl } as Env;
    const health = await worker.fetch(new Request(`${BASE}/health?deep=1`), broken, createExecutionContext());
    expect(health.status).toBe(503);
    const archived = (await cartStub(env, cart.id)!.orderForAdmin())!;
    const batch = createMessageBatch("edgecart-orders", [{ id: "log-test", timestamp: new Date(), attempts: 1, body: { type: "order.paid", version: 1, order: { ...archived, payment_id: "pi_log", paid_at: archived.paid_at } } }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, broken, ctx);
    expect((await getQueueResult(batch, ctx)).retryMessages).toHaveLength(1);

    const log = lines.join("\n");
    // Successes are not logged line by line; the failures above are, with their context.
    expect(log).toContain('"message":"deep health check failed"');
    expect(log).toContain('"message":"order archival failed; retrying the batch"');
    const secrets: Record<string, string> = {
      "admin token": TEST_ADMIN_TOKEN,
      "truncated admin token": TEST_ADMIN_TOKEN.slice(0, -2),
      "cart token": cart.token,
      "stranger's cart token": stranger.token,
      "webhook secret": TEST_WEBHOOK_SECRET,
      "webhook secret key": TEST_WEBHOOK_SECRET.slice("whsec_".length),
      "database password": "pw-DO-NOT-LOG-7f3a",
      "database URL": secretDbUrl,
    };
    if (env.DATABASE_URL) secrets["configured database URL"] = env.DATABASE_URL;
    for (const [name, secret] of Object.entries(secrets)) expect(log.includes(secret), `${name} appears in the log`).toBe(false);
    // Queries are not logged either (a token in a query string stays out of the log).
    expect(log).not.toContain("?token=");
  });
});
