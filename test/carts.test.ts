import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { cartStub, inventoryStub } from "../src/objects/stubs";
import { ADMIN, call, clientIpHeader, createStockedProduct, expectProblem, newCart, stockedSku, unique } from "./helpers";
import { available, type CartJson, holdsOf, put, rewriteCart } from "./lib/carts";
import { inOneWindow } from "./lib/rate-windows";

describe("creating carts", () => {
  it("creates a USD cart with an unguessable id and a token shown once", async () => {
    const response = await call("POST", "/v1/carts", { headers: clientIpHeader() });
    expect(response.status).toBe(201);
    const cart = (await response.json()) as CartJson;
    expect(cart).toMatchObject({
      status: "open",
      currency: "USD",
      region: null,
      version: 1,
      items: [],
      subtotal: { amount: 0, currency: "USD" },
      order_id: null,
    });
    expect(cart.id).toMatch(/^[0-9a-f]{64}$/);
    // The token carries the cart's claims and a 256-bit HMAC (43 base64url characters).
    expect(cart.token).toMatch(/^ct2\.[A-Za-z0-9_-]{43}\.USD\.-\.[0-9a-z]+\.[A-Za-z0-9_-]{43}$/);
    expect(response.headers.get("etag")).toBe('"1"');
    const fetched = (await (
      await call("GET", `/v1/carts/${cart.id}`, { headers: { authorization: `Bearer ${cart.token}` } })
    ).json()) as CartJson;
    expect(fetched.token).toBeUndefined();
    expect(Date.parse(cart.expires_at) - Date.parse(cart.created_at)).toBe(900_000);
  });

  it("creates an EU cart (region recorded; local workerd has no jurisdictions) and finds it again by id", async () => {
    const cart = await newCart({ currency: "EUR", region: "eu" });
    expect(cart).toMatchObject({ currency: "EUR", region: "eu" });
    const fetched = await call("GET", `/v1/carts/${cart.id}`, { headers: cart.headers });
    expect(fetched.status).toBe(200);
    expect(await fetched.json()).toMatchObject({ id: cart.id, region: "eu", currency: "EUR" });
  });

  it("rejects other regions, bad currencies and unknown fields with 400", async () => {
    for (const [body, path] of [
      [{ region: "us" }, "region"],
      [{ currency: "usd" }, "currency"],
      [{ currency: "USD", coupon: "FREE" }, "coupon"],
    ] as const) {
      const problem = await expectProblem(await call("POST", "/v1/carts", { body, headers: clientIpHeader() }), 400, "invalid_request");
      expect((problem.errors as Array<{ path: string }>).map((e) => e.path)).toEqual([path]);
    }
  });

  it("stores nothing when a cart is opened, and never its token", async () => {
    const cart = await newCart();
    const tables = () =>
      runInDurableObject(cartStub(env, cart.id)!, (_i, state) =>
        state.storage.sql
          .exec<{ name: string }>(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
          )
          .toArray()
          .map((t) => t.name),
      );
    expect(await tables()).toEqual([]);
    expect((await call("GET", `/v1/carts/${cart.id}`, { headers: cart.headers })).status).toBe(200);
    expect(await tables()).toEqual([]);

    const sku = await stockedSku("TOKEN", 5);
    expect((await call("PUT", `/v1/carts/${cart.id}/items/${sku}`, { body: { quantity: 1 }, headers: cart.headers })).status).toBe(200);
    const dump = await runInDurableObject(cartStub(env, cart.id)!, (_i, state) => {
      const names = state.storage.sql
        .exec<{ name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
        )
        .toArray()
        .map((t) => t.name);
      return JSON.stringify(names.map((name) => state.storage.sql.exec(`SELECT * FROM "${name}"`).toArray()));
    });
    expect(dump).toContain(cart.id);
    expect(dump).not.toContain(cart.token);
    expect(dump).not.toContain(cart.token.split(".").at(-1));
  });
});

describe("cart access", () => {
  it("needs a token (401) and answers a foreign or made-up token exactly like a missing cart (404)", async () => {
    const mine = await newCart();
    const theirs = await newCart();
    await expectProblem(await call("GET", `/v1/carts/${mine.id}`), 401, "unauthorized");
    const foreign = await call("GET", `/v1/carts/${mine.id}`, { headers: theirs.headers });
    const madeUp = await call("GET", `/v1/carts/${mine.id}`, { headers: { authorization: "Bearer nobody-has-this-token" } });
    const missing = await call("GET", `/v1/carts/${"ab".repeat(32)}`, { headers: theirs.headers });
    const bodies = [];
    for (const response of [foreign, madeUp, missing]) {
      const body = await expectProblem(response, 404, "not_found");
      delete body.request_id;
      bodies.push(body);
    }
    expect(bodies[1]).toEqual(bodies[0]);
    expect(bodies[2]).toEqual(bodies[0]);
    await expectProblem(await put({ id: mine.id, headers: theirs.headers }, "ANY-SKU", 1), 404, "not_found");
  });
});

describe("cart lines hold stock", () => {
  it("sets lines to exact quantities with catalog prices and integer totals, holding that stock", async () => {
    const [a, b] = [unique("A"), unique("B")];
    await createStockedProduct([a], 10, {}, { amount: 1999 });
    await createStockedProduct([b], 10, {}, { amount: 350 });
    const cart = await newCart();
    let response = await put(cart, a, 2);
    expect(response.status).toBe(200);
    expect(response.headers.get("etag")).toBe('"2"');
    response = await put(cart, b, 3);
    const body = (await response.json()) as CartJson;
    expect(body.items).toEqual([
      {
        sku: a,
        product_id: expect.any(String),
        title: `Variant ${a}`,
        quantity: 2,
        unit_price: { amount: 1999, currency: "USD" },
        line_total: { amount: 3998, currency: "USD" },
        discount: { amount: 0, currency: "USD" },
        tax: { amount: 0, currency: "USD" },
      },
      {
        sku: b,
        product_id: expect.any(String),
        title: `Variant ${b}`,
        quantity: 3,
        unit_price: { amount: 350, currency: "USD" },
        line_total: { amount: 1050, currency: "USD" },
        discount: { amount: 0, currency: "USD" },
        tax: { amount: 0, currency: "USD" },
      },
    ]);
    expect(body.subtotal).toEqual({ amount: 5048, currency: "USD" });
    expect(body.version).toBe(3);
    expect([await available(a), await available(b)]).toEqual([8, 7]);
    await put(cart, a, 5);
    expect(await available(a)).toBe(5);
    await put(cart, a, 1);
    expect(await available(a)).toBe(9);
    const removed = (await (await put(cart, a, 0)).json()) as CartJson;
    expect(removed.items.map((i) => i.sku)).toEqual([b]);
    expect(await available(a)).toBe(10);
    const deleted = (await (await call("DELETE", `/v1/carts/${cart.id}/items/${b}`, { headers: cart.headers })).json()) as CartJson;
    expect(deleted.items).toEqual([]);
    expect(deleted.subtotal).toEqual({ amount: 0, currency: "USD" });
    expect(await available(b)).toBe(10);
  });

  it("answers a shortage with 409 insufficient_stock and available, leaving the cart unchanged", async () => {
    const sku = unique("SCARCE");
    await createStockedProduct([sku], 5);
    const other = await newCart();
    await put(other, sku, 3);
    const cart = await newCart();
    await put(cart, sku, 1);
    const before = await (await call("GET", `/v1/carts/${cart.id}`, { headers: cart.headers })).json();
    const problem = await expectProblem(await put(cart, sku, 4), 409, "insufficient_stock");
    expect(problem).toMatchObject({ available: 2, sku });
    expect(await (await call("GET", `/v1/carts/${cart.id}`, { headers: cart.headers })).json()).toEqual(before);
    expect(await holdsOf(sku)).toEqual(
      new Map([
        [other.id, 3],
        [cart.id, 1],
      ]),
    );
  });

  it("refuses unknown and archived SKUs with 404 and the wrong currency with 409", async () => {
    const cart = await newCart();
    await expectProblem(await put(cart, unique("NOPE"), 1), 404, "not_found");
    const archivedSku = unique("OLD");
    const product = await createStockedProduct([archivedSku], 5);
    await call("DELETE", `/v1/admin/products/${product}`, { headers: ADMIN });
    await expectProblem(await put(cart, archivedSku, 1), 404, "not_found");
    const euro = unique("EURO");
    await createStockedProduct([euro], 5, {}, { currency: "EUR" });
    expect(await expectProblem(await put(cart, euro, 1), 409, "currency_mismatch")).toMatchObject({ currency: "EUR", sku: euro });
    expect(await available(euro)).toBe(5);
  });

  it("limits a line to MAX_LINE_QUANTITY (10) or the SKU's own limit with 422", async () => {
    const [plain, limited] = [unique("PLAIN"), unique("LIMITED")];
    await createStockedProduct([plain], 50);
    const id = unique("limited");
    await call("PUT", `/v1/admin/products/${id}`, {
      body: {
        title: "Limited",
        status: "active",
        variants: [{ sku: limited, title: "L", price: { amount: 100, currency: "USD" }, max_line_quantity: 2 }],
      },
      headers: ADMIN,
    });
    await call("PUT", `/v1/admin/inventory/${limited}`, { body: { on_hand: 50 }, headers: ADMIN });
    const cart = await newCart();
    expect((await put(cart, plain, 10)).status).toBe(200);
    expect(await expectProblem(await put(cart, plain, 11), 422, "quantity_limit_exceeded")).toMatchObject({ limit: 10 });
    expect(await expectProblem(await put(cart, limited, 3), 422, "quantity_limit_exceeded")).toMatchObject({ limit: 2 });
    expect(await available(plain)).toBe(40);
  });

  it("honours If-Match: a stale version gets 412, the current one passes", async () => {
    const sku = unique("ETAG");
    await createStockedProduct([sku], 5);
    const cart = await newCart();
    await put(cart, sku, 1);
    expect(await expectProblem(await put(cart, sku, 2, { "if-match": '"1"' }), 412, "version_mismatch")).toMatchObject({ version: 2 });
    expect((await put(cart, sku, 2, { "if-match": '"2"' })).status).toBe(200);
    expect(await available(sku)).toBe(3);
  });

  it("moves the cart's expiry on each change and renews every other line's hold before it lapses", async () => {
    const [a, b] = [unique("A"), unique("B")];
    await createStockedProduct([a, b], 5);
    const cart = await newCart();
    await put(cart, a, 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const after = (await (await put(cart, b, 1)).json()) as CartJson;
    const holdExpiry = async (sku: string) => {
      const snapshot = await inventoryStub(env, sku).snapshot();
      return Date.parse((snapshot.ok ? snapshot.snapshot.holds.find((h) => h.owner_id === cart.id) : undefined)!.expires_at);
    };
    // The changed line's hold moved with the cart; the other one was not touched (no round trip)…
    expect(Math.abs((await holdExpiry(b)) - Date.parse(after.expires_at))).toBeLessThan(1000);
    const aBefore = await holdExpiry(a);
    expect(aBefore).toBeLessThan(Date.parse(after.expires_at));
    // …and the cart's alarm is armed to renew it before it would lapse.
    const alarm = await runInDurableObject(cartStub(env, cart.id)!, (_i, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm!).toBeLessThan(aBefore);
    // When that moment comes (the cart believes a's hold lapses in 5 s), the alarm renews it to the cart's expiry.
    await rewriteCart(cart.id, (sql) => sql.exec("UPDATE lines SET hold_expires_at = ? WHERE sku = ?", Date.now() + 5000, a));
    expect(await runDurableObjectAlarm(cartStub(env, cart.id)!)).toBe(true);
    for (const sku of [a, b]) expect(Math.abs((await holdExpiry(sku)) - Date.parse(after.expires_at))).toBeLessThan(1000);
    expect(await holdsOf(a)).toEqual(new Map([[cart.id, 1]]));
  });
});

describe("rate limits", () => {
  it("limits cart creation per client IP with 429 rate_limited and Retry-After", async () => {
    const { statuses, limited } = await inOneWindow(async () => {
      const ip = clientIpHeader();
      const statuses: number[] = [];
      let limited: Response | undefined;
      for (let i = 0; i < 25; i++) {
        const response = await call("POST", "/v1/carts", { headers: ip });
        statuses.push(response.status);
        if (response.status === 429) {
          limited = response;
          break;
        }
        await response.body?.cancel();
      }
      return { statuses, limited };
    });
    expect(statuses.filter((s) => s === 201)).toHaveLength(20);
    expect(limited!.headers.get("retry-after")).toBe("60");
    await expectProblem(limited!, 429, "rate_limited");
    expect((await call("POST", "/v1/carts", { headers: clientIpHeader() })).status).toBe(201);
  });
});
