/**
 * Promotions: what one is, when it applies to a cart, and which of several apply together. Pure:
 * `now` is a parameter, money in integer minor units, rates in basis points. How much each takes
 * off is `price` (domain/pricing.ts).
 */

/** What a promotion takes off: a share of the price (1..10000 bp) or an amount per currency. */
export type PromotionValue = { kind: "percent"; basis_points: number } | { kind: "fixed"; amounts: Record<string, number> };

/** What a promotion discounts: the whole order, or the lines of some SKUs, products or categories. */
export type PromotionTarget =
  | { kind: "order" }
  | { kind: "skus"; skus: string[] }
  | { kind: "products"; product_ids: string[] }
  | { kind: "categories"; categories: string[] };

/** A promotion's definition, one version of it. Times are ms since epoch. */
export interface Promotion {
  id: string;
  /** The code a shopper enters (compared upper-cased), or null: applied automatically. */
  code: string | null;
  /** The window it is active in, [starts_at, ends_at); null: open on that side. */
  starts_at: number | null;
  ends_at: number | null;
  value: PromotionValue;
  target: PromotionTarget;
  /**
   * For line targets: `each` takes the value off every targeted unit; `across` takes it once off
   * the targeted lines together. An order target always takes it once off the order.
   */
  allocation: "across" | "each";
  /** Checked on the targeted lines (line targets) or on the cart (order target), before discounts. */
  conditions: { min_subtotal?: Record<string, number>; min_quantity?: number };
  /** How many orders may redeem it (null: no limit). Counting redemptions is storage's job, not this file's. */
  usage_limit: number | null;
  combinable: boolean;
  /** Higher goes first. */
  priority: number;
  version: number;
  status: "active" | "archived";
}

/** A cart line as pricing and promotions see it (unit price in minor units of the cart's currency). */
export interface PricingLine {
  sku: string;
  product_id: string;
  category: string | null;
  quantity: number;
  unit_amount: number;
}

/** What a promotion is matched against. */
export interface PromotionCart {
  currency: string;
  lines: readonly PricingLine[];
}

/** Why a promotion does not apply by itself. */
export type ApplicabilityReason = "not_active" | "does_not_match_cart";

export type Applicability = { ok: true } | { ok: false; reason: ApplicabilityReason };

/** Why a candidate was left out of a selection. */
export type SelectionReason = ApplicabilityReason | "not_combinable";

export interface Selection {
  /** The promotions that apply together, in the order they are applied (priority, then id). */
  applied: Promotion[];
  /** Every other candidate, in the same order, and why. */
  rejected: Array<{ promotion_id: string; reason: SelectionReason }>;
}

/** A code spelled one way: trimmed, upper case. Codes are case-insensitive. */
export function normalizeCode(code: string): string {
  return code.trim().toUpperCase();
}

/** Whether `entered` is this promotion's code (never true for an automatic promotion). */
export function codeMatches(promotion: Promotion, entered: string): boolean {
  return promotion.code !== null && normalizeCode(promotion.code) === normalizeCode(entered);
}

/** Whether the promotion is live at `now`: not archived, and `now` in [starts_at, ends_at). */
export function isActive(promotion: Promotion, now: number): boolean {
  if (promotion.status !== "active") return false;
  if (promotion.starts_at !== null && now < promotion.starts_at) return false;
  return promotion.ends_at === null || now < promotion.ends_at;
}

/** Whether the promotion's target covers this line (an order target covers every line). */
export function targetsLine(target: PromotionTarget, line: PricingLine): boolean {
  switch (target.kind) {
    case "order":
      return true;
    case "skus":
      return target.skus.includes(line.sku);
    case "products":
      return target.product_ids.includes(line.product_id);
    case "categories":
      return line.category !== null && target.categories.includes(line.category);
  }
}

/** The fixed amount in `currency`, null when the promotion names none (or is a percentage). */
export function fixedAmount(value: PromotionValue, currency: string): number | null {
  if (value.kind !== "fixed" || !Object.hasOwn(value.amounts, currency)) return null;
  return value.amounts[currency] ?? null;
}

/**
 * Whether the promotion applies to the cart at `now`. Not active: archived or outside its window.
 * Does not match: no targeted line, a fixed value or minimum subtotal with no amount in the
 * cart's currency, or a minimum (subtotal, quantity) the targeted lines — the whole cart for an
 * order target — do not reach, before any discount.
 */
export function applicability(promotion: Promotion, cart: PromotionCart, now: number): Applicability {
  if (!isActive(promotion, now)) return { ok: false, reason: "not_active" };
  const lines = cart.lines.filter((line) => targetsLine(promotion.target, line));
  const noMatch = { ok: false, reason: "does_not_match_cart" } as const;
  if (lines.length === 0) return noMatch;
  if (promotion.value.kind === "fixed" && fixedAmount(promotion.value, cart.currency) === null) return noMatch;
  const { min_subtotal, min_quantity } = promotion.conditions;
  if (min_subtotal !== undefined) {
    const minimum = Object.hasOwn(min_subtotal, cart.currency) ? min_subtotal[cart.currency] : undefined;
    if (minimum === undefined) return noMatch;
    // Exact for any size: a cart past safe integers cannot be priced anyway, but it is not "below" a minimum.
    const subtotal = lines.reduce((total, line) => total + BigInt(line.unit_amount) * BigInt(line.quantity), 0n);
    if (subtotal < BigInt(minimum)) return noMatch;
  }
  if (min_quantity !== undefined && lines.reduce((total, line) => total + line.quantity, 0) < min_quantity) return noMatch;
  return { ok: true };
}

/** The order promotions are applied in: higher priority first, then id. */
export function comparePromotions(a: Promotion, b: Promotion): number {
  if (a.priority !== b.priority) return a.priority > b.priority ? -1 : 1;
  return a.id === b.id ? 0 : a.id < b.id ? -1 : 1;
}

/**
 * The promotions in application order (`comparePromotions`), each id once: its newest version.
 * The order they were given in does not matter.
 */
export function inApplicationOrder(promotions: readonly Promotion[]): Promotion[] {
  const newest = new Map<string, Promotion>();
  for (const promotion of promotions) {
    const held = newest.get(promotion.id);
    if (held === undefined || promotion.version > held.version) newest.set(promotion.id, promotion);
  }
  return [...newest.values()].sort(comparePromotions);
}

/**
 * Which candidates apply together. Candidates are the automatic promotions plus those whose code
 * the shopper entered (`codeMatches`); a candidate listed twice (same id) counts once, its newest
 * version. The rule, one walk in `comparePromotions` order: a candidate that applies by itself is
 * taken when nothing is taken yet, or when it and everything taken are combinable; otherwise it is
 * `not_combinable`. So a non-combinable promotion applies alone, and only when no promotion of
 * higher priority applies; combinable ones stack until the first non-combinable taken.
 */
export function selectPromotions(candidates: readonly Promotion[], cart: PromotionCart, now: number): Selection {
  const applied: Promotion[] = [];
  const rejected: Selection["rejected"] = [];
  for (const promotion of inApplicationOrder(candidates)) {
    const verdict = applicability(promotion, cart, now);
    if (!verdict.ok) rejected.push({ promotion_id: promotion.id, reason: verdict.reason });
    else if (applied.length === 0 || (promotion.combinable && applied.every((taken) => taken.combinable))) applied.push(promotion);
    else rejected.push({ promotion_id: promotion.id, reason: "not_combinable" });
  }
  return { applied, rejected };
}

/**
 * The name of the object that serialises a promotion's redemptions: a code promotion by its code
 * (so applying a code needs no lookup first: codes never change once set), an automatic one by id.
 */
export function promotionObjectName(promotion: { id: string; code: string | null }): string {
  return promotion.code === null ? `auto:${promotion.id}` : `code:${normalizeCode(promotion.code)}`;
}

/** Why a promotion's object refused a redemption hold. */
export type RedemptionRefusal = "promotion_not_found" | "not_active" | "usage_limit_reached";

/**
 * Whether a cart may take a redemption hold on `promotion` at `now`: the promotion's own rule, as
 * the object that counts its redemptions decides it. A hold the cart already has, or a redemption
 * already committed, is always kept (re-asking is idempotent); a new one needs the promotion
 * active and `held + committed` below its usage limit.
 */
export function decideRedemption(
  promotion: Promotion | null,
  state: { held: number; committed: number; hasHold: boolean; isCommitted: boolean },
  now: number,
): { ok: true } | { ok: false; reason: RedemptionRefusal } {
  if (promotion === null) return { ok: false, reason: "promotion_not_found" };
  if (state.isCommitted) return { ok: true };
  if (!isActive(promotion, now)) return { ok: false, reason: "not_active" };
  if (state.hasHold) return { ok: true };
  if (promotion.usage_limit !== null && state.held + state.committed >= promotion.usage_limit)
    return { ok: false, reason: "usage_limit_reached" };
  return { ok: true };
}
