import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { InventoryObject } from "../src/objects/inventory";
import { inventoryStub } from "../src/objects/stubs";
import { ADMIN, call, createStockedProduct, defineSku, expectProblem, unique } from "./helpers";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function stocked(onHand: number) {
  const sku = unique("SKU");
  const stub = inventoryStub(env, sku);
  await defineSku(sku);
  expect(await stub.setOnHand(onHand)).toEqual({ ok: true, on_hand: onHand, reserved: 0, available: onHand });
  return { sku, stub };
}

async function levels(stub: DurableObjectStub<InventoryObject>) {
  const result = await stub.snapshot();
  if (!result.ok) throw new Error(result.reason);
  const { on_hand, reserved, available, holds_total } = result.snapshot;
  return { on_hand, reserved, available, holds_total };
}

async function ledgerKinds(stub: DurableObjectStub<InventoryObject>) {
  return runInDurableObject(stub, (_instance, state) =>
    state.storage.sql
      .exec<{ kind: string }>("SELECT kind FROM ledger ORDER BY seq")
      .toArray()
      .map((r) => r.kind),
  );
}

describe("InventoryObject under a flash sale", () => {
  it("grants exactly 100 of 1,000 concurrent one-unit holds against stock 100", async () => {
    const { stub } = await stocked(100);
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => stub.hold(`h${i}`, `cart${i}`, 1, 900)));
    const granted = results.filter((r) => r.ok).length;
    const refused = results.filter((r) => !r.ok && r.reason === "insufficient_stock").length;
    expect({ granted, refused }).toEqual({ granted: 100, refused: 900 });
    expect(results.find((r) => !r.ok)).toEqual({ ok: false, reason: "insufficient_stock", available: 0 });
    expect(await levels(stub)).toEqual({ on_hand: 100, reserved: 100, available: 0, holds_total: 100 });
    expect(await stub.verify()).toMatchObject({ ok: true, on_hand: 100, reserved: 100, ledger_reserved: 100, holds_reserved: 100 });
  });
});

describe("InventoryObject holds", () => {
  it("sets a hold to exactly the asked quantity: create, grow, shrink, release", async () => {
    const { stub } = await stocked(10);
    expect(await stub.hold("h", "cart", 3, 900)).toMatchObject({ ok: true, quantity: 3, reserved: 3, available: 7 });
    expect(await stub.hold("h", "cart", 8, 900)).toMatchObject({ ok: true, quantity: 8, reserved: 8, available: 2 });
    expect(await stub.hold("h", "cart", 2, 900)).toMatchObject({ ok: true, quantity: 2, reserved: 2, available: 8 });
    expect(await stub.hold("h", "cart", 0, 900)).toMatchObject({ ok: true, quantity: 0, reserved: 0, available: 10 });
    expect(await stub.verify()).toMatchObject({ ok: true });
  });

  it("refuses growth beyond what is available and changes nothing", async () => {
    const { stub } = await stocked(5);
    await stub.hold("a", "cart-a", 3, 900);
    await stub.hold("b", "cart-b", 1, 900);
    const before = await ledgerKinds(stub);
    expect(await stub.hold("a", "cart-a", 5, 900)).toEqual({ ok: false, reason: "insufficient_stock", available: 4 });
    expect(await levels(stub)).toEqual({ on_hand: 5, reserved: 4, available: 1, holds_total: 2 });
    expect(await ledgerKinds(stub)).toEqual(before);
  });

  it("refuses holds, stock and snapshots for a SKU in no product", async () => {
    const stub = inventoryStub(env, unique("SKU"));
    expect(await stub.hold("h", "cart", 1, 900)).toEqual({ ok: false, reason: "unknown_sku" });
    expect(await stub.setOnHand(5)).toEqual({ ok: false, reason: "unknown_sku" });
    expect(await stub.adjust(5, "restock", "op")).toEqual({ ok: false, reason: "unknown_sku" });
    expect(await stub.snapshot()).toEqual({ ok: false, reason: "unknown_sku" });
  });

  it("refuses growth of a hold on an archived SKU but lets it shrink", async () => {
    const { sku, stub } = await stocked(10);
    await stub.hold("h", "cart", 4, 900);
    await defineSku(sku, { status: "archived", version: 2 });
    expect(await stub.hold("h", "cart", 5, 900)).toEqual({ ok: false, reason: "unknown_sku" });
    expect(await stub.hold("h2", "cart", 1, 900)).toEqual({ ok: false, reason: "unknown_sku" });
    expect(await stub.hold("h", "cart", 2, 900)).toMatchObject({ ok: true, quantity: 2 });
  });

  it("enforces the line limit (the SKU's own first) and the cart's currency", async () => {
    const { sku, stub } = await stocked(50);
    expect(await stub.hold("h", "cart", 11, 900, { maxLineQuantity: 10 })).toEqual({
      ok: false,
      reason: "quantity_limit_exceeded",
      limit: 10,
    });
    await defineSku(sku, { max_line_quantity: 20, version: 2 });
    expect(await stub.hold("h", "cart", 11, 900, { maxLineQuantity: 10 })).toMatchObject({ ok: true, quantity: 11 });
    expect(await stub.hold("h", "cart", 21, 900, { maxLineQuantity: 10 })).toEqual({
      ok: false,
      reason: "quantity_limit_exceeded",
      limit: 20,
    });
    expect(await stub.hold("h2", "cart2", 1, 900, { currency: "EUR" })).toEqual({
      ok: false,
      reason: "currency_mismatch",
      currency: "USD",
    });
  });

  it("keeps the newest catalog entry when publishes arrive out of order", async () => {
    const { sku, stub } = await stocked(1);
    await defineSku(sku, { price: { amount: 500, currency: "USD" }, version: 3 });
    await defineSku(sku, { price: { amount: 900, currency: "USD" }, version: 2 });
    expect(await stub.pricing()).toMatchObject({ price: { amount: 500, currency: "USD" }, version: 3 });
    expect(await stub.hold("h", "cart", 1, 900)).toMatchObject({ ok: true, item: { price: { amount: 500, currency: "USD" } } });
  });

  it("refuses on_hand below reserved, by set and by adjustment", async () => {
    const { stub } = await stocked(10);
    await stub.hold("h", "cart", 6, 900);
    expect(await stub.setOnHand(5)).toEqual({ ok: false, reason: "below_reserved", reserved: 6, on_hand: 10 });
    expect(await stub.adjust(-5, "damaged", "op-1")).toEqual({ ok: false, reason: "below_reserved", reserved: 6, on_hand: 10 });
    expect(await stub.adjust(-4, "damaged", "op-2")).toMatchObject({ ok: true, on_hand: 6, reserved: 6, available: 0 });
    expect(await stub.verify()).toMatchObject({ ok: true });
  });

  it("commits a hold: on_hand and reserved both drop, and a retry changes nothing", async () => {
    const { stub } = await stocked(10);
    await stub.hold("h", "cart", 4, 900);
    expect(await stub.commit("h")).toEqual({ ok: true, quantity: 4, duplicate: false, on_hand: 6, reserved: 0, available: 6 });
    expect(await stub.commit("h")).toEqual({ ok: true, quantity: 4, duplicate: true, on_hand: 6, reserved: 0, available: 6 });
    expect(await stub.hold("h", "cart", 1, 900)).toEqual({ ok: false, reason: "hold_committed" });
    expect(await stub.verify()).toMatchObject({ ok: true, sold: 4, ledger_sold: 4 });
  });

  it("refuses to touch another owner's hold", async () => {
    const { stub } = await stocked(10);
    await stub.hold("h", "cart-a", 2, 900);
    expect(await stub.hold("h", "cart-b", 5, 900)).toEqual({ ok: false, reason: "hold_owner_mismatch" });
  });
});

describe("InventoryObject retries", () => {
  it("treats a retry of every mutating call as a no-op", async () => {
    const { stub } = await stocked(20);
    const steps: Array<() => Promise<unknown>> = [
      () => stub.setOnHand(30),
      () => stub.adjust(-2, "damaged", "adj-1"),
      () => stub.hold("h1", "cart", 5, 900),
      () => stub.hold("h2", "cart", 3, 900),
      () => stub.extend("h1", 1200),
      () => stub.release("h2"),
      () => stub.commit("h1"),
    ];
    for (const step of steps) {
      await step();
      const after = { levels: await levels(stub), ledger: await ledgerKinds(stub) };
      await step();
      expect({ levels: await levels(stub), ledger: await ledgerKinds(stub) }).toEqual(after);
    }
    expect(await levels(stub)).toEqual({ on_hand: 23, reserved: 0, available: 23, holds_total: 0 });
    expect(await stub.verify()).toMatchObject({ ok: true });
  });
});

describe("InventoryObject across eviction", () => {
  it("loses nothing when the object is evicted between steps", async () => {
    const { stub } = await stocked(10);
    await stub.hold("h1", "cart", 4, 900);
    await evictDurableObject(stub);
    await stub.adjust(5, "restock", "op-1");
    await evictDurableObject(stub);
    await stub.commit("h1");
    await evictDurableObject(stub);
    expect(await levels(stub)).toEqual({ on_hand: 11, reserved: 0, available: 11, holds_total: 0 });
    expect(await stub.adjust(5, "restock", "op-1")).toMatchObject({ ok: true, duplicate: true, on_hand: 11 });
    expect(await stub.verify()).toMatchObject({ ok: true, sold: 4 });
  });
});

describe("InventoryObject expiry", () => {
  it("arms one alarm at the earliest expiry and releases due holds when it runs", async () => {
    const { stub } = await stocked(10);
    // Long enough that the short hold is still live when read back on a loaded machine.
    await stub.hold("short", "cart-a", 3, 1);
    await stub.hold("long", "cart-b", 2, 900);
    const { alarm, firstReport } = await runInDurableObject(stub, async (_i, state) => ({
      alarm: await state.storage.getAlarm(),
      firstReport: state.storage.sql.exec<{ due_at: number | null }>("SELECT due_at FROM level_reports").one().due_at,
    }));
    const short = (await stub.snapshot()) as { ok: true; snapshot: { holds: Array<{ hold_id: string; expires_at: string }> } };
    // The earliest of what is due: the short hold's expiry, or the coalesced level report if sooner.
    expect(alarm).toBe(Math.min(Date.parse(short.snapshot.holds.find((h) => h.hold_id === "short")!.expires_at), firstReport ?? Infinity));
    await sleep(1100);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await levels(stub)).toEqual({ on_hand: 10, reserved: 2, available: 8, holds_total: 1 });
    // Re-armed for whatever is next: the long hold's expiry or the coalesced level report, if sooner.
    const { rearmed, reportDue } = await runInDurableObject(stub, async (_i, state) => ({
      rearmed: await state.storage.getAlarm(),
      reportDue: state.storage.sql.exec<{ due_at: number | null }>("SELECT due_at FROM level_reports").one().due_at,
    }));
    const long = (await stub.snapshot()) as { ok: true; snapshot: { holds: Array<{ expires_at: string }> } };
    expect(rearmed).toBe(Math.min(Date.parse(long.snapshot.holds[0]!.expires_at), reportDue ?? Infinity));
    expect((await ledgerKinds(stub)).filter((k) => k === "expire")).toHaveLength(1);
  });

  it("expires each hold exactly once when the alarm runs twice or late", async () => {
    const { stub } = await stocked(10);
    await stub.hold("a", "cart-a", 3, 0.02);
    await stub.hold("b", "cart-b", 4, 0.03);
    await sleep(60);
    await runInDurableObject(stub, async (instance) => {
      await instance.alarm();
      await instance.alarm();
    });
    // No hold is left to expire: the only alarm still armed is the level report's.
    const { alarm, reportDue } = await runInDurableObject(stub, async (_i, state) => ({
      alarm: await state.storage.getAlarm(),
      reportDue: state.storage.sql.exec<{ due_at: number | null }>("SELECT due_at FROM level_reports").one().due_at,
    }));
    expect(alarm).toBe(reportDue);
    await runDurableObjectAlarm(stub);
    expect((await ledgerKinds(stub)).filter((k) => k === "expire")).toHaveLength(2);
    expect(await levels(stub)).toEqual({ on_hand: 10, reserved: 0, available: 10, holds_total: 0 });
    expect(await stub.verify()).toMatchObject({ ok: true });
  });

  it("counts a hold past its expiry as released even before the alarm runs", async () => {
    const { stub } = await stocked(1);
    await stub.hold("a", "cart-a", 1, 0.02);
    await sleep(40);
    expect(await stub.hold("b", "cart-b", 1, 900)).toMatchObject({ ok: true, quantity: 1 });
    expect(await stub.commit("a")).toEqual({ ok: false, reason: "hold_not_found" });
    expect(await stub.extend("a", 900)).toEqual({ ok: false, reason: "hold_not_found" });
  });
});

describe("inventory HTTP routes", () => {
  it("stocks, adjusts and reports a SKU through the admin API", async () => {
    const sku = unique("SKU");
    await createStockedProduct([sku], 0);
    const put = await call("PUT", `/v1/admin/inventory/${sku}`, { body: { on_hand: 100 }, headers: ADMIN });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ sku, on_hand: 100, reserved: 0, available: 100, holds: [], holds_total: 0 });
    const adjusted = await call("POST", `/v1/admin/inventory/${sku}/adjustments`, {
      body: { delta: -3, reason: "damaged" },
      headers: ADMIN,
    });
    expect(adjusted.status).toBe(200);
    expect(await adjusted.json()).toMatchObject({ sku, on_hand: 97, reserved: 0, available: 97 });
    await inventoryStub(env, sku).hold("h1", "cart-1", 7, 900);
    const get = await call("GET", `/v1/admin/inventory/${sku}`, { headers: ADMIN });
    const body = (await get.json()) as { holds: unknown[] };
    expect(body).toMatchObject({ sku, on_hand: 97, reserved: 7, available: 90, holds_total: 1 });
    expect(body.holds).toEqual([{ hold_id: "h1", owner_id: "cart-1", quantity: 7, expires_at: expect.stringMatching(/Z$/) }]);
    const availability = await call("GET", `/v1/skus/${sku}/availability`);
    expect(availability.headers.get("cache-control")).toBe("no-store");
    expect(await availability.json()).toEqual({ sku, available: 90 });
  });

  it("answers 409 below_reserved and leaves on_hand as it was", async () => {
    const sku = unique("SKU");
    await createStockedProduct([sku], 0);
    await call("PUT", `/v1/admin/inventory/${sku}`, { body: { on_hand: 10 }, headers: ADMIN });
    await inventoryStub(env, sku).hold("h1", "cart-1", 8, 900);
    const body = await expectProblem(
      await call("PUT", `/v1/admin/inventory/${sku}`, { body: { on_hand: 7 }, headers: ADMIN }),
      409,
      "below_reserved",
    );
    expect(body).toMatchObject({ reserved: 8, on_hand: 10 });
    await expectProblem(
      await call("POST", `/v1/admin/inventory/${sku}/adjustments`, { body: { delta: -3, reason: "x" }, headers: ADMIN }),
      409,
      "below_reserved",
    );
    expect(await levels(inventoryStub(env, sku))).toMatchObject({ on_hand: 10, reserved: 8 });
  });

  it("replays an adjustment retried with the same Idempotency-Key only once", async () => {
    const sku = unique("SKU");
    await createStockedProduct([sku], 0);
    await call("PUT", `/v1/admin/inventory/${sku}`, { body: { on_hand: 10 }, headers: ADMIN });
    const headers = { ...ADMIN, "idempotency-key": "adj-once" };
    await call("POST", `/v1/admin/inventory/${sku}/adjustments`, { body: { delta: 5, reason: "restock" }, headers });
    await call("POST", `/v1/admin/inventory/${sku}/adjustments`, { body: { delta: 5, reason: "restock" }, headers });
    expect(await levels(inventoryStub(env, sku))).toMatchObject({ on_hand: 15 });
  });

  it("validates bodies: negative, fractional, zero deltas, unknown fields", async () => {
    const sku = unique("SKU");
    const bad: Array<[string, unknown, string]> = [
      ["PUT", { on_hand: -1 }, "on_hand"],
      ["PUT", { on_hand: 2.5 }, "on_hand"],
      ["PUT", { on_hand: "5" }, "on_hand"],
      ["PUT", {}, "on_hand"],
      ["POST", { delta: 0, reason: "x" }, "delta"],
      ["POST", { delta: 1.5, reason: "x" }, "delta"],
      ["POST", { delta: 1 }, "reason"],
      ["POST", { delta: 1, reason: "x", by: "me" }, "by"],
    ];
    for (const [method, body, path] of bad) {
      const target = method === "PUT" ? `/v1/admin/inventory/${sku}` : `/v1/admin/inventory/${sku}/adjustments`;
      const problem = await expectProblem(await call(method, target, { body, headers: ADMIN }), 400, "invalid_request");
      expect((problem.errors as Array<{ path: string }>).map((e) => e.path)).toContain(path);
    }
    await expectProblem(await call("GET", `/v1/admin/inventory/${sku}`, { headers: ADMIN }), 404, "not_found");
  });

  it("answers 404 for the availability of a SKU in no product, 0 for one defined but not stocked", async () => {
    await expectProblem(await call("GET", `/v1/skus/${unique("SKU")}/availability`), 404, "not_found");
    const sku = unique("SKU");
    await createStockedProduct([sku], 0);
    expect(await (await call("GET", `/v1/skus/${sku}/availability`)).json()).toEqual({ sku, available: 0 });
  });

  it("refuses to stock a SKU that is in no product with 404", async () => {
    const sku = unique("SKU");
    await expectProblem(await call("PUT", `/v1/admin/inventory/${sku}`, { body: { on_hand: 5 }, headers: ADMIN }), 404, "not_found");
    await expectProblem(
      await call("POST", `/v1/admin/inventory/${sku}/adjustments`, { body: { delta: 5, reason: "x" }, headers: ADMIN }),
      404,
      "not_found",
    );
  });
});
