// Security properties of the HTTP surface, route by route from the served OpenAPI document:
// credentials, object-level authorization, webhook authenticity, Idempotency-Key scoping, mass
// assignment, size and rate limits, and secrets kept out of storage and logs. Credentials and
// object-level authorization here; webhooks, Idempotency-Keys and mass assignment in
// security-webhooks-keys.test.ts; size and rate limits and logs in security-limits-logs.test.ts.
// (test/admin-auth.test.ts covers the basic bad-token cases on one admin route; this file
// extends them to every admin route and to the comparison itself.)
import { createExecutionContext, env } from "cloudflare:test";
import { inArray } from "drizzle-orm";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { withDb } from "../src/db/client";
import { orders } from "../src/db/schema";
import worker from "../src/index";
import { cartStub, idempotencyStub, inventoryStub } from "../src/objects/stubs";
import { secretsEqual, sha256Hex } from "../src/platform/crypto";
import { ADMIN, accessOf, BASE, call, clientIpHeader, eventually, expectProblem, newCart, sendPayment, unique } from "./helpers";
import { fillPath, type Operation, servedOperations } from "./lib/openapi";
import { dumpStorage, levels, orderedCart, problemShape, put } from "./lib/security";
import { TEST_ADMIN_TOKEN } from "./secrets";

let operations: Operation[] = [];
beforeAll(async () => {
  operations = await servedOperations();
});

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
    const values = {
      sku,
      product_id: unique("p"),
      order_id: `ord_${cart.id}`,
      key_id: `sfk_${"0".repeat(32)}`,
      promotion_id: unique("promo"),
      country: "QZ",
      endpoint_id: `we_${"0".repeat(32)}`,
      delivery_id: `whd_${"0".repeat(32)}`,
    };
    let checked = 0;
    for (const op of admin) {
      for (const [, headers] of [
        ...badCredentials,
        ["a cart token", { authorization: cart.headers.authorization }] as [string, Record<string, string>],
      ]) {
        const response = await call(op.method, fillPath(op.path, values), { headers, ...(op.body ? { body: {} } : {}) });
        expect(response.headers.get("www-authenticate"), `${op.method} ${op.path}`).toBe('Bearer realm="edgecart"');
        await expectProblem(response, 401, "unauthorized");
        checked++;
      }
    }
    // The token in the query string is not a credential either, nor one with a non-ASCII byte
    // appended (sent once: workerd logs a warning for every non-ASCII header value).
    await expectProblem(await call("GET", `/v1/admin/inventory/${sku}?token=${TEST_ADMIN_TOKEN}`), 401, "unauthorized");
    await expectProblem(
      await call("GET", `/v1/admin/inventory/${sku}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}\u00e9` } }),
      401,
      "unauthorized",
    );
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
        const response = await worker.fetch(
          new Request(`${BASE}/v1/admin/orders`, { headers: { authorization } }),
          unconfigured,
          createExecutionContext(),
        );
        await expectProblem(response, 401, "unauthorized");
      }
    }
  });
});

describe("object-level authorization on cart and order routes", () => {
  it("answers a foreign, made-up or admin token on EVERY cart and order operation exactly as a cart or order that does not exist", async () => {
    const cartOps = operations.filter((op) => op.security === "cartToken");
    expect(cartOps.map((op) => op.operationId).sort()).toEqual(
      expect.arrayContaining(["getCart", "setCartItem", "removeCartItem", "checkout", "getOrder", "cancelOrder"]),
    );
    const { sku, cart } = await orderedCart();
    const open = await newCart();
    expect((await put(open, sku, 1)).status).toBe(200);
    const stranger = await newCart();
    const before = {
      ordered: await cartStub(env, cart.id)!.orderForAdmin(),
      open: await cartStub(env, open.id)!.view(await accessOf(open)),
      stock: await levels(sku),
    };
    const missingCart = "0".repeat(64);
    const impostors: Record<string, Record<string, string>> = {
      "another cart's token": stranger.headers,
      "a made-up token": { authorization: `Bearer ${"A".repeat(43)}`, ...clientIpHeader() },
      "the admin token": { ...ADMIN, ...clientIpHeader() },
    };
    let compared = 0;
    for (const op of cartOps) {
      for (const victim of [cart, open]) {
        const ids = { cart_id: victim.id, order_id: `ord_${victim.id}`, sku, code: "SAVE10" };
        const missing = { cart_id: missingCart, order_id: `ord_${missingCart}`, sku, code: "SAVE10" };
        const bodies: Record<string, unknown> = { checkout: { email: "attacker@example.com" }, setCartShipTo: { country: "DE" } };
        const body = op.body ? (bodies[op.operationId] ?? { quantity: 1 }) : undefined;
        const send = (values: Record<string, string>, headers: Record<string, string>) =>
          call(op.method, fillPath(op.path, values), {
            headers: { ...headers, ...(op.method === "POST" ? { "idempotency-key": unique("k") } : {}) },
            ...(body ? { body } : {}),
          });
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
    expect({
      ordered: await cartStub(env, cart.id)!.orderForAdmin(),
      open: await cartStub(env, open.id)!.view(await accessOf(open)),
      stock: await levels(sku),
    }).toEqual(before);
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
    const checkoutAgain = await call("POST", `/v1/carts/${cart.id}/checkout`, {
      body: { email: "sec@example.com" },
      headers: { ...cart.headers, "idempotency-key": key },
    });
    expect(checkoutAgain.status).toBe(409);
    const record = idempotencyStub(env, await sha256Hex(`cart:${cart.token}`), await sha256Hex(key));
    const recordDump = await dumpStorage(record);
    expect(recordDump).toContain("cart_not_open");
    expect(recordDump).not.toContain(cart.token);
    const archived = await eventually(
      () =>
        withDb(env, (db) =>
          db
            .select()
            .from(orders)
            .where(inArray(orders.id, [order.id])),
        ),
      (rows) => rows.length === 1,
    );
    expect(archived).toHaveLength(1);
    expect(JSON.stringify(archived)).not.toContain(cart.token);
  });

  it("marks every answer that carries a cart or an order no-store", async () => {
    const { cart, order } = await orderedCart();
    const created = await call("POST", "/v1/carts", { headers: clientIpHeader() });
    for (const response of [
      created,
      await call("GET", `/v1/carts/${cart.id}`, { headers: cart.headers }),
      await call("GET", `/v1/orders/${order.id}`, { headers: cart.headers }),
    ]) {
      expect(response.status).toBeLessThan(300);
      expect(response.headers.get("cache-control")).toBe("no-store");
    }
  });
});
