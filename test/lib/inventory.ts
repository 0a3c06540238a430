// Helpers of the InventoryObject tests (test/inventory.test.ts, test/inventory-routes.test.ts): a
// defined and stocked SKU, its levels from the snapshot, and its ledger's kinds in order.
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

export async function ledgerKinds(stub: DurableObjectStub<InventoryObject>) {
  return runInDurableObject(stub, (_instance, state) =>
    state.storage.sql
      .exec<{ kind: string }>("SELECT kind FROM ledger ORDER BY seq")
      .toArray()
      .map((r) => r.kind),
  );
}
