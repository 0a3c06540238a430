/**
 * The changes a shopper makes to a cart, carried out for CartObject once it has resolved the
 * caller and queued the change behind the cart's others. A line change is planned by the domain
 * (domain/cart.ts `planLineChange`), held in the SKU objects first and written here only once the
 * holds match; a header change (a code, the destination) is checked the same way (If-Match, an
 * open cart) and written with the next version.
 */
import { settings } from "../config";
import type { Cart } from "../contracts";
import { type CartResult, type CartState, cartAt, holdIdFor, type LinePlan, planLineChange } from "../domain/cart";
import { cartExpiryAfter } from "../domain/expiry";
import type { InventoryRefusal } from "../domain/inventory";
import type { CartPromotions } from "./cart-promotions";
import type { CartStore, KeptPromotion, LineWrite, StoredCart } from "./cart-store";
import { inventoryStub } from "./stubs";

/** The refusal of a change the plan refused: the cart is not open, or If-Match named another version. */
function refusalOf(plan: Extract<LinePlan, { kind: "refused" }>): CartResult {
  return plan.reason === "cart_not_open"
    ? { ok: false, reason: "cart_not_open", status: plan.status }
    : { ok: false, reason: "version_mismatch", version: plan.version };
}

export class CartChanges {
  constructor(
    private readonly env: Env,
    private readonly carts: CartStore,
    private readonly promotions: CartPromotions,
    /** Re-arms the object's alarm for whatever is due next. */
    private readonly arm: () => Promise<void>,
    /** The cart as the API shows it at `now` (`stored`, or as stored now), with the cached tax. */
    private readonly show: (now: number, stored?: CartState) => Promise<Cart>,
  ) {}

  /**
   * Sets the line for `sku` to `quantity` (see CartObject.setItem), or removes it (`remove`, see
   * CartObject.removeItem). `client` (a hash of the shopper's address) caps the units one shopper
   * holds in a SKU across its carts; every hold the cart takes lives at most MAX_HOLD_SECONDS from
   * its first reservation.
   */
  async line(
    stored: StoredCart,
    sku: string,
    quantity: number,
    ifMatch: string | null,
    remove: boolean,
    client: string | undefined,
    now: number,
  ): Promise<CartResult> {
    const cart = cartAt(stored, now);
    const plan = planLineChange(cart, this.carts.lines(), sku, quantity, ifMatch, remove);
    if (plan.kind === "refused") return refusalOf(plan);
    if (plan.kind === "unchanged") return { ok: true, cart: await this.show(now, stored) };
    if (plan.kind === "drop_lapsed") {
      // The hold lapsed with the cart; releasing it again is a no-op unless a lapse raced this.
      await inventoryStub(this.env, sku).release(holdIdFor(cart.cart_id, sku));
      this.carts.write(stored, [{ sku, quantity: 0 }], { status: "expired", expires_at: cart.expires_at, version: cart.version + 1 }, now);
      return { ok: true, cart: await this.show(now) };
    }

    const { holdTtlSeconds, maxLineQuantity, maxHoldSeconds, clientHoldLimit } = settings(this.env);
    const shared = {
      currency: cart.currency,
      maxHoldSeconds,
      ...(client !== undefined && clientHoldLimit !== undefined ? { client, clientLimit: clientHoldLimit } : {}),
    };
    const results = await Promise.all(
      plan.targets.map((t) =>
        inventoryStub(this.env, t.sku).hold(
          holdIdFor(cart.cart_id, t.sku),
          cart.cart_id,
          t.quantity,
          holdTtlSeconds,
          t.sku === sku ? { ...shared, maxLineQuantity } : shared,
        ),
      ),
    );
    const refused = results.findIndex((r) => !r.ok);
    if (refused >= 0) {
      // An expired cart's re-reservation is all or nothing: holds it did take go back.
      if (cart.status === "expired")
        await Promise.all(
          plan.targets.map((t, i) => (results[i]!.ok ? inventoryStub(this.env, t.sku).release(holdIdFor(cart.cart_id, t.sku)) : undefined)),
        );
      return { ...(results[refused] as InventoryRefusal), sku: plan.targets[refused]!.sku };
    }
    const lines: LineWrite[] = plan.targets.map((t, i) => {
      const result = results[i]!;
      if (!result.ok || result.expires_at === null) return { sku: t.sku, quantity: 0 };
      const item = result.item;
      return {
        sku: t.sku,
        quantity: t.quantity,
        hold_expires_at: Date.parse(result.expires_at),
        hold_final: result.capped,
        ...(item
          ? { product_id: item.product_id, title: item.title, unit_amount: item.price.amount, category: item.category ?? null }
          : {}),
      };
    });
    const after = new Map(
      this.carts.lines().map((line) => [line.sku, { hold_expires_at: line.hold_expires_at, hold_final: line.hold_final }]),
    );
    for (const line of lines) {
      if (line.quantity === 0) after.delete(line.sku);
      else after.set(line.sku, { hold_expires_at: line.hold_expires_at ?? null, hold_final: line.hold_final ?? false });
    }
    const expiresAt = cartExpiryAfter(now, holdTtlSeconds, [...after.values()]);
    // A lapsed cart that reopens takes its codes' redemptions again (a refused one stops applying).
    // Only then does the write do more than the line (with nothing more, it remembers what it wrote).
    const retaken: KeptPromotion[] = cart.status === "expired" ? await this.promotions.retake(cart.cart_id, expiresAt) : [];
    const keep =
      retaken.length === 0
        ? undefined
        : () => {
            for (const kept of retaken) this.carts.keepPromotion(kept, now);
          };
    this.carts.write(stored, lines, { status: "open", expires_at: expiresAt, version: cart.version + 1 }, now, keep);
    await this.arm();
    return { ok: true, cart: await this.show(now) };
  }

  /** A change to an open cart that is not a line (its codes, its destination): checked, carried out by `change`, then shown. */
  async header<R extends { ok: false }>(
    stored: StoredCart,
    ifMatch: string | null,
    change: (stored: StoredCart, cart: CartState, now: number) => Promise<{ ok: true } | R>,
    now: number,
  ): Promise<CartResult | R> {
    const cart = cartAt(stored, now);
    const plan = planLineChange(cart, [], "", 0, ifMatch, true);
    if (plan.kind === "refused") return refusalOf(plan);
    if (cart.status !== "open") return { ok: false, reason: "cart_not_open", status: cart.status };
    const result = await change(stored, cart, now);
    if (!result.ok) return result;
    await this.arm();
    // A change may write nothing (a code the cart does not hold), and a cart only opened has no row.
    return { ok: true, cart: await this.show(now, this.carts.cart() ?? stored) };
  }
}
