/**
 * A cart's promotions against their objects: entering and removing codes, keeping their
 * redemption holds alive while the cart is, and, at checkout, reading every promotion the price
 * depends on from its object (the authoritative definition), taking the redemptions the order
 * needs and settling them once the order is paid or closed. The rules are pure
 * (domain/promotion.ts, cart-pricing.ts); this carries them out.
 *
 * A code promotion with a usage limit is held from the moment it is entered (one hold per cart in
 * its object, lapsing with the cart). An automatic promotion, or a code without a limit, is held
 * only at checkout, and only when it then has a limit: entering an unlimited code costs its object
 * one read, however many carts enter it.
 */
import type { CartState } from "../domain/cart";
import { type CodeRefusal, samePriceBeforeTax } from "../domain/cart-pricing";
import { holdsToRenew } from "../domain/expiry";
import { normalizeCode, type Promotion, promotionObjectName, type RedemptionRefusal } from "../domain/promotion";
import { errorFields, log } from "../platform/log";
import type { CartPricer, Priced } from "./cart-pricer";
import type { CartStore, KeptPromotion, StoredCart } from "./cart-store";
import { promotionStub } from "./stubs";

export type { CodeRefusal } from "../domain/cart-pricing";

/** What checkout may charge, or why it must stop. */
export type CheckoutPricing =
  | { ok: true; priced: Priced; redemptions: string[] }
  | { ok: false; reason: "price_changed" | "tax_unavailable" | "ship_to_required" };

/** The redemption hold a cart (and the order placed from it) keeps in a promotion's object. */
export function redemptionHoldId(cartId: string): string {
  return `cart:${cartId}`;
}

export class CartPromotions {
  constructor(
    private readonly env: Env,
    private readonly carts: CartStore,
    private readonly pricer: CartPricer,
    private readonly taxMode: () => "none" | "rates" | "external",
  ) {}

  /** Enters `code` on the open cart (a code already entered changes nothing). */
  async enter(stored: StoredCart, cart: CartState, entered: string, now: number): Promise<{ ok: true } | CodeRefusal> {
    const code = normalizeCode(entered);
    const name = promotionObjectName({ id: "", code });
    if (this.carts.promotions().some((kept) => kept.name === name)) return { ok: true };
    const stub = promotionStub(this.env, name);
    const promotion = await stub.lookup();
    if (promotion === null || promotion.code === null) return { ok: false, reason: "promotion_not_found", code };
    const candidate: KeptPromotion = { name, code, promotion, refused: null, held_until: null };
    const priced = await this.pricer.price(cart, now, "cached", [...this.carts.promotions(), candidate]);
    const verdict = priced.codes.find((c) => c.code === code);
    if (!verdict?.applied) return { ok: false, reason: "promotion_not_applicable", code, why: verdict?.reason ?? "does_not_match_cart" };
    if (promotion.usage_limit !== null) {
      const held = await stub.hold(redemptionHoldId(cart.cart_id), cart.expires_at);
      if (!held.ok)
        return held.reason === "promotion_not_found"
          ? { ok: false, reason: "promotion_not_found", code }
          : { ok: false, reason: "promotion_not_applicable", code, why: held.reason };
      candidate.promotion = held.promotion;
      candidate.held_until = cart.expires_at;
    }
    this.carts.write(stored, [], { status: cart.status, expires_at: cart.expires_at, version: cart.version + 1 }, now, () =>
      this.carts.keepPromotion(candidate, now),
    );
    return { ok: true };
  }

  /** Removes `code` from the cart and gives its redemption back (a code not entered changes nothing). */
  async remove(stored: StoredCart, cart: CartState, entered: string, now: number): Promise<void> {
    const name = promotionObjectName({ id: "", code: normalizeCode(entered) });
    const kept = this.carts.promotions().find((p) => p.name === name);
    if (kept === undefined) return;
    if (kept.held_until !== null) await promotionStub(this.env, name).release(redemptionHoldId(cart.cart_id));
    this.carts.write(stored, [], { status: cart.status, expires_at: cart.expires_at, version: cart.version + 1 }, now, () =>
      this.carts.dropPromotion(name),
    );
  }

  /** When redemption holds must be renewed to keep up with the cart (for the alarm). */
  renewals(cart: CartState, holdTtlSeconds: number): number[] {
    return holdsToRenew(cart, this.#held(), holdTtlSeconds).map(({ at }) => at);
  }

  /** Renews the redemption holds that are due, to the cart's expiry. A refusal leaves the code to be judged at checkout. */
  async renew(cart: CartState, holdTtlSeconds: number, now: number): Promise<void> {
    const due = holdsToRenew(cart, this.#held(), holdTtlSeconds).filter(({ at }) => at <= now);
    await Promise.all(
      due.map(async ({ line: kept }) => {
        const held = await promotionStub(this.env, kept.name).hold(redemptionHoldId(cart.cart_id), cart.expires_at);
        if (held.ok) this.carts.redemptionRenewed(kept.name, cart.expires_at);
        else
          log("warn", "a promotion's redemption could not be renewed; checkout will judge it", {
            cart_id: cart.cart_id,
            promotion: kept.name,
            reason: held.reason,
          });
      }),
    );
  }

  /**
   * Takes the codes' redemptions again for a cart that lapsed and reopens until `expiresAt`. Returns
   * the promotions to keep as they now are (a refused one is kept as refused: it no longer applies).
   */
  async retake(cartId: string, expiresAt: number): Promise<KeptPromotion[]> {
    const held = this.carts.promotions().filter((kept) => kept.held_until !== null && kept.refused === null);
    return Promise.all(
      held.map(async (kept): Promise<KeptPromotion> => {
        const answer = await promotionStub(this.env, kept.name).hold(redemptionHoldId(cartId), expiresAt);
        return answer.ok
          ? { ...kept, promotion: answer.promotion, held_until: expiresAt }
          : { ...kept, refused: answer.reason, held_until: null };
      }),
    );
  }

  /**
   * Checkout's promotions and tax. Reads every promotion the price depends on from its object; if
   * that changes what the shopper was shown, the cart is updated and checkout stops
   * (`price_changed`). Then the tax (`ship_to_required`, `tax_unavailable`: nothing is held yet),
   * then a redemption hold until `holdUntil` on each applied promotion with a usage limit; a
   * refusal also stops with `price_changed`, every redemption moved back to the cart's expiry.
   */
  async prepareCheckout(stored: StoredCart, cart: CartState, now: number, holdUntil: number): Promise<CheckoutPricing> {
    const kept = this.carts.promotions();
    const shown = await this.pricer.price(cart, now, "cached", kept);
    const refreshed = await this.#authoritative(kept, shown.applied);
    const current = await this.pricer.price(cart, now, "cached", refreshed);
    for (const p of refreshed) this.carts.keepPromotion(p, now);
    if (!samePriceBeforeTax(shown.priced, current.priced)) return this.#changed(stored, cart, now);
    if (this.taxMode() !== "none" && this.carts.shipTo() === null) return { ok: false, reason: "ship_to_required" };
    const priced = await this.pricer.price(cart, now, "fetch", refreshed);
    if (priced.tax_status === "unavailable") return { ok: false, reason: "tax_unavailable" };
    const limited = priced.applied.filter((p) => p.usage_limit !== null).map((p) => promotionObjectName(p));
    const answers = await Promise.all(limited.map((name) => promotionStub(this.env, name).hold(redemptionHoldId(cart.cart_id), holdUntil)));
    const refusedAt = answers.findIndex((a) => !a.ok);
    if (refusedAt < 0) return { ok: true, priced, redemptions: limited };
    await this.restore(
      cart,
      limited.filter((_, i) => answers[i]!.ok),
    );
    for (const [i, answer] of answers.entries()) {
      if (answer.ok) continue;
      const before = refreshed.find((p) => p.name === limited[i]) ?? {
        name: limited[i]!,
        code: null,
        promotion: answer.promotion ?? priced.applied.find((p) => promotionObjectName(p) === limited[i])!,
        held_until: null,
      };
      this.carts.keepPromotion({ ...before, refused: answer.reason, held_until: null }, now);
    }
    return this.#changed(stored, cart, now);
  }

  /** Moves redemption holds a checkout took back to the cart's own expiry (the checkout stopped). */
  async restore(cart: CartState, names: readonly string[]): Promise<void> {
    await Promise.all(names.map((name) => promotionStub(this.env, name).hold(redemptionHoldId(cart.cart_id), cart.expires_at)));
  }

  /** Gives back the redemptions of entered codes the order did not use (best effort: they lapse anyway). */
  async releaseUnused(cartId: string, used: readonly string[]): Promise<void> {
    const unused = this.carts.promotions().filter((p) => p.held_until !== null && !used.includes(p.name));
    try {
      await Promise.all(unused.map((p) => promotionStub(this.env, p.name).release(redemptionHoldId(cartId))));
    } catch (error) {
      log("warn", "releasing unused redemptions failed; they lapse with the cart", { cart_id: cartId, ...errorFields(error) });
    }
  }

  /** Commits (the order was paid) or releases (it was not) the order's redemptions. Idempotent. */
  static async settle(env: Env, cartId: string, names: readonly string[], paid: boolean): Promise<void> {
    await Promise.all(
      names.map(async (name) => {
        const stub = promotionStub(env, name);
        if (!paid) return stub.release(redemptionHoldId(cartId));
        const result = await stub.commit(redemptionHoldId(cartId));
        if (!result.ok)
          log("error", "a paid order's promotion redemption could not be committed", {
            cart_id: cartId,
            promotion: name,
            reason: result.reason,
          });
      }),
    );
  }

  #held(): Array<KeptPromotion & { hold_expires_at: number | null }> {
    return this.carts
      .promotions()
      .filter((p) => p.refused === null && p.held_until !== null)
      .map((p) => ({ ...p, hold_expires_at: p.held_until }));
  }

  /** The kept promotions and the applied automatic ones, each as its object defines it now. */
  async #authoritative(kept: readonly KeptPromotion[], applied: readonly Promotion[]): Promise<KeptPromotion[]> {
    const autos = applied.filter((p) => p.code === null && !kept.some((k) => k.name === promotionObjectName(p)));
    const all: KeptPromotion[] = [
      ...kept,
      ...autos.map((promotion) => ({ name: promotionObjectName(promotion), code: null, promotion, refused: null, held_until: null })),
    ];
    const definitions = await Promise.all(all.map((p) => promotionStub(this.env, p.name).lookup()));
    return all.map((p, i) => {
      const definition = definitions[i];
      if (definition === null || definition === undefined) return { ...p, refused: "promotion_not_found" as RedemptionRefusal };
      return definition.version >= p.promotion.version ? { ...p, promotion: definition } : p;
    });
  }

  #changed(stored: StoredCart, cart: CartState, now: number): CheckoutPricing {
    this.carts.write(stored, [], { status: cart.status, expires_at: cart.expires_at, version: cart.version + 1 }, now);
    return { ok: false, reason: "price_changed" };
  }
}
