// Hold moves for cart merge (InventoryObject.moveHold / undoMove, src/objects/inventory-moves.ts)
// in the runtime: against real SKU objects over RPC, the ledger verifying after every step.
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { holdIdFor } from "../src/domain/cart";
import { mergeReport, planMerge, retryMove } from "../src/domain/merge";
import { inventoryStub } from "../src/objects/stubs";
import { call, clientIpHeader, defineSku, unique } from "./helpers";
import { GUEST, ledger, SHOPPER, sleep, state, stocked, verified } from "./lib/merge-holds";

/** Available through the public availability route. */
async function publicAvailable(sku: string): Promise<number> {
  const response = await call("GET", `/v1/skus/${sku}/availability`, { headers: clientIpHeader() });
  expect(response.status).toBe(200);
  return ((await response.json()) as { available: number }).available;
}

describe("moveHold with both holds live", () => {
  it("moves a hold into a new target hold: available unchanged, the source gone, one move_out and one move_in row", async () => {
    const { sku, stub, from, to } = await stocked(10);
    await stub.hold(from, GUEST, 3, 900);
    await stub.hold("someone-else", "other", 2, 900);
    expect(await publicAvailable(sku)).toBe(5);
    const moved = await stub.moveHold("m1", from, to, SHOPPER, 3, 900);
    expect(moved).toMatchObject({
      ok: true,
      quantity: 3,
      source_units: 3,
      target_units: 0,
      taken: 0,
      released: 0,
      on_hand: 10,
      reserved: 5,
      available: 5,
    });
    expect(await state(stub)).toEqual({ on_hand: 10, reserved: 5, available: 5, holds: { [to]: 3, "someone-else": 2 } });
    expect(await publicAvailable(sku)).toBe(5);
    expect((await ledger(stub)).slice(-2)).toEqual([
      { kind: "move_out", hold_id: from, reserved_delta: -3, reason: "merge:m1" },
      { kind: "move_in", hold_id: to, reserved_delta: 3, reason: "merge:m1" },
    ]);
    await verified(stub);
  });

  it("merge keeps the larger quantity: what both held beyond it returns to stock, available never falls", async () => {
    const { sku, stub, from, to } = await stocked(10);
    await stub.hold(from, GUEST, 3, 900);
    await stub.hold(to, SHOPPER, 2, 900);
    const moved = await stub.moveHold("m1", from, to, SHOPPER, 3, 900);
    expect(moved).toMatchObject({ ok: true, quantity: 3, source_units: 3, target_units: 2, taken: 0, released: 2, available: 7 });
    expect(await state(stub)).toMatchObject({ reserved: 3, holds: { [to]: 3 } });
    expect(await publicAvailable(sku)).toBe(7);
    await verified(stub);
  });

  it("keeps available exactly when the target takes all both held, and replace can shrink the target", async () => {
    const { stub, from, to } = await stocked(10);
    await stub.hold(from, GUEST, 2, 900);
    await stub.hold(to, SHOPPER, 4, 900);
    expect(await stub.moveHold("all", from, to, SHOPPER, 6, 900)).toMatchObject({
      ok: true,
      quantity: 6,
      released: 0,
      taken: 0,
      available: 4,
    });
    await stub.hold(from, GUEST, 1, 900);
    expect(await stub.moveHold("replace", from, to, SHOPPER, 1, 900)).toMatchObject({
      ok: true,
      quantity: 1,
      source_units: 1,
      target_units: 6,
      released: 6,
      available: 9,
    });
    expect((await ledger(stub)).slice(-2).map((r) => [r.kind, r.reserved_delta])).toEqual([
      ["move_out", -1],
      ["move_out", -5],
    ]);
    await verified(stub);
  });

  it("cannot fail on stock while both holds are live, even with nothing free", async () => {
    const { stub, from, to } = await stocked(5);
    await stub.hold(from, GUEST, 3, 900);
    await stub.hold(to, SHOPPER, 2, 900);
    expect((await state(stub)).available).toBe(0);
    expect(await stub.moveHold("m1", from, to, SHOPPER, 5, 900)).toMatchObject({ ok: true, quantity: 5, taken: 0, available: 0 });
    await verified(stub);
  });

  it("releases the target's hold with quantity 0 (replace dropping a target-only SKU)", async () => {
    const { stub, from, to } = await stocked(5);
    await stub.hold(to, SHOPPER, 2, 900);
    expect(await stub.moveHold("m1", from, to, SHOPPER, 0, 900)).toMatchObject({
      ok: true,
      quantity: 0,
      expires_at: null,
      released: 2,
      available: 5,
    });
    expect((await state(stub)).holds).toEqual({});
    await verified(stub);
  });

  it("refuses a sold target or source (hold_committed) and another owner's target, changing nothing", async () => {
    const { stub, from, to } = await stocked(10);
    await stub.hold(to, SHOPPER, 1, 900);
    await stub.commit(to);
    await stub.hold(from, GUEST, 2, 900);
    expect(await stub.moveHold("m1", from, to, SHOPPER, 2, 900)).toEqual({ ok: false, reason: "hold_committed" });
    await stub.hold("theirs", "stranger", 1, 900);
    expect(await stub.moveHold("m2", from, "theirs", SHOPPER, 2, 900)).toEqual({ ok: false, reason: "hold_owner_mismatch" });
    await stub.commit(from);
    expect(await stub.moveHold("m3", from, holdIdFor("third", "x"), SHOPPER, 1, 900)).toEqual({ ok: false, reason: "hold_committed" });
    expect(await stub.moveHold("m4", "nothing", "a", SHOPPER, 1, 900)).toMatchObject({ ok: true });
    expect(await inventoryStub(env, unique("NEVER")).moveHold("m1", "a", "b", SHOPPER, 0, 900)).toEqual({
      ok: false,
      reason: "unknown_sku",
    });
    await verified(stub);
  });

  it("keeps the earlier first reservation of the two, so a merge never resets the hold's lifetime cap", async () => {
    const { stub, from, to } = await stocked(10);
    await stub.hold(from, GUEST, 1, 900);
    await sleep(20);
    await stub.hold(to, SHOPPER, 1, 900);
    const sinceOf = (id: string) =>
      runInDurableObject(
        stub,
        (_i, s) => s.storage.sql.exec<{ held_since: number }>("SELECT held_since FROM holds WHERE hold_id = ?", id).one().held_since,
      );
    const guestSince = await sinceOf(from);
    const moved = await stub.moveHold("m1", from, to, SHOPPER, 2, 900, { maxHoldSeconds: 60 });
    expect(moved).toMatchObject({ ok: true, capped: true, expires_at: new Date(guestSince + 60_000).toISOString() });
    expect(await sinceOf(to)).toBe(guestSince);
  });
});

describe("moveHold is idempotent by merge id", () => {
  it("answers a replay exactly as the first call and changes nothing, even after the SKU moved on; other arguments are merge_id_reused", async () => {
    const { stub, from, to } = await stocked(10);
    await stub.hold(from, GUEST, 3, 900);
    await stub.hold(to, SHOPPER, 1, 900);
    const first = await stub.moveHold("m1", from, to, SHOPPER, 3, 900);
    const rows = (await ledger(stub)).length;
    const after = await state(stub);
    expect(await stub.moveHold("m1", from, to, SHOPPER, 3, 900)).toEqual(first);
    expect(await state(stub)).toEqual(after);
    expect((await ledger(stub)).length).toBe(rows);
    await stub.hold("later", "other", 4, 900);
    expect(await stub.moveHold("m1", from, to, SHOPPER, 3, 900)).toEqual(first);
    expect(await stub.moveHold("m1", from, to, SHOPPER, 2, 900)).toEqual({ ok: false, reason: "merge_id_reused" });
    expect(await stub.moveHold("m1", from, "other-target", SHOPPER, 3, 900)).toEqual({ ok: false, reason: "merge_id_reused" });
    await verified(stub);
  });

  it("answers a replay from SQLite after the object restarts", async () => {
    const { stub, from, to } = await stocked(10);
    await stub.hold(from, GUEST, 2, 900);
    const first = await stub.moveHold("m1", from, to, SHOPPER, 2, 900);
    await evictDurableObject(stub);
    expect(await stub.moveHold("m1", from, to, SHOPPER, 2, 900)).toEqual(first);
    expect((await state(stub)).holds).toEqual({ [to]: 2 });
    await verified(stub);
  });

  it("applies concurrent replays of one merge id once", async () => {
    const { sku, from, to } = await stocked(10);
    await inventoryStub(env, sku).hold(from, GUEST, 3, 900);
    await inventoryStub(env, sku).hold(to, SHOPPER, 2, 900);
    const answers = await Promise.all(Array.from({ length: 8 }, () => inventoryStub(env, sku).moveHold("m1", from, to, SHOPPER, 3, 900)));
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    const stub = inventoryStub(env, sku);
    expect((await ledger(stub)).filter((r) => r.reason === "merge:m1")).toHaveLength(2);
    expect(await state(stub)).toMatchObject({ reserved: 3, holds: { [to]: 3 } });
    await verified(stub);
  });
});

describe("moveHold from a lapsed source", () => {
  it("re-reserves like an ordinary hold when stock is there", async () => {
    const { stub, from, to } = await stocked(10);
    // The long hold first: the short one's 50 ms start only once both are in the ledger, however
    // slowly the second call arrives.
    await stub.hold(to, SHOPPER, 1, 900);
    await stub.hold(from, GUEST, 3, 0.05);
    await sleep(80);
    expect(await stub.moveHold("m1", from, to, SHOPPER, 3, 900)).toMatchObject({
      ok: true,
      quantity: 3,
      source_units: 0,
      target_units: 1,
      taken: 2,
      released: 0,
      available: 7,
    });
    expect((await ledger(stub)).map((r) => r.kind)).toEqual(["set", "hold", "hold", "expire", "move_in"]);
    await verified(stub);
  });

  it("is refused all or nothing when the stock went elsewhere, and the merge settles for what is there", async () => {
    const { stub, from, to } = await stocked(5);
    await stub.hold(to, SHOPPER, 1, 900);
    await stub.hold(from, GUEST, 4, 0.05);
    await sleep(80);
    await stub.hold("racer", "other", 2, 900);
    const before = { state: await state(stub), rows: (await ledger(stub)).length };
    const plan = planMerge([{ sku: "X", quantity: 1 }], [{ sku: "X", quantity: 4 }], "merge", 10);
    const refused = await stub.moveHold("m1", from, to, SHOPPER, plan.moves[0]!.quantity, 900);
    expect(refused).toEqual({ ok: false, reason: "insufficient_stock", available: 3 });
    expect({ state: await state(stub), rows: (await ledger(stub)).length }).toEqual(before);
    // A refusal is not remembered: the same merge id asks again for less.
    const retry = retryMove(plan.moves[0]!, refused as { reason: string; available: number })!;
    expect(await stub.moveHold("m1", from, to, SHOPPER, retry.quantity, 900)).toMatchObject({
      ok: true,
      quantity: 3,
      taken: 2,
      available: 0,
    });
    expect(mergeReport([retry])).toEqual([{ sku: "X", outcome: "reduced", requested: 4, quantity: 3, reason: "insufficient_stock" }]);
    await verified(stub);
  });

  it("applies the line limit and the SKU's status to the new units only", async () => {
    const { sku, stub, from, to } = await stocked(10);
    await stub.hold(from, GUEST, 3, 900);
    await stub.hold(to, SHOPPER, 3, 900);
    await defineSku(sku, { max_line_quantity: 2, status: "archived", version: 2 });
    expect(await stub.moveHold("m1", from, to, SHOPPER, 3, 900, { maxLineQuantity: 2 })).toMatchObject({ ok: true, quantity: 3 });
    expect(await stub.moveHold("m2", holdIdFor("g2", sku), to, SHOPPER, 4, 900)).toEqual({ ok: false, reason: "unknown_sku" });
    await defineSku(sku, { max_line_quantity: 2, version: 3 });
    expect(await stub.moveHold("m2", holdIdFor("g2", sku), to, SHOPPER, 4, 900)).toEqual({
      ok: false,
      reason: "quantity_limit_exceeded",
      limit: 2,
    });
    await verified(stub);
  });
});

describe("a racing shopper during a move", () => {
  it("never takes the moved units: the move is one transaction and never fails while its holds are live", async () => {
    for (let round = 0; round < 5; round++) {
      const { sku, from, to } = await stocked(10);
      await inventoryStub(env, sku).hold(from, GUEST, 4, 900);
      await inventoryStub(env, sku).hold(to, SHOPPER, 3, 900);
      const racers = Array.from({ length: 20 }, (_, i) => inventoryStub(env, sku).hold(`racer-${i}`, `r${i}`, 1, 900));
      const [moved, ...raced] = await Promise.all([inventoryStub(env, sku).moveHold("m1", from, to, SHOPPER, 4, 900), ...racers]);
      expect(moved).toMatchObject({ ok: true, quantity: 4, taken: 0, released: 3 });
      const granted = raced.filter((r) => r.ok).length;
      // 3 units were free before the move and 3 more after it: never the 4 it moved.
      expect(granted).toBeGreaterThanOrEqual(3);
      expect(granted).toBeLessThanOrEqual(6);
      const stub = inventoryStub(env, sku);
      expect(await state(stub)).toMatchObject({ reserved: 4 + granted, holds: { [to]: 4 } });
      await verified(stub);
    }
  });
});

describe("verify", () => {
  it("notices a hold whose own ledger rows do not add up", async () => {
    const { stub, from, to } = await stocked(10);
    await stub.hold(from, GUEST, 2, 900);
    await stub.moveHold("m1", from, to, SHOPPER, 2, 900);
    await verified(stub);
    await runInDurableObject(stub, (_i, s) => {
      s.storage.sql.exec("UPDATE ledger SET hold_id = 'elsewhere' WHERE kind = 'move_in'");
    });
    expect(await stub.verify()).toMatchObject({ ok: false, hold_mismatches: 2 });
  });
});
