import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { inventoryStub } from "../src/objects/stubs";
import { defineSku, unique } from "./helpers";
import { ledgerKinds, levels, sleep, stocked } from "./lib/inventory";

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
    // The short hold lives 2 s, long enough to be still live (its alarm not yet run) when read back
    // on a loaded machine; taken last, just before that read.
    await stub.hold("long", "cart-b", 2, 900);
    await stub.hold("short", "cart-a", 3, 2);
    const { alarm, firstReport } = await runInDurableObject(stub, async (_i, state) => ({
      alarm: await state.storage.getAlarm(),
      firstReport: state.storage.sql.exec<{ due_at: number | null }>("SELECT due_at FROM level_reports").one().due_at,
    }));
    const short = (await stub.snapshot()) as { ok: true; snapshot: { holds: Array<{ hold_id: string; expires_at: string }> } };
    // The earliest of what is due: the short hold's expiry, or the coalesced level report if sooner.
    expect(alarm).toBe(Math.min(Date.parse(short.snapshot.holds.find((h) => h.hold_id === "short")!.expires_at), firstReport ?? Infinity));
    await sleep(2100);
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
