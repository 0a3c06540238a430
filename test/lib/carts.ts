// Helpers of the cart tests (test/carts.test.ts, test/carts-lifecycle.test.ts).
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import type { Cart } from "../../src/contracts";
import { cartStub, inventoryStub } from "../../src/objects/stubs";
import { call } from "../helpers";

export type CartJson = Cart & { token?: string };

export async function put(
  cart: { id: string; headers: Record<string, string> },
  sku: string,
  quantity: number,
  extra: Record<string, string> = {},
) {
  return call("PUT", `/v1/carts/${cart.id}/items/${sku}`, { body: { quantity }, headers: { ...cart.headers, ...extra } });
}

export async function available(sku: string): Promise<number> {
  return ((await (await call("GET", `/v1/skus/${sku}/availability`)).json()) as { available: number }).available;
}

/** Holds in the SKU object, by owner (cart id) → quantity. */
export async function holdsOf(sku: string): Promise<Map<string, number>> {
  const snapshot = await inventoryStub(env, sku).snapshot();
  if (!snapshot.ok) throw new Error(snapshot.reason);
  return new Map(snapshot.snapshot.holds.map((h) => [h.owner_id, h.quantity]));
}

/**
 * Rewrites a cart object's SQLite storage behind its back (a test moving its clock), then
 * restarts the object so that it reads the change back: a cart remembers what it read until its
 * next write (src/objects/read-memo.ts), as a SKU object keeps its state in memory.
 */
export async function rewriteCart(cartId: string, rewrite: (sql: SqlStorage) => void): Promise<void> {
  await runInDurableObject(cartStub(env, cartId)!, (_i, state) => rewrite(state.storage.sql));
  await evictDurableObject(cartStub(env, cartId)!);
}

/** Moves a cart's and its holds' expiry into the past, as if HOLD_TTL_SECONDS had elapsed. */
export async function timeTravelPastExpiry(cartId: string, skus: string[]) {
  const past = Date.now() - 1000;
  await rewriteCart(cartId, (sql) => sql.exec("UPDATE cart SET expires_at = ?", past));
  for (const sku of skus) {
    await runInDurableObject(inventoryStub(env, sku), (_i, state) =>
      state.storage.sql.exec("UPDATE holds SET expires_at = ? WHERE owner_id = ?", past, cartId),
    );
    // The SKU object keeps its state in memory: restart it so it reads the moved clock back.
    await evictDurableObject(inventoryStub(env, sku));
  }
}
