/**
 * How a cart is priced: which promotions apply to it (the automatic ones and the codes entered on
 * it), and the cart as the API shows it with discounts, tax and totals. Pure; the cart object
 * gathers the inputs (promotion definitions, the tax quote) and carries the answer.
 */
import type { Cart, ShipTo, TaxStatus } from "../contracts";
import type { CartState } from "./cart";
import { lineView, type StoredLine } from "./lines";
import { type PricedCart, price } from "./pricing";
import {
  normalizeCode,
  type PricingLine,
  type Promotion,
  promotionObjectName,
  type RedemptionRefusal,
  type SelectionReason,
  selectPromotions,
} from "./promotion";
import type { TaxQuote } from "./tax";

/**
 * A promotion the cart knows of itself: a code entered on it, or an automatic promotion whose
 * definition the cart read from the promotion's object (at checkout). `refused` keeps what the
 * object answered when it would not give the cart a redemption: such a promotion does not apply.
 */
export interface CartPromotion {
  name: string;
  code: string | null;
  promotion: Promotion;
  refused: RedemptionRefusal | null;
}

/** A cart line with what promotions match on. */
export type PricedCartLine = StoredLine & { category: string | null };

export type CodeReason = "not_active" | "does_not_match_cart" | "usage_limit_reached" | "not_combinable";

/** Why a code could not be entered on a cart. */
export type CodeRefusal =
  | { ok: false; reason: "promotion_not_found"; code: string }
  | { ok: false; reason: "promotion_not_applicable"; code: string; why: CodeReason };

export interface PromotionChoice {
  /** The promotions that apply, in application order. */
  applied: Promotion[];
  /** Each entered code, whether it applies and why not. */
  codes: Cart["promotion_codes"];
}

export function pricingLines(lines: readonly PricedCartLine[]): PricingLine[] {
  return lines.map((line) => ({
    sku: line.sku,
    product_id: line.product_id,
    category: line.category,
    quantity: line.quantity,
    unit_amount: line.unit_amount,
  }));
}

/**
 * Chooses the promotions for a cart: the automatic ones published to the edge and those the cart
 * keeps (a definition the cart read from a promotion's object is newer or as new, and wins by
 * version), less any a promotion's object refused, selected by `selectPromotions`.
 */
export function choosePromotions(
  currency: string,
  lines: readonly PricedCartLine[],
  kept: readonly CartPromotion[],
  automatic: readonly Promotion[],
  now: number,
): PromotionChoice {
  const refused = new Map(kept.filter((p) => p.refused !== null).map((p) => [p.name, p.refused!]));
  const candidates = [...automatic.filter((p) => p.code === null), ...kept.map((p) => p.promotion)].filter(
    (p) => !refused.has(promotionObjectName(p)),
  );
  const selection = selectPromotions(candidates, { currency, lines: pricingLines(lines) }, now);
  const rejected = new Map<string, SelectionReason>(selection.rejected.map((r) => [r.promotion_id, r.reason]));
  const codes = kept
    .filter((p) => p.code !== null)
    .map((p) => {
      const applied = selection.applied.some((a) => a.id === p.promotion.id);
      const reason: CodeReason | null = applied
        ? null
        : ((p.refused === "promotion_not_found" ? "not_active" : p.refused) ?? rejected.get(p.promotion.id) ?? "not_active");
      return { code: normalizeCode(p.code!), applied, reason };
    });
  return { applied: selection.applied, codes };
}

/** Prices the lines with the chosen promotions and the tax quote. */
export function priceLines(currency: string, lines: readonly PricedCartLine[], applied: readonly Promotion[], tax: TaxQuote): PricedCart {
  return price({ currency, lines: pricingLines(lines), promotions: applied, tax });
}

/** The pricing of a cart with no lines and no destination (one only opened). */
export function emptyPricing(currency: string, taxMode: "none" | "rates" | "external"): CartPricing {
  const priced: PricedCart = {
    currency,
    lines: [],
    discounts: [],
    subtotal: 0,
    discount_total: 0,
    tax_total: 0,
    tax_inclusive: false,
    total: 0,
  };
  return { priced, tax_status: taxMode === "none" ? "not_applicable" : "pending", codes: [], ship_to: null };
}

/** A cart's pricing as shown: the priced lines, how tax was found, the codes, the destination. */
export interface CartPricing {
  priced: PricedCart;
  tax_status: TaxStatus;
  codes: Cart["promotion_codes"];
  ship_to: ShipTo | null;
}

/** The cart as the API shows it: lines with their discount and tax, the discounts, tax and totals. */
export function cartView(cart: CartState, lines: readonly StoredLine[], pricing: CartPricing): Cart {
  const money = (amount: number) => ({ amount, currency: cart.currency });
  const bySku = new Map(pricing.priced.lines.map((line) => [line.sku, line]));
  return {
    id: cart.cart_id,
    status: cart.status,
    currency: cart.currency,
    region: cart.region,
    version: cart.version,
    items: lines.map((line) =>
      lineView(line, cart.currency, { discount: bySku.get(line.sku)?.discount ?? 0, tax: bySku.get(line.sku)?.tax ?? 0 }),
    ),
    subtotal: money(pricing.priced.subtotal),
    discounts: pricing.priced.discounts
      .filter((d) => d.amount > 0)
      .map((d) => ({ promotion_id: d.promotion_id, code: d.code, amount: money(d.amount) })),
    promotion_codes: pricing.codes,
    discount_total: money(pricing.priced.discount_total),
    tax_total: money(pricing.priced.tax_total),
    tax_inclusive: pricing.priced.tax_inclusive,
    tax_status: pricing.tax_status,
    total: money(pricing.priced.total),
    ship_to: pricing.ship_to,
    expires_at: new Date(cart.expires_at).toISOString(),
    created_at: new Date(cart.created_at).toISOString(),
    order_id: cart.order_id,
    merged_into: cart.merged_into ?? null,
  };
}

/** Whether two pricings take off the same: the same promotions for the same amounts (tax aside). */
export function samePriceBeforeTax(a: PricedCart, b: PricedCart): boolean {
  if (a.subtotal !== b.subtotal || a.discount_total !== b.discount_total) return false;
  const shown = a.discounts.filter((d) => d.amount > 0);
  const now = b.discounts.filter((d) => d.amount > 0);
  return shown.length === now.length && shown.every((d, i) => d.promotion_id === now[i]!.promotion_id && d.amount === now[i]!.amount);
}
