/**
 * The price of a cart: line discounts, then order discounts, then tax, in integer minor units.
 * Pure and deterministic: the same lines, promotions (in any order) and tax quote always give the
 * same cart, to the unit.
 *
 * The rules, in order:
 * - Promotions are applied in `inApplicationOrder` (priority, then id): every line-targeted
 *   one first, then every order-targeted one. Each takes at most what is left of the lines it
 *   touches, so no line ever goes below zero.
 * - Line targets, `each`: per targeted unit, the percentage of the unit price (rounded half-even
 *   per unit) or the fixed amount capped at the unit price, times the quantity.
 * - Line targets, `across`: one amount, the percentage of the targeted lines' subtotal (rounded
 *   half-even) or the fixed amount, split over the targeted lines by largest remainder in
 *   proportion to what is left of each, so the shares sum to it exactly.
 * - Order target: the percentage of the subtotal after line discounts (every order promotion
 *   takes its percentage of that same base; they do not compound) or the fixed amount, split over
 *   all lines the same way.
 * - Tax per line on what is left of it (`taxable`): added (exclusive rate, external quote) or
 *   contained in it (inclusive rate).
 */
import { multiply, sum } from "./money";
import { fixedAmount, inApplicationOrder, normalizeCode, type PricingLine, type Promotion, targetsLine } from "./promotion";
import { BASIS_POINTS, checkAmount, exclusiveTax, inclusiveTax, roundHalfEven, type TaxableLine, type TaxQuote } from "./tax";

export type { PricingLine } from "./promotion";

/** What `price` needs: the cart's lines, the promotions already selected (`selectPromotions`), the tax quote. */
export interface PricingInput {
  currency: string;
  lines: readonly PricingLine[];
  promotions: readonly Promotion[];
  tax: TaxQuote;
}

/** One promotion's part of one line. */
export interface DiscountShare {
  promotion_id: string;
  amount: number;
}

/** A priced line. It is a `TaxableLine`, so a priced cart is what `taxRequest` takes. */
export interface PricedLine extends TaxableLine {
  unit_amount: number;
  /** quantity × unit_amount. */
  line_total: number;
  /** Every promotion's share of this line, summed. */
  discount: number;
  /** line_total − discount: what the line is charged before exclusive tax. */
  taxable: number;
  tax: number;
  /** taxable + tax when tax is added, taxable when it is contained. */
  total: number;
  /** The non-zero shares behind `discount`, in application order (refunds need them). */
  shares: DiscountShare[];
}

/** One promotion as applied: the sum of its shares (0 when it found nothing left to take). */
export interface AppliedDiscount {
  promotion_id: string;
  code: string | null;
  amount: number;
}

export interface PricedCart {
  currency: string;
  lines: PricedLine[];
  discounts: AppliedDiscount[];
  subtotal: number;
  discount_total: number;
  tax_total: number;
  /** Whether tax_total is contained in the total (inclusive rate) rather than added to it. */
  tax_inclusive: boolean;
  /** subtotal − discount_total, plus tax_total unless it is inclusive. */
  total: number;
}

/**
 * Splits `amount` over `weights` in proportion, by largest remainder: each share is the floor of
 * its exact share, and the units left over go to the largest remainders (ties: the earlier
 * weight). The shares sum exactly to `amount` and each differs from its exact share by less than
 * one unit. Zero weights with a non-zero amount have no proportion: RangeError.
 */
export function allocate(amount: number, weights: readonly number[]): number[] {
  const total = weights.reduce((acc, weight) => acc + BigInt(checkAmount(weight, "weight")), 0n);
  const whole = BigInt(checkAmount(amount));
  if (total === 0n) {
    if (whole !== 0n) throw new RangeError("cannot allocate an amount over zero weights");
    return weights.map(() => 0);
  }
  const floors = weights.map((weight) => (whole * BigInt(weight)) / total);
  const remainders = weights.map((weight) => (whole * BigInt(weight)) % total);
  let left = whole - floors.reduce((acc, floor) => acc + floor, 0n);
  const order = weights
    .map((_, i) => i)
    .sort((a, b) => (remainders[a]! > remainders[b]! ? -1 : remainders[a]! < remainders[b]! ? 1 : a - b));
  for (const i of order) {
    if (left === 0n) break;
    floors[i]! += 1n;
    left -= 1n;
  }
  return floors.map(Number);
}

/** `basis_points` of `amount`, rounded half-even. */
function percentOf(amount: number, basisPoints: number): number {
  if (!Number.isInteger(basisPoints) || basisPoints < 0 || basisPoints > BASIS_POINTS)
    throw new RangeError("percent must be 0..10000 basis points");
  return Number(roundHalfEven(BigInt(amount) * BigInt(basisPoints), BigInt(BASIS_POINTS)));
}

/** The promotion's fixed amount in `currency` (0 when it names none), checked. */
function fixedIn(promotion: Promotion, currency: string): number {
  return checkAmount(fixedAmount(promotion.value, currency) ?? 0, "fixed amount");
}

/** One amount, capped at what is left of `indices`, split over them by what is left of each. */
function splitOver(amount: number, indices: readonly number[], remaining: readonly number[], shares: number[]): void {
  const weights = indices.map((i) => remaining[i]!);
  allocate(Math.min(amount, sum(weights)), weights).forEach((share, k) => {
    shares[indices[k]!] = share;
  });
}

/** A line-targeted promotion's share of each line. */
function lineShares(promotion: Promotion, input: PricingInput, totals: readonly number[], remaining: readonly number[]): number[] {
  const shares = input.lines.map(() => 0);
  const targeted = input.lines.flatMap((line, i) => (targetsLine(promotion.target, line) ? [i] : []));
  const value = promotion.value;
  if (promotion.allocation === "each") {
    for (const i of targeted) {
      const line = input.lines[i]!;
      const perUnit =
        value.kind === "percent"
          ? percentOf(line.unit_amount, value.basis_points)
          : Math.min(fixedIn(promotion, input.currency), line.unit_amount);
      shares[i] = Math.min(multiply(perUnit, line.quantity), remaining[i]!);
    }
    return shares;
  }
  const base = sum(targeted.map((i) => totals[i]!));
  const amount = value.kind === "percent" ? percentOf(base, value.basis_points) : fixedIn(promotion, input.currency);
  splitOver(amount, targeted, remaining, shares);
  return shares;
}

/** An order-targeted promotion's share of each line; percentages are of `base` (the subtotal after line discounts). */
function orderShares(promotion: Promotion, input: PricingInput, base: number, remaining: readonly number[]): number[] {
  const shares = input.lines.map(() => 0);
  const value = promotion.value;
  const amount = value.kind === "percent" ? percentOf(base, value.basis_points) : fixedIn(promotion, input.currency);
  splitOver(
    amount,
    input.lines.map((_, i) => i),
    remaining,
    shares,
  );
  return shares;
}

/**
 * Each line's tax on its taxable amount. An external quote must name every line exactly once and
 * nothing else: one that does not was made for other lines, and using it would charge the wrong
 * tax, so that is an Error (a wiring fault), not a price.
 */
function lineTaxes(quote: TaxQuote, lines: readonly PricingLine[], taxable: readonly number[]): number[] {
  switch (quote.mode) {
    case "none":
      return taxable.map(() => 0);
    case "rates":
      return taxable.map((amount) =>
        quote.inclusive ? inclusiveTax(amount, quote.basis_points) : exclusiveTax(amount, quote.basis_points),
      );
    case "external": {
      const bySku = new Map<string, number>();
      for (const line of quote.lines) {
        if (bySku.has(line.sku)) throw new Error(`external tax quote names ${line.sku} twice`);
        bySku.set(line.sku, checkAmount(line.tax, "tax"));
      }
      if (bySku.size !== lines.length) throw new Error("external tax quote does not match the cart's lines");
      return lines.map((line) => {
        const tax = bySku.get(line.sku);
        if (tax === undefined) throw new Error(`external tax quote has no line for ${line.sku}`);
        return tax;
      });
    }
  }
}

/**
 * Prices the cart (see the rules at the top of this file). Promotions are applied as given, in
 * `inApplicationOrder`, without checking applicability again (`selectPromotions` did); an id
 * listed twice counts once (its newest version). Lines must have distinct SKUs (one line per SKU, as carts
 * keep them). Throws RangeError on an amount, quantity or rate that is not a non-negative safe
 * integer, or on a total beyond safe integers.
 */
export function price(input: PricingInput): PricedCart {
  const totals = input.lines.map((line) => multiply(checkAmount(line.unit_amount, "unit amount"), checkAmount(line.quantity, "quantity")));
  const subtotal = sum(totals);
  const remaining = [...totals];
  const shares: DiscountShare[][] = input.lines.map(() => []);
  const discounts: AppliedDiscount[] = [];
  const ordered = inApplicationOrder(input.promotions);
  const apply = (promotion: Promotion, lineShare: readonly number[]) => {
    lineShare.forEach((amount, i) => {
      if (amount === 0) return;
      remaining[i]! -= amount;
      shares[i]!.push({ promotion_id: promotion.id, amount });
    });
    discounts.push({
      promotion_id: promotion.id,
      code: promotion.code === null ? null : normalizeCode(promotion.code),
      amount: sum(lineShare),
    });
  };
  for (const promotion of ordered.filter((p) => p.target.kind !== "order"))
    apply(promotion, lineShares(promotion, input, totals, remaining));
  const afterLines = sum(remaining);
  for (const promotion of ordered.filter((p) => p.target.kind === "order"))
    apply(promotion, orderShares(promotion, input, afterLines, remaining));

  const taxes = lineTaxes(input.tax, input.lines, remaining);
  const inclusive = input.tax.mode === "rates" && input.tax.inclusive;
  const lines = input.lines.map((line, i): PricedLine => {
    const taxable = remaining[i]!;
    const tax = taxes[i]!;
    return {
      sku: line.sku,
      product_id: line.product_id,
      category: line.category,
      quantity: line.quantity,
      unit_amount: line.unit_amount,
      line_total: totals[i]!,
      discount: totals[i]! - taxable,
      taxable,
      tax,
      total: inclusive ? taxable : sum([taxable, tax]),
      shares: shares[i]!,
    };
  });
  const discountTotal = sum(discounts.map((discount) => discount.amount));
  const taxTotal = sum(taxes);
  return {
    currency: input.currency,
    lines,
    discounts,
    subtotal,
    discount_total: discountTotal,
    tax_total: taxTotal,
    tax_inclusive: inclusive,
    total: inclusive ? subtotal - discountTotal : sum([subtotal - discountTotal, taxTotal]),
  };
}
