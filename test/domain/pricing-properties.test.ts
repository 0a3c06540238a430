// Properties of the price of a cart (src/domain/pricing.ts) over arbitrary carts, promotions and
// taxes; the worked examples are in test/domain/pricing.test.ts.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocate, type PricingInput, price } from "../../src/domain/pricing";
import type { PricingLine, Promotion, PromotionTarget, PromotionValue } from "../../src/domain/promotion";
import { roundHalfEven, type TaxQuote } from "../../src/domain/tax";
import { fixed, percent, promo, usd } from "../lib/pricing";

/** Runs a property at least `numRuns` times and prints how many it did. */
function assertProperty<T>(name: string, arbitrary: fc.Arbitrary<T>, predicate: (value: T) => void, numRuns = 1000): void {
  let runs = 0;
  fc.assert(
    fc.property(arbitrary, (value) => {
      runs += 1;
      predicate(value);
    }),
    { numRuns },
  );
  console.log(`property "${name}": ${runs} runs`);
  expect(runs).toBeGreaterThanOrEqual(numRuns);
}

// Arbitrary carts and promotions. SKUs, products and categories come from small pools so targets hit.
const SKUS = ["A", "B", "C", "D", "E", "F"];
const lineArb: fc.Arbitrary<PricingLine> = fc.record({
  sku: fc.constantFrom(...SKUS),
  product_id: fc.constantFrom("p1", "p2", "p3"),
  category: fc.constantFrom("c1", "c2", null),
  quantity: fc.integer({ min: 1, max: 20 }),
  unit_amount: fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 1_000_000_000_000 })),
});
const linesArb = fc.uniqueArray(lineArb, { selector: (l) => l.sku, minLength: 1, maxLength: SKUS.length });
const valueArb: fc.Arbitrary<PromotionValue> = fc.oneof(
  fc.integer({ min: 1, max: 10_000 }).map(percent),
  fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 100_000_000_000_000 })).map((amount) => fixed(amount)),
  fc.constant(fixed(100, "EUR")),
);
const lineTargetArb: fc.Arbitrary<PromotionTarget> = fc.oneof(
  fc.subarray(SKUS).map((list): PromotionTarget => ({ kind: "skus", skus: list })),
  fc.subarray(["p1", "p2", "p3"]).map((list): PromotionTarget => ({ kind: "products", product_ids: list })),
  fc.subarray(["c1", "c2"]).map((list): PromotionTarget => ({ kind: "categories", categories: list })),
);
const targetArb = fc.oneof(fc.constant<PromotionTarget>({ kind: "order" }), lineTargetArb);
const promotionsArb = fc
  .array(
    fc.record({
      value: valueArb,
      target: targetArb,
      allocation: fc.constantFrom<Promotion["allocation"]>("across", "each"),
      priority: fc.integer({ min: 0, max: 3 }),
      code: fc.constantFrom(null, "Save", "vip"),
    }),
    { maxLength: 6 },
  )
  .map((specs) => specs.map((spec, i) => promo({ ...spec, id: `promo-${i}` })));
const taxArb: fc.Arbitrary<TaxQuote> = fc.oneof(
  fc.constant<TaxQuote>({ mode: "none" }),
  fc
    .record({ basis_points: fc.integer({ min: 0, max: 10_000 }), inclusive: fc.boolean() })
    .map((rate): TaxQuote => ({ mode: "rates", ...rate })),
);
const inputArb: fc.Arbitrary<PricingInput> = fc.record({
  currency: fc.constant("USD"),
  lines: linesArb,
  promotions: promotionsArb,
  tax: taxArb,
});
/** The test's own reading of a target (an order target hits every line). */
const hits = (target: PromotionTarget, l: { sku: string; product_id: string; category: string | null }) =>
  target.kind === "order" ||
  (target.kind === "skus" && target.skus.includes(l.sku)) ||
  (target.kind === "products" && target.product_ids.includes(l.product_id)) ||
  (target.kind === "categories" && l.category !== null && target.categories.includes(l.category));
const halfEven = (amount: number, bp: number) => Number(roundHalfEven(BigInt(amount) * BigInt(bp), 10_000n));
const valueOn = (value: PromotionValue, base: number) =>
  Math.min(value.kind === "percent" ? halfEven(base, value.basis_points) : (value.amounts.USD ?? 0), base);

describe("properties", () => {
  it("an across promotion's line shares sum exactly to its amount", () => {
    const arb = fc.record({ lines: linesArb, value: valueArb, target: lineTargetArb });
    assertProperty("across shares sum to the amount", arb, ({ lines, value, target }) => {
      const priced = price(usd(lines, [promo({ value, target })]));
      const base = priced.lines.filter((l) => hits(target, l)).reduce((total, l) => total + l.line_total, 0);
      const expected = valueOn(value, base);
      expect(priced.discounts[0]!.amount).toBe(expected);
      expect(priced.lines.reduce((total, l) => total + l.discount, 0)).toBe(expected);
      for (const l of priced.lines) if (!hits(target, l)) expect(l.discount).toBe(0);
    });
  });

  it("an order promotion's shares sum exactly to its amount, on the subtotal after line discounts", () => {
    const arb = fc.record({ lines: linesArb, first: promotionsArb, value: valueArb });
    assertProperty("order shares sum to the amount", arb, ({ lines, first, value }) => {
      const linePromotions = first.filter((p) => p.target.kind !== "order");
      const order = promo({ id: "zz-order", value, priority: -1 });
      const priced = price(usd(lines, [...linePromotions, order]));
      const afterLines =
        priced.subtotal - priced.discounts.filter((d) => d.promotion_id !== order.id).reduce((total, d) => total + d.amount, 0);
      const expected = valueOn(value, afterLines);
      expect(priced.discounts.at(-1)).toEqual({ promotion_id: order.id, code: null, amount: expected });
      const shares = priced.lines.flatMap((l) => l.shares.filter((s) => s.promotion_id === order.id).map((s) => s.amount));
      expect(shares.reduce((total, s) => total + s, 0)).toBe(expected);
    });
  });

  it("no line's total or taxable amount goes negative, and every amount adds up, whatever the promotions", () => {
    assertProperty(
      "no negative lines; totals add up",
      inputArb,
      (input) => {
        const priced = price(input);
        const add = (values: number[]) => values.reduce((total, v) => total + v, 0);
        for (const l of priced.lines) {
          expect(l.taxable >= 0 && l.taxable <= l.line_total && l.tax >= 0 && l.total >= 0).toBe(true);
          expect([l.discount, l.total]).toEqual([add(l.shares.map((s) => s.amount)), priced.tax_inclusive ? l.taxable : l.taxable + l.tax]);
        }
        for (const d of priced.discounts) {
          expect(add(priced.lines.flatMap((l) => l.shares.filter((s) => s.promotion_id === d.promotion_id).map((s) => s.amount)))).toBe(
            d.amount,
          );
        }
        const { discount_total, tax_total, total, subtotal, tax_inclusive } = priced;
        expect([discount_total, discount_total, tax_total, total, total]).toEqual([
          add(priced.discounts.map((d) => d.amount)),
          add(priced.lines.map((l) => l.discount)),
          add(priced.lines.map((l) => l.tax)),
          add(priced.lines.map((l) => l.total)),
          subtotal - discount_total + (tax_inclusive ? 0 : tax_total),
        ]);
      },
      2000,
    );
  });

  it("the same input always gives the same output, whatever the promotions' order, and the input is left alone", () => {
    const arb = inputArb.chain((input) =>
      fc.record({
        input: fc.constant(input),
        shuffled: fc.shuffledSubarray([...input.promotions], { minLength: input.promotions.length, maxLength: input.promotions.length }),
      }),
    );
    assertProperty("deterministic, promotion order irrelevant", arb, ({ input, shuffled }) => {
      const before = structuredClone(input);
      const priced = price(input);
      expect(input).toEqual(before);
      expect(price(structuredClone(input))).toEqual(priced);
      expect(price({ ...input, promotions: shuffled })).toEqual(priced);
    });
  });

  it("largest remainder: shares sum exactly and each is within one unit of its exact share", () => {
    const weight = fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));
    const arb = fc
      .array(weight, { minLength: 1, maxLength: 12 })
      .filter((weights) => weights.some((w) => w > 0))
      .chain((weights) =>
        fc.record({ weights: fc.constant(weights), amount: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.maxSafeNat()) }),
      );
    assertProperty(
      "largest remainder within one unit",
      arb,
      ({ weights, amount }) => {
        const shares = allocate(amount, weights);
        const total = weights.reduce((acc, w) => acc + BigInt(w), 0n);
        expect(shares.reduce((acc, s) => acc + BigInt(s), 0n)).toBe(BigInt(amount));
        shares.forEach((share, i) => {
          const error = BigInt(share) * total - BigInt(amount) * BigInt(weights[i]!);
          expect(error < total && -error < total).toBe(true);
        });
      },
      2000,
    );
  });
});
