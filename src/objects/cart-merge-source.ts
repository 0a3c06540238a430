/**
 * The SOURCE side of a cart merge (the target drives it: cart-merge.ts). Locking makes the source
 * `merged` into the target at once, so it refuses writes while its holds move; finishing drops
 * its lines (their holds now belong to the target) and gives back its codes' redemptions;
 * aborting reopens it as it was.
 */
import type { CartState } from "../domain/cart";
import { cartLapsed } from "../domain/expiry";
import type { MergeLock } from "./cart-merge";
import { redemptionHoldId } from "./cart-promotions";
import type { CartStore, StoredCart } from "./cart-store";
import { promotionStub } from "./stubs";

export class MergeSource {
  constructor(
    private readonly env: Env,
    private readonly carts: CartStore,
  ) {}

  /** Locks this cart for a merge into `targetId` (idempotent for the same target). */
  lock(stored: StoredCart, cart: CartState, target: { id: string; currency: string; region: "eu" | null }, now: number): MergeLock {
    if (cart.status === "merged")
      return cart.merged_into === target.id ? this.#lines() : { ok: false, reason: "cart_not_open", status: cart.status };
    if (cart.status === "checked_out") return { ok: false, reason: "cart_not_open", status: cart.status };
    if (cart.currency !== target.currency) return { ok: false, reason: "carts_incompatible", field: "currency" };
    if (cart.region !== target.region) return { ok: false, reason: "carts_incompatible", field: "region" };
    const version = cart.version + 1;
    this.carts.write(stored, [], { status: "merged", expires_at: cart.expires_at, version }, now, () =>
      this.carts.setMerged(target.id, "merged", version, now),
    );
    return this.#lines();
  }

  /** The lines handed over, when this cart is locked for `targetId`. */
  lockState(targetId: string): MergeLock {
    return this.carts.cart()?.merged_into === targetId ? this.#lines() : { ok: false, reason: "not_found" };
  }

  /** The merge into `targetId` is done: the lines' holds are the target's now. Idempotent. */
  async finish(targetId: string): Promise<void> {
    const stored = this.carts.cart();
    if (stored?.merged_into !== targetId) return;
    const held = this.carts.promotions().filter((p) => p.held_until !== null);
    await Promise.all(held.map((p) => promotionStub(this.env, p.name).release(redemptionHoldId(stored.cart_id))));
    this.carts.write(stored, [], { status: "merged", expires_at: stored.expires_at, version: stored.version }, Date.now(), () => {
      this.carts.dropLines();
      for (const p of held) this.carts.dropPromotion(p.name);
    });
  }

  /** The merge into `targetId` was abandoned before anything moved, or undone: the cart reopens. Idempotent. */
  abort(targetId: string, now: number): void {
    const stored = this.carts.cart();
    if (stored?.merged_into !== targetId) return;
    const status = cartLapsed({ status: "open", expires_at: stored.expires_at }, now) ? "expired" : "open";
    this.carts.setMerged(null, status, stored.version + 1, now);
  }

  #lines(): MergeLock {
    return { ok: true, lines: this.carts.lines().map((line) => ({ sku: line.sku, quantity: line.quantity })) };
  }
}
