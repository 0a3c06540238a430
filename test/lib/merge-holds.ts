/**
 * Helpers of the hold-move tests (test/merge-holds*.test.ts): a stocked SKU with a guest's and a
 * shopper's hold ids, its state from the snapshot, its ledger rows, and the ledger check.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import { holdIdFor } from "../../src/domain/cart";
import type { InventoryObject } from "../../src/objects/inventory";
import { inventoryStub } from "../../src/objects/stubs";
import { defineSku, unique } from "../helpers";

export type Stub = DurableObjectStub<InventoryObject>;
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const GUEST = "guest-cart";
export const SHOPPER = "shopper-cart";

/** A SKU defined and stocked with `onHand`, with the guest's (`from`) and the shopper's (`to`) hold ids on it. */
export async function stocked(onHand: number) {
  const sku = unique("MERGE");
  const stub = inventoryStub(env, sku);
  await defineSku(sku);
  expect(await stub.setOnHand(onHand)).toMatchObject({ ok: true });
  return { sku, stub, from: holdIdFor(GUEST, sku), to: holdIdFor(SHOPPER, sku) };
}

/** Levels and live holds (id → quantity) from the object's snapshot. */
export async function state(stub: Stub) {
  const result = await stub.snapshot();
  if (!result.ok) throw new Error(result.reason);
  const { on_hand, reserved, available, holds } = result.snapshot;
  return { on_hand, reserved, available, holds: Object.fromEntries(holds.map((h) => [h.hold_id, h.quantity])) };
}

/** Live holds with their expiry (ms), from SQLite. */
export async function holdRows(stub: Stub) {
  return runInDurableObject(stub, (_instance, s) =>
    s.storage.sql
      .exec<{ hold_id: string; owner_id: string; quantity: number; expires_at: number; held_since: number | null }>(
        "SELECT hold_id, owner_id, quantity, expires_at, held_since FROM holds ORDER BY hold_id",
      )
      .toArray(),
  );
}

/** The ledger's rows, oldest first. */
export async function ledger(stub: Stub) {
  return runInDurableObject(stub, (_instance, s) =>
    s.storage.sql
      .exec<{ kind: string; hold_id: string | null; reserved_delta: number; reason: string | null }>(
        "SELECT kind, hold_id, reserved_delta, reason FROM ledger ORDER BY seq",
      )
      .toArray(),
  );
}

/** Asserts the ledger check passes (each hold included). */
export async function verified(stub: Stub) {
  const check = await stub.verify();
  expect(check).toMatchObject({ ok: true, hold_mismatches: 0 });
  return check;
}
