// Helpers of the pricing tests (test/domain/pricing*.test.ts): a promotion with defaults, a line, a
// USD pricing input, and promotion values and targets.
import type { PricingInput } from "../../src/domain/pricing";
import type { PricingLine, Promotion, PromotionTarget, PromotionValue } from "../../src/domain/promotion";
import type { TaxQuote } from "../../src/domain/tax";

export const promo = (overrides: Partial<Promotion> = {}): Promotion => ({
  id: "promo-1",
  code: null,
  starts_at: null,
  ends_at: null,
  value: { kind: "percent", basis_points: 1000 },
  target: { kind: "order" },
  allocation: "across",
  conditions: {},
  usage_limit: null,
  combinable: true,
  priority: 0,
  version: 1,
  status: "active",
  ...overrides,
});
export const line = (sku: string, unit_amount: number, quantity = 1, category: string | null = null): PricingLine => {
  return { sku, product_id: `p-${sku}`, category, quantity, unit_amount };
};
export const NO_TAX: TaxQuote = { mode: "none" };
export const usd = (lines: PricingLine[], promotions: Promotion[], tax: TaxQuote = NO_TAX): PricingInput => ({
  currency: "USD",
  lines,
  promotions,
  tax,
});
export const fixed = (amount: number, currency = "USD"): PromotionValue => ({ kind: "fixed", amounts: { [currency]: amount } });
export const percent = (basis_points: number): PromotionValue => ({ kind: "percent", basis_points });
export const skus = (...list: string[]): PromotionTarget => ({ kind: "skus", skus: list });
