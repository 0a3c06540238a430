// Undoing hold moves (InventoryObject.undoMove, src/objects/inventory-moves.ts), an interrupted
// merge across SKUs finished or undone, and the schema step that brought the move ledger kinds.
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { holdIdFor } from "../src/domain/cart";
import { mergeReport, planMerge } from "../src/domain/merge";
import { InventoryStore } from "../src/objects/inventory-store";
import { inventoryStub } from "../src/objects/stubs";
import { unique } from "./helpers";
import { inventoryVersion, LATEST_INVENTORY_VERSION, oldInventory, writeLedgerRows } from "./lib/inventory";
import { GUEST, holdRows, ledger, SHOPPER, state, stocked, verified } from "./lib/merge-holds";

describe("undoMove", () => {
  it("restores both holds exactly as they were (quantity, owner, expiry, first reservation), once", async () => {
    const { stub, from, to } = await stocked(10);
    await stub.hold(from, GUEST, 3, 900);
    await stub.hold(to, SHOPPER, 2, 600);
    const before = { holds: await holdRows(stub), state: await state(stub) };
    expect(await stub.moveHold("m1", from, to, SHOPPER, 3, 900)).toMatchObject({ ok: true, released: 2, available: 7 });
    await verified(stub);
    const undone = await stub.undoMove("m1");
    expect(undone).toEqual({ ok: true, undone: true, source_units: 3, target_units: 2, on_hand: 10, reserved: 5, available: 5 });
    expect({ holds: await holdRows(stub), state: await state(stub) }).toEqual(before);
    expect((await ledger(stub)).filter((r) => r.reason === "undo:m1")).toEqual([
      { kind: "move_out", hold_id: to, reserved_delta: -1, reason: "undo:m1" },
      { kind: "move_in", hold_id: from, reserved_delta: 3, reason: "undo:m1" },
    ]);
    await verified(stub);
    const rows = (await ledger(stub)).length;
    expect(await stub.undoMove("m1")).toEqual(undone);
    expect(await stub.moveHold("m1", from, to, SHOPPER, 3, 900)).toEqual({ ok: false, reason: "move_undone" });
    expect((await ledger(stub)).length).toBe(rows);
    expect({ holds: await holdRows(stub), state: await state(stub) }).toEqual(before);
    await verified(stub);
  });

  it("is refused all or nothing when the units it needs back were taken; the move stays done, and a later undo succeeds", async () => {
    const { stub, from, to } = await stocked(5);
    await stub.hold(from, GUEST, 3, 900);
    await stub.hold(to, SHOPPER, 2, 900);
    const moved = await stub.moveHold("m1", from, to, SHOPPER, 3, 900);
    await stub.hold("racer", "other", 2, 900);
    const after = { state: await state(stub), rows: (await ledger(stub)).length };
    expect(await stub.undoMove("m1")).toEqual({ ok: false, reason: "insufficient_stock", available: 3 });
    expect({ state: await state(stub), rows: (await ledger(stub)).length }).toEqual(after);
    expect(await stub.moveHold("m1", from, to, SHOPPER, 3, 900)).toEqual(moved);
    await verified(stub);
    await stub.release("racer");
    expect(await stub.undoMove("m1")).toMatchObject({ ok: true, undone: true, source_units: 3, target_units: 2, available: 0 });
    expect((await state(stub)).holds).toEqual({ [from]: 3, [to]: 2 });
    await verified(stub);
  });

  it("leaves the holds alone once they changed after the move (move_superseded, hold_committed)", async () => {
    const { stub, from, to } = await stocked(10);
    await stub.hold(from, GUEST, 3, 900);
    await stub.moveHold("m1", from, to, SHOPPER, 3, 900);
    await stub.hold(to, SHOPPER, 4, 900);
    expect(await stub.undoMove("m1")).toEqual({ ok: false, reason: "move_superseded" });
    await stub.hold(to, SHOPPER, 3, 900);
    await stub.hold(from, GUEST, 1, 900);
    expect(await stub.undoMove("m1")).toEqual({ ok: false, reason: "move_superseded" });
    await stub.release(from);
    await stub.commit(to);
    expect(await stub.undoMove("m1")).toEqual({ ok: false, reason: "hold_committed" });
    expect(await state(stub)).toMatchObject({ on_hand: 7, reserved: 0, holds: {} });
    await verified(stub);
  });

  it("does not bring back a hold whose own expiry passed since the move", async () => {
    const { stub, from, to } = await stocked(10);
    await stub.hold(from, GUEST, 3, 900);
    await stub.hold(to, SHOPPER, 2, 900);
    expect(await stub.moveHold("m1", from, to, SHOPPER, 3, 900)).toMatchObject({ ok: true, source_units: 3 });
    // The source hold's expiry, as the move recorded it, passes. (Written, not waited for: a hold of
    // 150 ms once lapsed on a loaded machine before the move that must find it live.)
    await runInDurableObject(stub, (_instance, s) => {
      s.storage.sql.exec(
        "UPDATE hold_moves SET from_before = json_set(from_before, '$.expires_at', ?) WHERE merge_id = 'm1'",
        Date.now() - 1,
      );
    });
    expect(await stub.undoMove("m1")).toMatchObject({ ok: true, undone: true, source_units: 0, target_units: 2, reserved: 2 });
    expect((await state(stub)).holds).toEqual({ [to]: 2 });
    await verified(stub);
  });

  it("records a merge id this SKU never moved as undone, so a late move under it is refused", async () => {
    const { stub, from, to } = await stocked(10);
    await stub.hold(from, GUEST, 2, 900);
    const undone = await stub.undoMove("m9");
    expect(undone).toEqual({ ok: true, undone: false, source_units: 0, target_units: 0, on_hand: 10, reserved: 2, available: 8 });
    expect(await stub.moveHold("m9", from, to, SHOPPER, 2, 900)).toEqual({ ok: false, reason: "move_undone" });
    expect(await stub.undoMove("m9")).toEqual(undone);
    expect((await state(stub)).holds).toEqual({ [from]: 2 });
    await verified(stub);
  });

  it("is one transaction under racing shoppers: either everything is back or nothing moved", async () => {
    for (let round = 0; round < 5; round++) {
      const { sku, stub, from, to } = await stocked(8);
      await stub.hold(from, GUEST, 3, 900);
      await stub.hold(to, SHOPPER, 2, 900);
      await stub.moveHold("m1", from, to, SHOPPER, 3, 900);
      const racers = Array.from({ length: 6 }, (_, i) => inventoryStub(env, sku).hold(`racer-${i}`, `r${i}`, 1, 900));
      const [undo, ...raced] = await Promise.all([inventoryStub(env, sku).undoMove("m1"), ...racers]);
      const granted = raced.filter((r) => r.ok).length;
      const { holds } = await state(stub);
      if (undo.ok) expect({ from: holds[from], to: holds[to], granted }).toEqual({ from: 3, to: 2, granted: 3 });
      else
        expect({ reason: undo.reason, from: holds[from], to: holds[to], granted }).toEqual({
          reason: "insufficient_stock",
          from: undefined,
          to: 3,
          granted: 5,
        });
      await verified(stub);
    }
  });
});

describe("a merge interrupted between SKUs", () => {
  async function carts() {
    const a = await stocked(10);
    const b = await stocked(10);
    await a.stub.hold(holdIdFor(SHOPPER, a.sku), SHOPPER, 1, 900);
    await a.stub.hold(holdIdFor(GUEST, a.sku), GUEST, 2, 900);
    await b.stub.hold(holdIdFor(GUEST, b.sku), GUEST, 3, 900);
    const plan = planMerge(
      [{ sku: a.sku, quantity: 1 }],
      [
        { sku: a.sku, quantity: 2 },
        { sku: b.sku, quantity: 3 },
      ],
      "merge",
      10,
    );
    const stubOf = (sku: string) => (sku === a.sku ? a.stub : b.stub);
    const move = (mergeId: string, sku: string) => {
      const m = plan.moves.find((candidate) => candidate.sku === sku)!;
      return stubOf(m.sku).moveHold(mergeId, holdIdFor(GUEST, m.sku), holdIdFor(SHOPPER, m.sku), SHOPPER, m.quantity, 900);
    };
    return { a, b, plan, move };
  }

  it("is undone on every SKU: the moved one restored, the other never moved and refuses a late move", async () => {
    const { a, b, move } = await carts();
    const before = { a: await holdRows(a.stub), b: await holdRows(b.stub) };
    expect(await move("merge-1", a.sku)).toMatchObject({ ok: true, quantity: 2, released: 1 });
    await verified(a.stub);
    // The cart "crashes" here, before moving B; its object restarts and its alarm undoes the merge.
    await evictDurableObject(a.stub);
    expect(await a.stub.undoMove("merge-1")).toMatchObject({ ok: true, undone: true });
    expect(await b.stub.undoMove("merge-1")).toMatchObject({ ok: true, undone: false });
    await verified(a.stub);
    await verified(b.stub);
    expect(await move("merge-1", b.sku)).toEqual({ ok: false, reason: "move_undone" });
    expect({ a: await holdRows(a.stub), b: await holdRows(b.stub) }).toEqual(before);
    await verified(b.stub);
  });

  it("is finished instead: the moved SKU replays its answer, the other moves, and the report is whole", async () => {
    const { a, b, plan, move } = await carts();
    const first = await move("merge-2", a.sku);
    await verified(a.stub);
    expect(await move("merge-2", a.sku)).toEqual(first);
    expect(await move("merge-2", b.sku)).toMatchObject({ ok: true, quantity: 3, source_units: 3, taken: 0 });
    await verified(a.stub);
    await verified(b.stub);
    expect((await state(a.stub)).holds).toEqual({ [holdIdFor(SHOPPER, a.sku)]: 2 });
    expect((await state(b.stub)).holds).toEqual({ [holdIdFor(SHOPPER, b.sku)]: 3 });
    expect(mergeReport(plan.moves).map((e) => e.outcome)).toEqual(["merged", "merged"]);
  });
});

describe("schema step 7 (move ledger kinds, hold_moves)", () => {
  it("keeps an existing ledger row for row, and the object verifies and moves holds afterwards", async () => {
    const sku = unique("OLD");
    await runInDurableObject(inventoryStub(env, sku), (_instance, s) => {
      const sql = oldInventory(s.storage, sku, 5, [9, 2, 1]);
      sql.exec(
        "INSERT INTO holds (hold_id, owner_id, quantity, expires_at, held_since, client) VALUES ('g', ?, 2, ?, ?, NULL)",
        GUEST,
        Date.now() + 600_000,
        Date.now(),
      );
      writeLedgerRows(sql, [
        [1, "set", null, 10, 0],
        [2, "hold", "sold", 0, 1],
        [3, "commit", "sold", -1, -1],
        [7, "hold", "g", 0, 2],
      ]);
      const store = new InventoryStore(s.storage, sku);
      expect(inventoryVersion(sql)).toBe(LATEST_INVENTORY_VERSION);
      expect(sql.exec<{ seq: number; kind: string }>("SELECT seq, kind FROM ledger ORDER BY seq").toArray()).toEqual([
        { seq: 1, kind: "set" },
        { seq: 2, kind: "hold" },
        { seq: 3, kind: "commit" },
        { seq: 7, kind: "hold" },
      ]);
      expect(() => sql.exec("INSERT INTO ledger (seq, at, kind, on_hand_delta, reserved_delta) VALUES (99, 0, 'bogus', 0, 0)")).toThrow();
      expect(store.verify()).toMatchObject({ ok: true, on_hand: 9, reserved: 2, sold: 1 });
      expect(store.moveHold("m1", "g", "s", SHOPPER, 2, 900_000, Date.now())).toMatchObject({ ok: true, quantity: 2, available: 7 });
      expect(sql.exec<{ seq: number }>("SELECT seq FROM ledger ORDER BY seq DESC LIMIT 1").one().seq).toBe(9);
      expect(store.verify()).toMatchObject({ ok: true, reserved: 2, hold_mismatches: 0 });
    });
  });
});
