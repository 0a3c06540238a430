// Helpers of the InventoryObject tests (test/inventory.test.ts, test/inventory-routes.test.ts and the
// schema-step tests): a defined and stocked SKU, its levels from the snapshot, its ledger's kinds in
// order, and ledger rows written as an object made before a schema step had them.
import { env, runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import type { InventoryObject } from "../../src/objects/inventory";
import { inventoryStub } from "../../src/objects/stubs";
import { defineSku, unique } from "../helpers";

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function stocked(onHand: number) {
  const sku = unique("SKU");
  const stub = inventoryStub(env, sku);
  await defineSku(sku);
  expect(await stub.setOnHand(onHand)).toEqual({ ok: true, on_hand: onHand, reserved: 0, available: onHand });
  return { sku, stub };
}

export async function levels(stub: DurableObjectStub<InventoryObject>) {
  const result = await stub.snapshot();
  if (!result.ok) throw new Error(result.reason);
  const { on_hand, reserved, available, holds_total } = result.snapshot;
  return { on_hand, reserved, available, holds_total };
}

/** Ledger rows as an object made before a schema step wrote them: [seq, kind, hold id, on_hand delta, reserved delta]. */
export type OldLedgerRow = readonly [number, string, string | null, number, number];

/** Writes `rows` straight into an object's ledger (for tests of objects made before a schema step). */
export function writeLedgerRows(sql: SqlStorage, rows: readonly OldLedgerRow[]): void {
  for (const [seq, kind, hold, onHand, reserved] of rows)
    sql.exec(
      "INSERT INTO ledger (seq, at, kind, hold_id, on_hand_delta, reserved_delta) VALUES (?, 0, ?, ?, ?, ?)",
      seq,
      kind,
      hold,
      onHand,
      reserved,
    );
}

export async function ledgerKinds(stub: DurableObjectStub<InventoryObject>) {
  return runInDurableObject(stub, (_instance, state) =>
    state.storage.sql
      .exec<{ kind: string }>("SELECT kind FROM ledger ORDER BY seq")
      .toArray()
      .map((r) => r.kind),
  );
}
