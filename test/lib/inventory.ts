// Helpers of the InventoryObject tests (test/inventory.test.ts, test/inventory-routes.test.ts and the
// schema-step tests): a defined and stocked SKU, its levels from the snapshot, its ledger's kinds in
// order, and objects made before a schema step (their tables, catalog entry, stock row and ledger rows).
import { env, runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import type { InventoryObject } from "../../src/objects/inventory";
import { INVENTORY_SCHEMA } from "../../src/objects/inventory-schema";
import { runSqlMigrations } from "../../src/objects/sql-migrations";
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

/** The newest inventory schema step. */
export const LATEST_INVENTORY_VERSION = INVENTORY_SCHEMA.migrations.at(-1)!.version;

/**
 * Gives an object's storage the inventory tables as schema step `version` left them, with a
 * catalog entry and the stock row at `stock` ([on_hand, reserved, sold]), for tests of objects
 * made before a later step. Returns its SQL.
 */
export function oldInventory(
  storage: DurableObjectStorage,
  sku: string,
  version: number,
  stock: readonly [number, number, number],
): SqlStorage {
  runSqlMigrations(storage, [{ store: "inventory", migrations: INVENTORY_SCHEMA.migrations.filter((m) => m.version <= version) }]);
  const sql = storage.sql;
  sql.exec(
    "INSERT INTO catalog (id, product_id, title, price_amount, currency, status, max_line_quantity, version) VALUES (1, 'p', 't', 100, 'USD', 'active', NULL, 1)",
  );
  sql.exec("INSERT INTO stock (id, sku, on_hand, reserved, sold) VALUES (1, ?, ?, ?, ?)", sku, ...stock);
  return sql;
}

/** The inventory schema step an object's storage is at. */
export function inventoryVersion(sql: SqlStorage): number {
  return sql.exec<{ v: number }>("SELECT MAX(version) AS v FROM _schema WHERE store = 'inventory'").one().v;
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
