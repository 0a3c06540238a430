/**
 * Gathers what a cart's price depends on beyond its lines: the automatic promotions (edge
 * settings), the promotions the cart keeps, and the tax quote (TAX_MODE), then prices it with the
 * pure rules (domain/cart-pricing.ts, pricing.ts, tax.ts). The tax service is asked only when the
 * caller allows it (reading the cart, checkout); its answer is cached per cart version.
 */
import { settings } from "../config";
import type { ShipTo, TaxStatus } from "../contracts";
import type { CartState } from "../domain/cart";
import { type CartPricing, choosePromotions, type PricedCartLine, priceLines } from "../domain/cart-pricing";
import type { Promotion } from "../domain/promotion";
import { type TaxQuote, taxCacheKey, taxRequest } from "../domain/tax";
import { automaticPromotions, taxRates } from "../services/pricing-settings";
import { quoteExternalTax } from "../services/tax-service";
import type { CartStore, KeptPromotion } from "./cart-store";

/** A priced cart: what the API shows, and the promotions that applied (checkout needs them). */
export interface Priced extends CartPricing {
  applied: Promotion[];
}

/** Whether pricing may call the tax service (`fetch`) or only use a cached answer (`cached`). */
export type TaxPolicy = "cached" | "fetch";

export class CartPricer {
  constructor(
    private readonly env: Env,
    private readonly carts: CartStore,
  ) {}

  /** Prices the cart as stored now (or with `kept` in place of the promotions it keeps). */
  async price(cart: CartState, now: number, policy: TaxPolicy, kept: readonly KeptPromotion[] = this.carts.promotions()): Promise<Priced> {
    const lines: PricedCartLine[] = this.carts.lines();
    const choice = choosePromotions(cart.currency, lines, kept, await automaticPromotions(this.env), now);
    const shipTo = this.carts.shipTo();
    const { quote, status } = await this.#tax(cart, lines, choice.applied, shipTo, policy);
    return {
      priced: priceLines(cart.currency, lines, choice.applied, quote),
      tax_status: status,
      codes: choice.codes,
      ship_to: shipTo,
      applied: choice.applied,
    };
  }

  async #tax(
    cart: CartState,
    lines: readonly PricedCartLine[],
    applied: readonly Promotion[],
    shipTo: ShipTo | null,
    policy: TaxPolicy,
  ): Promise<{ quote: TaxQuote; status: TaxStatus }> {
    const mode = settings(this.env).taxMode;
    if (mode === "none") return { quote: { mode: "none" }, status: "not_applicable" };
    if (shipTo === null) return { quote: { mode: "none" }, status: "pending" };
    if (mode === "rates") {
      const rate = (await taxRates(this.env))[shipTo.country];
      // A country with no rate is not taxed (the table lists where tax is due).
      return { quote: { mode: "rates", basis_points: rate?.basis_points ?? 0, inclusive: rate?.inclusive ?? false }, status: "calculated" };
    }
    if (lines.length === 0) return { quote: { mode: "external", lines: [] }, status: "calculated" };
    const untaxed = priceLines(cart.currency, lines, applied, { mode: "none" });
    const key = await taxCacheKey(cart.version, shipTo, untaxed);
    const cached = this.carts.taxQuote(key);
    if (cached !== null) return { quote: { mode: "external", lines: cached }, status: "calculated" };
    if (policy === "cached") return { quote: { mode: "none" }, status: "pending" };
    const answer = await quoteExternalTax(this.env, taxRequest(untaxed, shipTo));
    if (!answer.ok) return { quote: { mode: "none" }, status: "unavailable" };
    this.carts.saveTaxQuote(key, answer.lines);
    return { quote: { mode: "external", lines: answer.lines }, status: "calculated" };
  }
}
