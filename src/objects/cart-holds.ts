/**
 * Keeping a cart's line holds alive: the holds of lines not changed lately are renewed by the
 * cart's alarm shortly before they would lapse (domain/expiry.ts `holdsToRenew`). A hold found
 * gone is taken again; if its stock went elsewhere meanwhile, the cart lapses as a whole (all its
 * holds go back), exactly as if its time had run out: it never shows lines it does not hold.
 */
import { settings } from "../config";
import { cartAt, holdIdFor } from "../domain/cart";
import { holdsToRenew } from "../domain/expiry";
import { log } from "../platform/log";
import type { CartStore } from "./cart-store";
import { inventoryStub } from "./stubs";

export class CartHolds {
  constructor(
    private readonly env: Env,
    private readonly carts: CartStore,
  ) {}

  /** Renews the line holds that are due at `now`. */
  async renew(now: number): Promise<void> {
    const stored = this.carts.cart();
    if (stored === null) return;
    const cart = cartAt(stored, now);
    const { holdTtlSeconds, maxHoldSeconds } = settings(this.env);
    const due = holdsToRenew(cart, this.carts.lines(), holdTtlSeconds).filter(({ at }) => at <= now);
    if (due.length === 0) return;
    const ttl = Math.max(1, (cart.expires_at - now) / 1000);
    const renewed = await Promise.all(
      due.map(async ({ line }) => {
        const stub = inventoryStub(this.env, line.sku);
        const holdId = holdIdFor(cart.cart_id, line.sku);
        const extended = await stub.extend(holdId, ttl, maxHoldSeconds);
        const expiresAt = extended.ok
          ? Date.parse(extended.expires_at)
          : await this.#retake(stub, holdId, cart, line.quantity, ttl, maxHoldSeconds);
        // A hold that could not reach the cart's expiry met its lifetime cap: the cart lapses with it.
        return expiresAt === null ? null : { sku: line.sku, hold_expires_at: expiresAt, hold_final: expiresAt < cart.expires_at };
      }),
    );
    if (renewed.every((r) => r !== null)) {
      this.carts.renewed(renewed, Math.min(cart.expires_at, ...renewed.filter((r) => r.hold_final).map((r) => r.hold_expires_at)));
      return;
    }
    log("warn", "a cart hold lapsed before it could be renewed; the cart lapses", { cart_id: cart.cart_id });
    await this.releaseAll(cart.cart_id);
    this.carts.write(stored, [], { status: "expired", expires_at: now, version: cart.version + 1 }, now);
  }

  /** Gives back every line's hold (idempotent). */
  async releaseAll(cartId: string): Promise<void> {
    await Promise.all(this.carts.lines().map((line) => inventoryStub(this.env, line.sku).release(holdIdFor(cartId, line.sku))));
  }

  /** Takes a lapsed line hold again; its new expiry, or null when the stock went elsewhere. */
  async #retake(
    stub: ReturnType<typeof inventoryStub>,
    holdId: string,
    cart: { cart_id: string; currency: string },
    quantity: number,
    ttl: number,
    maxHoldSeconds: number,
  ): Promise<number | null> {
    const retaken = await stub.hold(holdId, cart.cart_id, quantity, ttl, { currency: cart.currency, maxHoldSeconds });
    return retaken.ok && retaken.expires_at !== null ? Date.parse(retaken.expires_at) : null;
  }
}
