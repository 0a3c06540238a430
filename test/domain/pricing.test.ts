// The price of a cart (src/domain/pricing.ts), on its own: line discounts, then order discounts,
// then tax, to the unit. The properties over arbitrary carts are in test/domain/pricing-properties.test.ts.
import { describe, expect, it } from "vitest";
import { allocate, type PricingInput, price } from "../../src/domain/pricing";
import { fixed, line, percent, promo, skus, usd } from "../lib/pricing";

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
