// The price of a cart (src/domain/pricing.ts), on its own: line discounts, then order discounts,
// then tax, to the unit.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocate, type PricingInput, price } from "../../src/domain/pricing";
import type { PricingLine, Promotion, PromotionTarget, PromotionValue } from "../../src/domain/promotion";
import { roundHalfEven, type TaxQuote } from "../../src/domain/tax";

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

const promo = (overrides: Partial<Promotion> = {}): Promotion => ({
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
const line = (sku: string, unit_amount: number, quantity = 1, category: string | null = null): PricingLine => {
  return { sku, product_id: `p-${sku}`, category, quantity, unit_amount };
};
const NO_TAX: TaxQuote = { mode: "none" };
const usd = (lines: PricingLine[], promotions: Promotion[], tax: TaxQuote = NO_TAX): PricingInput => ({
  currency: "USD",
  lines,
  promotions,
  tax,
});
const fixed = (amount: number, currency = "USD"): PromotionValue => ({ kind: "fixed", amounts: { [currency]: amount } });
const percent = (basis_points: number): PromotionValue => ({ kind: "percent", basis_points });
const skus = (...list: string[]): PromotionTarget => ({ kind: "skus", skus: list });
const column = (input: PricingInput, field: "discount" | "taxable" | "tax" | "total") => price(input).lines.map((l) => l[field]);

describe("line discounts", () => {
  it("each, percent: rounded half-even per unit, times the quantity", () => {
    // 10 % of 25 = 2.5 → 2 per unit; of 35 = 3.5 → 4 per unit.
    const input = usd([line("A", 25, 4), line("B", 35, 2)], [promo({ allocation: "each", target: skus("A", "B") })]);
    expect(column(input, "discount")).toEqual([8, 8]);
  });

  it("each, fixed: per unit, capped at the unit price", () => {
    const input = usd([line("A", 200, 3), line("B", 1000)], [promo({ allocation: "each", value: fixed(300), target: skus("A", "B") })]);
    expect(column(input, "discount")).toEqual([600, 300]);
    expect(column(input, "taxable")).toEqual([0, 700]);
  });

  it("across: one amount split by largest remainder, summing exactly", () => {
    const thirds = usd([line("A", 100), line("B", 100), line("C", 100)], [promo({ value: fixed(100), target: skus("A", "B", "C") })]);
    expect(column(thirds, "discount")).toEqual([34, 33, 33]);
    // 50 over 300 : 100 = 37.5 : 12.5; the tie goes to the earlier line.
    expect(column(usd([line("A", 300), line("B", 100)], [promo({ value: fixed(50), target: skus("A", "B") })]), "discount")).toEqual([
      38, 12,
    ]);
  });

  it("across, percent: of the targeted lines' subtotal only", () => {
    const input = usd(
      [line("A", 999, 1, "shoes"), line("B", 1, 1, "shoes"), line("C", 5000)],
      [promo({ value: percent(1500), target: { kind: "categories", categories: ["shoes"] } })],
    );
    expect(price(input).discounts).toEqual([{ promotion_id: "promo-1", code: null, amount: 150 }]);
    expect(column(input, "discount")).toEqual([150, 0, 0]);
  });

  it("across, fixed: capped at the targeted lines' subtotal", () => {
    const input = usd(
      [line("A", 300, 2), line("B", 1000)],
      [promo({ value: fixed(10_000), target: { kind: "products", product_ids: ["p-A"] } })],
    );
    expect(column(input, "discount")).toEqual([600, 0]);
  });

  it("stacked line promotions each take at most what is left (higher priority first)", () => {
    const first = promo({ id: "first", priority: 2, allocation: "each", value: percent(6000), target: skus("A") });
    const second = promo({ id: "second", priority: 1, allocation: "each", value: percent(6000), target: skus("A") });
    const priced = price(usd([line("A", 1000)], [second, first]));
    expect(priced.discounts.map((d) => `${d.promotion_id}:${d.amount}`)).toEqual(["first:600", "second:400"]);
    expect(priced.lines[0]).toMatchObject({ discount: 1000, taxable: 0, total: 0 });
  });
});

describe("order discounts", () => {
  const lines = [line("A", 1000, 2), line("B", 500)];
  const lineFirst = promo({ id: "line", allocation: "each", value: fixed(100), target: skus("A") });

  it("take their percentage of the subtotal after line discounts, split by what is left of each line", () => {
    const priced = price(usd(lines, [promo({ id: "order", priority: 99 }), lineFirst]));
    // Line: 200 off A. Order: 10 % of 1800 + 500 = 230, split 1800 : 500 → 180 : 50.
    expect(priced.discounts.map((d) => `${d.promotion_id}:${d.amount}`)).toEqual(["line:200", "order:230"]);
    expect(priced.lines.map((l) => `${l.discount}/${l.taxable}`)).toEqual(["380/1620", "50/450"]);
    expect(priced.lines[0]!.shares.map((s) => `${s.promotion_id}:${s.amount}`)).toEqual(["line:200", "order:180"]);
    expect(priced).toMatchObject({ subtotal: 2500, discount_total: 430, tax_total: 0, total: 2070 });
  });

  it("all take their percentage of the same base (they do not compound)", () => {
    const priced = price(usd(lines, [promo({ id: "o1" }), promo({ id: "o2" })]));
    expect(priced.discounts.map((d) => d.amount)).toEqual([250, 250]);
  });

  it("never take more than is left: a fixed amount beyond the subtotal makes it zero, not negative", () => {
    const priced = price(usd(lines, [lineFirst, promo({ id: "huge", value: fixed(1_000_000) })]));
    expect(priced.discounts.map((d) => d.amount)).toEqual([200, 2300]);
    expect(priced.lines.map((l) => l.total)).toEqual([0, 0]);
    expect(priced).toMatchObject({ subtotal: 2500, discount_total: 2500, total: 0 });
  });

  it("record codes upper-cased, and a promotion that found nothing to take as 0", () => {
    const priced = price(usd(lines, [promo({ code: "summer", target: skus("Z") })]));
    expect(priced.discounts).toEqual([{ promotion_id: "promo-1", code: "SUMMER", amount: 0 }]);
    expect(priced.total).toBe(2500);
  });
});

describe("tax", () => {
  const lines = [line("A", 1000, 2), line("B", 500)];
  const promotions = [promo({ id: "line", allocation: "each", value: fixed(100), target: skus("A") }), promo({ id: "order" })];
  const rate = (basis_points: number, inclusive: boolean) => price(usd(lines, promotions, { mode: "rates", basis_points, inclusive }));
  /** An external quote from "A=150 B=40". */
  const external = (text: string) => {
    const quoted = text.split(" ").map((entry) => ({ sku: entry.split("=")[0]!, tax: Number(entry.split("=")[1]) }));
    return price(usd(lines, promotions, { mode: "external", lines: quoted }));
  };
  // Taxable after discounts: A 1620, B 450.

  it("exclusive: added per line on the discounted amount, rounded half-even", () => {
    const priced = rate(825, false);
    expect(priced.lines.map((l) => `${l.tax}/${l.total}`)).toEqual(["134/1754", "37/487"]); // 133.65, 37.125
    expect(priced).toMatchObject({ subtotal: 2500, discount_total: 430, tax_total: 171, tax_inclusive: false, total: 2241 });
  });

  it("inclusive: contained in the discounted amount, which is the total", () => {
    const priced = rate(2000, true);
    expect(priced.lines.map((l) => `${l.tax}/${l.total}`)).toEqual(["270/1620", "75/450"]);
    expect(priced).toMatchObject({ tax_total: 345, tax_inclusive: true, total: 2070 });
  });

  it("external: the service's amount per line, added", () => {
    const priced = external("B=40 A=150");
    expect(priced.lines.map((l) => l.tax)).toEqual([150, 40]);
    expect(priced).toMatchObject({ tax_total: 190, total: 2260 });
  });

  it("external: a quote for other lines is refused, not charged", () => {
    expect(() => external("A=1")).toThrow(/does not match/);
    expect(() => external("A=1 C=1")).toThrow(/no line for B/);
    expect(() => external("A=1 A=1")).toThrow(/twice/);
    expect(() => external("A=-1 B=1")).toThrow(RangeError);
  });
});

describe("zero-decimal currencies", () => {
  it("prices JPY in whole yen like any minor unit", () => {
    const input: PricingInput = {
      currency: "JPY",
      lines: [line("A", 1980, 2), line("B", 330)],
      promotions: [promo({ value: fixed(500, "JPY") }), promo({ id: "pct", allocation: "each", value: percent(1000), target: skus("B") })],
      tax: { mode: "rates", basis_points: 1000, inclusive: true },
    };
    const priced = price(input);
    // B: 10 % of 330 = 33. Order: 500 over 3960 : 297 → 465.11… : 34.88… → 465 : 35.
    expect(priced.lines.map((l) => `${l.discount}/${l.taxable}/${l.tax}`)).toEqual(["465/3495/318", "68/262/24"]);
    expect(priced).toMatchObject({ currency: "JPY", subtotal: 4290, discount_total: 533, tax_total: 342, total: 3757 });
  });

  it("leaves out a fixed amount with no value in the cart's currency", () => {
    expect(price({ ...usd([line("A", 1000)], [promo({ value: fixed(500, "JPY") })]) }).discount_total).toBe(0);
  });
});

describe("refusals", () => {
  it("throws RangeError on amounts beyond safe integers or not amounts at all", () => {
    expect(() => price(usd([line("A", Number.MAX_SAFE_INTEGER, 2)], []))).toThrow(RangeError);
    expect(() => price(usd([line("A", 2 ** 52), line("B", 2 ** 52)], []))).toThrow(RangeError);
    expect(() => price(usd([line("A", -1)], []))).toThrow(RangeError);
    expect(() => price(usd([line("A", 1.5)], []))).toThrow(RangeError);
    expect(() => price(usd([line("A", 100)], [promo({ value: percent(10_001) })]))).toThrow(RangeError);
    expect(() => price(usd([line("A", 100)], [promo({ value: fixed(-5) })]))).toThrow(RangeError);
  });

  it("prices an empty cart as zero", () => {
    expect(price(usd([], [promo()]))).toMatchObject({ lines: [], subtotal: 0, discount_total: 0, total: 0 });
  });
});

describe("allocate (largest remainder)", () => {
  it("splits exactly, leftovers to the largest remainders, ties to the earlier weight", () => {
    expect(allocate(10, [1, 1, 1])).toEqual([4, 3, 3]);
    expect(allocate(7, [0, 5, 0, 2])).toEqual([0, 5, 0, 2]);
    expect(allocate(100, [1, 2, 3])).toEqual([17, 33, 50]);
    expect(allocate(0, [0, 0])).toEqual([0, 0]);
    expect(() => allocate(1, [0, 0])).toThrow(RangeError);
  });
});

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
