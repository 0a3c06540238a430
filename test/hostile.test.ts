// The remaining holes a hostile or unlucky client could use: stock held forever or by one client,
// line totals that cannot be exact, expired carts that cannot be edited, cancels that 500,
// idempotency records for requests that were never authorised.
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Order } from "../src/contracts";
import { holdIdFor } from "../src/domain/cart";
import { InventoryObject } from "../src/objects/inventory";
import { cartStub, idempotencyStub, inventoryStub } from "../src/objects/stubs";
import { sha256Hex } from "../src/platform/crypto";
import { call, clientIpHeader, createStockedProduct, expectProblem, newCart, stockedSku, unique } from "./helpers";
import { rewriteCart } from "./lib/carts";

type CartJson = { id: string; status: string; expires_at: string; items: Array<{ sku: string; quantity: number }> };
const put = (cart: { id: string; headers: Record<string, string> }, sku: string, quantity: number) =>
  call("PUT", `/v1/carts/${cart.id}/items/${sku}`, { body: { quantity }, headers: cart.headers });
const available = async (sku: string) =>
  ((await (await call("GET", `/v1/skus/${sku}/availability`)).json()) as { available: number }).available;

afterEach(() => {
  vi.restoreAllMocks();
});

describe("inventory denial", () => {
  it("caps one client's units of a SKU across its carts, so one address cannot hold a flash sale", async () => {
    const sku = await stockedSku("DENY", 41);
    const attacker = clientIpHeader();
    const granted: number[] = [];
    for (let i = 0; i < 5; i++) {
      const cart = await newCart({}, attacker);
      const response = await put(cart, sku, 10);
      granted.push(response.status);
      if (response.status === 409) expect(await response.json()).toMatchObject({ code: "client_hold_limit", limit: 10, held: 10 });
    }
    expect(granted).toEqual([200, 409, 409, 409, 409]);
    expect(await available(sku)).toBe(31);
    // Another shopper still gets stock.
    const shopper = await newCart();
    expect((await put(shopper, sku, 3)).status).toBe(200);
  });

  it("lets no renewal keep a hold past its lifetime cap; only checkout moves it into the payment window", async () => {
    const sku = await stockedSku("CAP", 10);
    const stub = inventoryStub(env, sku);
    const first = await stub.hold("cap-hold", "cart-x", 2, 900, { maxHoldSeconds: 60 });
    expect(first).toMatchObject({ ok: true, capped: true });
    const cap = Date.parse((first as { expires_at: string }).expires_at);
    const renewed = await stub.hold("cap-hold", "cart-x", 3, 900, { maxHoldSeconds: 60 });
    expect(Date.parse((renewed as { expires_at: string }).expires_at)).toBe(cap);
    const extended = await stub.extend("cap-hold", 900, 60);
    expect(Date.parse((extended as { expires_at: string }).expires_at)).toBe(cap);
    const checkout = await stub.hold("cap-hold", "cart-x", 3, 1800);
    expect(checkout).toMatchObject({ ok: true, capped: false });
    expect(Date.parse((checkout as { expires_at: string }).expires_at)).toBeGreaterThan(cap + 1_000_000);
  });

  it("lapses a cart with its capped hold: re-adding the same units does not renew them past the cap", async () => {
    const sku = await stockedSku("CAPCART", 10);
    const cart = await newCart();
    expect((await put(cart, sku, 2)).status).toBe(200);
    // The hold was first taken 29 min 50 s ago (MAX_HOLD_SECONDS defaults to 2 × 900 s).
    await runInDurableObject(inventoryStub(env, sku), (_i, state) =>
      state.storage.sql.exec("UPDATE holds SET held_since = ? WHERE hold_id = ?", Date.now() - 1_790_000, holdIdFor(cart.id, sku)),
    );
    await evictDurableObject(inventoryStub(env, sku));
    const again = (await (await put(cart, sku, 2)).json()) as CartJson;
    const left = Date.parse(again.expires_at) - Date.now();
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(11_000);
  });
});

describe("money that cannot be exact", () => {
  it("refuses a line whose total would pass the largest safe integer with 422, and the cart stays readable", async () => {
    const sku = unique("HUGE");
    await createStockedProduct([sku], 100, {}, { amount: Number.MAX_SAFE_INTEGER });
    const cart = await newCart();
    await expectProblem(await put(cart, sku, 10), 422, "amount_too_large");
    expect((await put(cart, sku, 1)).status).toBe(200);
    const read = await call("GET", `/v1/carts/${cart.id}`, { headers: cart.headers });
    expect(read.status).toBe(200);
    expect(((await read.json()) as CartJson).items).toMatchObject([{ sku, quantity: 1 }]);
  });
});

describe("expired carts", () => {
  it("always let a line be deleted, even when no line could be held again", async () => {
    const [a, b] = [await stockedSku("EXP-A", 2), await stockedSku("EXP-B", 2)];
    const cart = await newCart();
    expect((await put(cart, a, 2)).status).toBe(200);
    expect((await put(cart, b, 2)).status).toBe(200);
    await rewriteCart(cart.id, (sql) => sql.exec("UPDATE cart SET expires_at = ?", Date.now() - 1000));
    for (const sku of [a, b]) {
      await runInDurableObject(inventoryStub(env, sku), (_i, state) =>
        state.storage.sql.exec("UPDATE holds SET expires_at = ?", Date.now() - 1000),
      );
      await evictDurableObject(inventoryStub(env, sku));
      const rival = await newCart();
      expect((await put(rival, sku, 2)).status).toBe(200);
    }
    await expectProblem(await put(cart, a, 1), 409, "insufficient_stock");
    const first = (await (await call("DELETE", `/v1/carts/${cart.id}/items/${a}`, { headers: cart.headers })).json()) as CartJson;
    expect(first).toMatchObject({ status: "expired", items: [{ sku: b, quantity: 2 }] });
    const second = (await (await call("DELETE", `/v1/carts/${cart.id}/items/${b}`, { headers: cart.headers })).json()) as CartJson;
    expect(second).toMatchObject({ status: "expired", items: [] });
    expect([await available(a), await available(b)]).toEqual([0, 0]);
    for (const sku of [a, b]) expect((await inventoryStub(env, sku).holdOf(holdIdFor(cart.id, sku))).quantity).toBe(0);
  });
});

describe("cancel", () => {
  it("answers 200 once it has cancelled, even when releasing the stock fails (the alarm releases it)", async () => {
    const sku = await stockedSku("CXL", 5);
    const cart = await newCart();
    expect((await put(cart, sku, 2)).status).toBe(200);
    const order = (await (
      await call("POST", `/v1/carts/${cart.id}/checkout`, {
        body: { email: "c@b.example" },
        headers: { ...cart.headers, "idempotency-key": unique("k") },
      })
    ).json()) as Order;
    const release = InventoryObject.prototype.release;
    let failures = 1;
    vi.spyOn(InventoryObject.prototype, "release").mockImplementation(function (this: InventoryObject, ...args: [string]) {
      if (failures-- > 0) throw new Error("injected: the SKU object is unreachable");
      return release.apply(this, args);
    });
    const cancelled = await call("POST", `/v1/orders/${order.id}/cancel`, { headers: cart.headers });
    expect(cancelled.status).toBe(200);
    expect(((await cancelled.json()) as Order).status).toBe("cancelled");
    expect(await available(sku)).toBe(3);
    await runInDurableObject(cartStub(env, cart.id)!, (instance) => instance.alarm());
    expect(await available(sku)).toBe(5);
  });
});

describe("idempotency records", () => {
  it("are not created for requests whose cart token is not the cart's own", async () => {
    const cart = await newCart();
    const key = unique("key");
    for (const token of ["made-up-token", `ct1.USD.-.abc.${"A".repeat(43)}`]) {
      const response = await call("POST", `/v1/carts/${cart.id}/checkout`, {
        body: { email: "a@b.example" },
        headers: { authorization: `Bearer ${token}`, "idempotency-key": key },
      });
      expect(response.status).toBe(404);
      const record = idempotencyStub(env, await sha256Hex(`cart:${token}`), await sha256Hex(key));
      const tables = await runInDurableObject(record, (_i, state) =>
        state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%'").toArray(),
      );
      expect(tables).toEqual([]);
    }
  });
});
