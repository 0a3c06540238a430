// A hold change is one SQL statement (schema step 8, src/objects/inventory-schema.ts): the
// hold_changes view applies the hold's row, the sale record and the ledger row, and the ledger's
// trigger moves the stock row. These tests hold the database to what the JavaScript used to do
// by hand: a sold hold id is refused first whatever else the call meets, a refused statement
// changes nothing, stored stock is the ledger's sum, and objects made before the step keep working.
// Step 9 cut the B-trees a hold writes; the last test upgrades an object made at step 8.
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { InventoryObject } from "../src/objects/inventory";
import { InventoryStore } from "../src/objects/inventory-store";
import { inventoryStub } from "../src/objects/stubs";
import { unique } from "./helpers";
import { inventoryVersion, LATEST_INVENTORY_VERSION, levels, oldInventory, stocked, writeLedgerRows } from "./lib/inventory";

type Stub = DurableObjectStub<InventoryObject>;

/** Everything stored: stock, holds (without times), the sale records and the ledger, in order. */
function stored(stub: Stub) {
  return runInDurableObject(stub, (_instance, state) => {
    const sql = state.storage.sql;
    return {
      stock: sql.exec("SELECT on_hand, reserved, sold FROM stock").toArray(),
      holds: sql.exec("SELECT hold_id, owner_id, quantity, client FROM holds ORDER BY hold_id").toArray(),
      committed: sql.exec("SELECT hold_id, owner_id, quantity FROM committed_holds ORDER BY hold_id").toArray(),
      ledger: sql.exec("SELECT seq, kind, hold_id, on_hand_delta, reserved_delta FROM ledger ORDER BY seq").toArray(),
    };
  });
}

describe("a hold change in one statement", () => {
  it("answers hold_committed for a sold id before anything else, and changes nothing", async () => {
    const { stub } = await stocked(5);
    await stub.hold("sold", "cart", 2, 900);
    await stub.commit("sold");
    await stub.hold("other", "cart-b", 2, 900);
    const before = await stored(stub);
    // Within stock (the path where the write itself refuses the sold id), beyond stock, 0 units,
    // another owner, and over the SKU's line limit: the same answer, and no row moves.
    expect(await stub.hold("sold", "cart", 1, 900)).toEqual({ ok: false, reason: "hold_committed" });
    expect(await stub.hold("sold", "cart", 50, 900)).toEqual({ ok: false, reason: "hold_committed" });
    expect(await stub.hold("sold", "cart", 0, 900)).toEqual({ ok: false, reason: "hold_committed" });
    expect(await stub.hold("sold", "someone-else", 1, 900)).toEqual({ ok: false, reason: "hold_committed" });
    expect(await stub.hold("sold", "cart", 2, 900, { maxLineQuantity: 1 })).toEqual({ ok: false, reason: "hold_committed" });
    expect(await stored(stub)).toEqual(before);
    // Memory agrees with what is stored, and so does a fresh instance that reads it back.
    expect(await levels(stub)).toEqual({ on_hand: 3, reserved: 2, available: 1, holds_total: 1 });
    await evictDurableObject(stub);
    expect(await levels(stub)).toEqual({ on_hand: 3, reserved: 2, available: 1, holds_total: 1 });
    expect(await stub.hold("new", "cart-c", 1, 900)).toMatchObject({ ok: true, available: 0 });
    expect(await stub.verify()).toMatchObject({ ok: true, on_hand: 3, reserved: 3, sold: 2, hold_mismatches: 0 });
  });

  it("writes the hold, its ledger row and the stock it moves together: stored stock is the ledger's sum", async () => {
    const { stub } = await stocked(10);
    await stub.hold("a", "cart-a", 3, 900);
    await stub.hold("a", "cart-a", 3, 900); // the same call again: no units move, no ledger row
    await stub.hold("b", "cart-b", 4, 900);
    await stub.extend("b", 1200);
    await stub.hold("a", "cart-a", 1, 900);
    await stub.commit("b");
    await stub.release("a");
    const after = await stored(stub);
    expect(after.stock).toEqual([{ on_hand: 6, reserved: 0, sold: 4 }]);
    expect(after.holds).toEqual([]);
    expect(after.committed).toEqual([{ hold_id: "b", owner_id: "cart-b", quantity: 4 }]);
    expect(after.ledger.map(({ seq: _, ...row }) => row)).toEqual([
      { kind: "set", hold_id: null, on_hand_delta: 10, reserved_delta: 0 },
      { kind: "hold", hold_id: "a", on_hand_delta: 0, reserved_delta: 3 },
      { kind: "hold", hold_id: "b", on_hand_delta: 0, reserved_delta: 4 },
      { kind: "hold", hold_id: "a", on_hand_delta: 0, reserved_delta: -2 },
      { kind: "commit", hold_id: "b", on_hand_delta: -4, reserved_delta: -4 },
      { kind: "release", hold_id: "a", on_hand_delta: 0, reserved_delta: -1 },
    ]);
    expect(after.ledger.map((row) => row.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await stub.verify()).toMatchObject({ ok: true, on_hand: 6, reserved: 0, sold: 4, ledger_sold: 4 });
  });

  it("throws for a quantity that is not a whole number of units, changing nothing (a caller's bug, not an answer)", async () => {
    const { stub } = await stocked(5);
    await stub.hold("a", "cart-a", 2, 900);
    const before = await stored(stub);
    // Called inside the object, not through the stub: under the test pool every RPC that rejects
    // also leaks one unhandled rejection (cloudflare/workers-sdk#14736), which fails the run.
    await runInDurableObject(stub, async (instance: InventoryObject) => {
      for (const quantity of [-1, 1.5, Number.NaN])
        await expect(instance.hold("a", "cart-a", quantity, 900)).rejects.toThrow(/non-negative integer/);
      await expect(instance.hold("b", "cart-b", -2, 900)).rejects.toThrow(/non-negative integer/);
    });
    expect(await stored(stub)).toEqual(before);
    expect(await levels(stub)).toEqual({ on_hand: 5, reserved: 2, available: 3, holds_total: 1 });
  });

  it("refuses in the database what the stock rules forbid, even when asked directly, changing nothing", async () => {
    const { stub } = await stocked(2);
    await stub.hold("a", "cart-a", 2, 900);
    const before = await stored(stub);
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      const change = (holdId: string, quantity: number, reservedDelta: number, seq: number) =>
        sql.exec(
          `INSERT INTO hold_changes (kind, hold_id, owner_id, quantity, expires_at, held_since, client, on_hand_delta, reserved_delta, seq, at, is_new)
           VALUES ('hold', ?, 'cart-x', ?, ?, 0, NULL, 0, ?, ?, 0, 1)`,
          holdId,
          quantity,
          Date.now() + 60_000,
          reservedDelta,
          seq,
        );
      // One more unit than on hand: stock's CHECK (reserved <= on_hand) aborts the whole statement.
      expect(() => change("x", 1, 1, 100)).toThrow(/SQLITE_CONSTRAINT/);
      // A ledger row needs the stock row it moves.
      sql.exec("DELETE FROM stock");
      expect(() => change("y", 1, 0, 101)).not.toThrow(); // no units moved: no ledger row
      expect(() => sql.exec("INSERT INTO ledger (seq, at, kind, on_hand_delta, reserved_delta) VALUES (102, 0, 'set', 1, 0)")).toThrow(
        /needs the stock row/,
      );
      // Put back what this test took away, so only the refused statements are left to compare.
      sql.exec("DELETE FROM holds WHERE hold_id = 'y'");
      sql.exec("INSERT INTO stock (id, sku, on_hand, reserved, sold) VALUES (1, 'x', 2, 2, 0)");
    });
    expect(await stored(stub)).toEqual(before);
  });

  it("upgrades an object made before the step: its stock, holds and ledger carry on, and the hot path works on them", async () => {
    const sku = unique("OLD8");
    const stub = inventoryStub(env, sku);
    await runInDurableObject(stub, (_instance, state) => {
      const sql = oldInventory(state.storage, sku, 7, [9, 2, 1]);
      sql.exec(
        "INSERT INTO holds (hold_id, owner_id, quantity, expires_at, held_since, client) VALUES ('g', 'cart-g', 2, ?, ?, NULL)",
        Date.now() + 600_000,
        Date.now(),
      );
      sql.exec("INSERT INTO committed_holds (hold_id, owner_id, quantity, committed_at) VALUES ('sold', 'cart-s', 1, 0)");
      writeLedgerRows(sql, [
        [1, "set", null, 10, 0],
        [2, "hold", "sold", 0, 1],
        [3, "commit", "sold", -1, -1],
        [4, "hold", "g", 0, 2],
      ]);
      const store = new InventoryStore(state.storage, sku);
      expect(inventoryVersion(sql)).toBe(LATEST_INVENTORY_VERSION);
      expect(store.verify()).toMatchObject({ ok: true, on_hand: 9, reserved: 2, sold: 1 });
    });
    await evictDurableObject(stub);
    expect(await stub.hold("sold", "cart-s", 1, 900)).toEqual({ ok: false, reason: "hold_committed" });
    expect(await stub.hold("g", "cart-g", 3, 900)).toMatchObject({ ok: true, on_hand: 9, reserved: 3, available: 6 });
    expect(await stub.hold("n", "cart-n", 6, 900)).toMatchObject({ ok: true, reserved: 9, available: 0 });
    expect(await stub.hold("m", "cart-m", 1, 900)).toEqual({ ok: false, reason: "insufficient_stock", available: 0 });
    expect(await stub.commit("n")).toMatchObject({ ok: true, quantity: 6, on_hand: 3, reserved: 3 });
    expect(await stub.verify()).toMatchObject({ ok: true, on_hand: 3, reserved: 3, sold: 7, ledger_sold: 7, hold_mismatches: 0 });
    expect((await stored(stub)).stock).toEqual([{ on_hand: 3, reserved: 3, sold: 7 }]);
  });

  it("upgrades an object made at step 8 to step 9: the same rows and seq values, operation ids still unique, and a hold writes four B-trees", async () => {
    const sku = unique("OLD9");
    const stub = inventoryStub(env, sku);
    await runInDurableObject(stub, (_instance, state) => {
      const sql = oldInventory(state.storage, sku, 8, [0, 0, 0]);
      // Step 8's ledger moves the stock itself: these rows and the adjustment below leave on_hand 11, reserved 2 (hold g), sold 1.
      writeLedgerRows(sql, [
        [1, "set", null, 10, 0],
        [2, "hold", "sold", 0, 1],
        [3, "commit", "sold", -1, -1],
        [4, "hold", "g", 0, 2],
      ]);
      sql.exec(
        "INSERT INTO ledger (seq, at, kind, operation_id, on_hand_delta, reserved_delta, reason) VALUES (7, 0, 'adjust', 'op-1', 2, 0, 'found')",
      );
      sql.exec(
        "INSERT INTO holds (hold_id, owner_id, quantity, expires_at, held_since, client) VALUES ('g', 'cart-g', 2, ?, ?, 'c1')",
        Date.now() + 600_000,
        Date.now(),
      );
      sql.exec("INSERT INTO committed_holds (hold_id, owner_id, quantity, committed_at) VALUES ('sold', 'cart-s', 1, 0)");
      expect(sql.exec("SELECT name FROM sqlite_sequence WHERE name = 'ledger'").toArray()).toHaveLength(1);

      const store = new InventoryStore(state.storage, sku);
      expect(inventoryVersion(sql)).toBe(LATEST_INVENTORY_VERSION);
      expect(store.verify()).toMatchObject({ ok: true, on_hand: 11, reserved: 2, sold: 1, hold_mismatches: 0 });
      expect(sql.exec("SELECT seq, kind, operation_id FROM ledger ORDER BY seq").toArray()).toEqual([
        { seq: 1, kind: "set", operation_id: null },
        { seq: 2, kind: "hold", operation_id: null },
        { seq: 3, kind: "commit", operation_id: null },
        { seq: 4, kind: "hold", operation_id: null },
        { seq: 7, kind: "adjust", operation_id: "op-1" },
      ]);
      expect(sql.exec("SELECT hold_id, quantity, client FROM holds").toArray()).toEqual([{ hold_id: "g", quantity: 2, client: "c1" }]);
      // What a hold writes: holds is one B-tree (no rowid, no separate index of hold_id), the
      // ledger keeps no AUTOINCREMENT counter and indexes only rows that have an operation id.
      const objects = sql
        .exec<{ type: string; name: string }>(
          "SELECT type, name FROM sqlite_master WHERE tbl_name IN ('holds', 'ledger', 'hold_changes') ORDER BY type, name",
        )
        .toArray();
      expect(objects).toEqual([
        { type: "index", name: "holds_expires_at" },
        { type: "index", name: "ledger_operation_id" },
        { type: "table", name: "holds" },
        { type: "table", name: "ledger" },
        { type: "trigger", name: "hold_changes_apply" },
        { type: "trigger", name: "ledger_moves_stock" },
        { type: "view", name: "hold_changes" },
      ]);
      expect(sql.exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE name = 'holds'").one().sql).toMatch(/WITHOUT ROWID\s*$/);
      expect(sql.exec("SELECT name FROM sqlite_sequence WHERE name = 'ledger'").toArray()).toEqual([]);
      // adjust's retry check, a lookup by operation id, uses the partial index rather than a scan of the ledger.
      const plan = sql.exec<{ detail: string }>("EXPLAIN QUERY PLAN SELECT 1 FROM ledger WHERE operation_id = ?", "op-1").toArray();
      expect(plan.map((row) => row.detail).join("; ")).toMatch(/USING (COVERING )?INDEX ledger_operation_id/);
      // The operation id is still unique (a second row under it is refused); rows without one are many.
      expect(() =>
        sql.exec("INSERT INTO ledger (seq, at, kind, operation_id, on_hand_delta, reserved_delta) VALUES (8, 0, 'adjust', 'op-1', 1, 0)"),
      ).toThrow(/UNIQUE/);
    });
    await evictDurableObject(stub);
    // The hot path and the rarer paths carry on from seq 7: a retried adjustment is a no-op, a sold id is refused.
    expect(await stub.adjust(2, "found", "op-1")).toMatchObject({ ok: true, duplicate: true, on_hand: 11 });
    expect(await stub.adjust(1, "found", "op-2")).toMatchObject({ ok: true, duplicate: false, on_hand: 12 });
    expect(await stub.hold("sold", "cart-s", 1, 900)).toEqual({ ok: false, reason: "hold_committed" });
    expect(await stub.hold("g", "cart-g", 3, 900)).toMatchObject({ ok: true, on_hand: 12, reserved: 3, available: 9 });
    expect(await stub.hold("n", "cart-n", 9, 900)).toMatchObject({ ok: true, reserved: 12, available: 0 });
    expect(await stub.hold("m", "cart-m", 1, 900)).toEqual({ ok: false, reason: "insufficient_stock", available: 0 });
    expect(await stub.release("g")).toMatchObject({ ok: true, released: 3, reserved: 9 });
    expect(await stub.commit("n")).toMatchObject({ ok: true, quantity: 9, on_hand: 3, reserved: 0 });
    expect(await stub.verify()).toMatchObject({ ok: true, on_hand: 3, reserved: 0, sold: 10, ledger_sold: 10, hold_mismatches: 0 });
    const after = await stored(stub);
    expect(after.stock).toEqual([{ on_hand: 3, reserved: 0, sold: 10 }]);
    expect(after.ledger.map((row) => row.seq)).toEqual([1, 2, 3, 4, 7, 8, 9, 10, 11, 12]);
  });
});
