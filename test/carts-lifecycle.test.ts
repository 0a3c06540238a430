// Carts over time: concurrent changes on one cart, expiry and re-reservation, and line changes
// interrupted between the SKU object and the cart (creating, access and lines: test/carts.test.ts).
import { env, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { holdIdFor } from "../src/domain/cart";
import { cartStub, inventoryStub } from "../src/objects/stubs";
import { call, createStockedProduct, expectProblem, newCart, unique } from "./helpers";
import { available, type CartJson, holdsOf, put, timeTravelPastExpiry } from "./lib/carts";

describe("concurrent changes on one cart", () => {
  it("keeps every line equal to its hold under 60 parallel PUTs and DELETEs", async () => {
    const skus = [unique("C1"), unique("C2"), unique("C3")];
    await createStockedProduct(skus, 100);
    const cart = await newCart();
    const requests = Array.from({ length: 60 }, (_, i) => {
      const sku = skus[i % 3]!;
      return i % 7 === 0 ? call("DELETE", `/v1/carts/${cart.id}/items/${sku}`, { headers: cart.headers }) : put(cart, sku, (i % 10) + 1);
    });
    const statuses = (await Promise.all(requests)).map((r) => r.status);
    expect(statuses.every((s) => s === 200)).toBe(true);
    const final = (await (await call("GET", `/v1/carts/${cart.id}`, { headers: cart.headers })).json()) as CartJson;
    expect(final.version).toBeGreaterThan(50);
    for (const sku of skus) {
      const line = final.items.find((i) => i.sku === sku)?.quantity ?? 0;
      expect((await holdsOf(sku)).get(cart.id) ?? 0).toBe(line);
      expect(await available(sku)).toBe(100 - line);
    }
  });
});

describe("cart expiry", () => {
  it("expires through alarms on both objects, returns the stock, and a later PUT re-reserves and reopens", async () => {
    const [a, b] = [unique("A"), unique("B")];
    await createStockedProduct([a, b], 5);
    const cart = await newCart();
    await put(cart, a, 2);
    await put(cart, b, 3);
    await timeTravelPastExpiry(cart.id, [a, b]);
    expect(await runDurableObjectAlarm(cartStub(env, cart.id)!)).toBe(true);
    expect(await runDurableObjectAlarm(inventoryStub(env, a))).toBe(true);
    const expired = (await (await call("GET", `/v1/carts/${cart.id}`, { headers: cart.headers })).json()) as CartJson;
    expect(expired.status).toBe("expired");
    expect(expired.items.map((i) => [i.sku, i.quantity])).toEqual([
      [a, 2],
      [b, 3],
    ]);
    expect([await available(a), await available(b)]).toEqual([5, 5]);

    const reopened = (await (await put(cart, a, 1)).json()) as CartJson;
    expect(reopened.status).toBe("open");
    expect(reopened.items.map((i) => [i.sku, i.quantity])).toEqual([
      [a, 1],
      [b, 3],
    ]);
    expect([await available(a), await available(b)]).toEqual([4, 2]);
    expect(Date.parse(reopened.expires_at)).toBeGreaterThan(Date.now());
  });

  it("re-reserves all or nothing: a shortage on any line leaves the expired cart holding nothing", async () => {
    const [a, b] = [unique("A"), unique("B")];
    await createStockedProduct([a, b], 3);
    const cart = await newCart();
    await put(cart, a, 1);
    await put(cart, b, 3);
    await timeTravelPastExpiry(cart.id, [a, b]);
    const rival = await newCart();
    await put(rival, b, 2);
    const problem = await expectProblem(await put(cart, a, 2), 409, "insufficient_stock");
    expect(problem).toMatchObject({ sku: b, available: 1 });
    const after = (await (await call("GET", `/v1/carts/${cart.id}`, { headers: cart.headers })).json()) as CartJson;
    expect(after.status).toBe("expired");
    expect(after.items.map((i) => [i.sku, i.quantity])).toEqual([
      [a, 1],
      [b, 3],
    ]);
    expect((await holdsOf(a)).get(cart.id)).toBeUndefined();
    expect((await holdsOf(b)).get(cart.id)).toBeUndefined();
    expect([await available(a), await available(b)]).toEqual([3, 1]);
  });
});

describe("interrupted line changes", () => {
  it("adopts, on the client's retry, a hold whose cart write was lost, and otherwise lets it lapse with the cart", async () => {
    const sku = unique("CRASH");
    const other = unique("OTHER");
    await createStockedProduct([sku, other], 10);
    const cart = await newCart();
    await put(cart, sku, 2);
    // The cart object died between the SKU object's commit and its own: the SKU holds 5, the line says 2.
    await inventoryStub(env, sku).hold(holdIdFor(cart.id, sku), cart.id, 5, 900);
    // The client saw an error and retries its change: the hold is set again (no new stock) and written.
    const retried = (await (await put(cart, sku, 5)).json()) as CartJson;
    expect(retried.items.map((i) => [i.sku, i.quantity])).toEqual([[sku, 5]]);
    expect((await holdsOf(sku)).get(cart.id)).toBe(5);
    expect(await available(sku)).toBe(5);
    // A lost write the client never retries: the orphan hold lapses with the cart, and the stock returns.
    await inventoryStub(env, other).hold(holdIdFor(cart.id, other), cart.id, 3, 900);
    expect(
      ((await (await call("GET", `/v1/carts/${cart.id}`, { headers: cart.headers })).json()) as CartJson).items.map((i) => i.sku),
    ).toEqual([sku]);
    await timeTravelPastExpiry(cart.id, [sku, other]);
    expect([await available(sku), await available(other)]).toEqual([10, 10]);
    expect((await holdsOf(other)).get(cart.id)).toBeUndefined();
  });
});
