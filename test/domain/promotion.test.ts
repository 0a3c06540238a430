// The promotion rules (src/domain/promotion.ts), on their own: when one applies, which apply
// together, codes.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  applicability,
  codeMatches,
  inApplicationOrder,
  normalizeCode,
  type PricingLine,
  type PromotionCart,
  type PromotionTarget,
  selectPromotions,
} from "../../src/domain/promotion";
import { promo } from "../lib/pricing";

const line = (overrides: Partial<PricingLine> = {}): PricingLine => ({
  sku: "SKU-1",
  product_id: "p1",
  category: "shoes",
  quantity: 1,
  unit_amount: 1000,
  ...overrides,
});

const cart: PromotionCart = {
  currency: "USD",
  lines: [
    line({ sku: "SKU-1", product_id: "p1", category: "shoes", quantity: 2, unit_amount: 2500 }),
    line({ sku: "SKU-2", product_id: "p2", category: "socks", quantity: 3, unit_amount: 500 }),
    line({ sku: "SKU-3", product_id: "p3", category: null, quantity: 1, unit_amount: 1000 }),
  ],
};
const ok = { ok: true };
const inactive = { ok: false, reason: "not_active" };
const noMatch = { ok: false, reason: "does_not_match_cart" };

describe("applicability: the window", () => {
  const windowed = promo({ starts_at: 1000, ends_at: 2000 });

  it("is active from exactly starts_at up to, not including, ends_at", () => {
    expect(applicability(windowed, cart, 999)).toEqual(inactive);
    expect(applicability(windowed, cart, 1000)).toEqual(ok);
    expect(applicability(windowed, cart, 1999)).toEqual(ok);
    expect(applicability(windowed, cart, 2000)).toEqual(inactive);
  });

  it("is open on a side that is null, and never active when archived", () => {
    expect(applicability(promo({ starts_at: null, ends_at: 2000 }), cart, -1e15)).toEqual(ok);
    expect(applicability(promo({ starts_at: 1000, ends_at: null }), cart, 1e15)).toEqual(ok);
    expect(applicability(promo({ status: "archived" }), cart, 1500)).toEqual(inactive);
  });

  it("answers not_active before looking at the cart", () => {
    expect(applicability(promo({ status: "archived", target: { kind: "skus", skus: ["NONE"] } }), cart, 0)).toEqual(inactive);
  });
});

describe("applicability: the target", () => {
  it("matches SKUs, products and categories, and an order target matches any non-empty cart", () => {
    expect(applicability(promo({ target: { kind: "skus", skus: ["SKU-2"] } }), cart, 0)).toEqual(ok);
    expect(applicability(promo({ target: { kind: "skus", skus: ["SKU-9"] } }), cart, 0)).toEqual(noMatch);
    expect(applicability(promo({ target: { kind: "products", product_ids: ["p3"] } }), cart, 0)).toEqual(ok);
    expect(applicability(promo({ target: { kind: "products", product_ids: ["SKU-3"] } }), cart, 0)).toEqual(noMatch);
    expect(applicability(promo({ target: { kind: "categories", categories: ["socks"] } }), cart, 0)).toEqual(ok);
    expect(applicability(promo({ target: { kind: "categories", categories: ["hats"] } }), cart, 0)).toEqual(noMatch);
    expect(applicability(promo(), cart, 0)).toEqual(ok);
    expect(applicability(promo(), { currency: "USD", lines: [] }, 0)).toEqual(noMatch);
  });

  it("never matches a line without a category by category", () => {
    const uncategorised = { currency: "USD", lines: [line({ category: null })] };
    expect(applicability(promo({ target: { kind: "categories", categories: [] } }), uncategorised, 0)).toEqual(noMatch);
  });

  it("needs a fixed value in the cart's currency", () => {
    const fixed = promo({ value: { kind: "fixed", amounts: { EUR: 500 } } });
    expect(applicability(fixed, cart, 0)).toEqual(noMatch);
    expect(applicability(fixed, { ...cart, currency: "EUR" }, 0)).toEqual(ok);
    expect(applicability(promo({ value: { kind: "fixed", amounts: {} } }), cart, 0)).toEqual(noMatch);
  });

  it("does not take an inherited property for a currency", () => {
    const fixed = promo({ value: { kind: "fixed", amounts: { USD: 100 } } });
    expect(applicability(fixed, { ...cart, currency: "constructor" }, 0)).toEqual(noMatch);
  });
});

describe("applicability: the conditions", () => {
  // Cart: SKU-1 2 × 2500 = 5000, SKU-2 3 × 500 = 1500, SKU-3 1 × 1000 = 1000; 7500 in all, 6 units.
  it("checks the minimum subtotal on the targeted lines, at exactly the minimum included", () => {
    const shoes: PromotionTarget = { kind: "categories", categories: ["shoes"] };
    expect(applicability(promo({ target: shoes, conditions: { min_subtotal: { USD: 5000 } } }), cart, 0)).toEqual(ok);
    expect(applicability(promo({ target: shoes, conditions: { min_subtotal: { USD: 5001 } } }), cart, 0)).toEqual(noMatch);
  });

  it("checks the minimum subtotal on the whole cart for an order target", () => {
    expect(applicability(promo({ conditions: { min_subtotal: { USD: 7500 } } }), cart, 0)).toEqual(ok);
    expect(applicability(promo({ conditions: { min_subtotal: { USD: 7501 } } }), cart, 0)).toEqual(noMatch);
  });

  it("does not match when the minimum subtotal names no amount in the cart's currency", () => {
    expect(applicability(promo({ conditions: { min_subtotal: { EUR: 1 } } }), cart, 0)).toEqual(noMatch);
  });

  it("checks the minimum quantity on the targeted lines, or the cart", () => {
    const socks: PromotionTarget = { kind: "skus", skus: ["SKU-2"] };
    expect(applicability(promo({ target: socks, conditions: { min_quantity: 3 } }), cart, 0)).toEqual(ok);
    expect(applicability(promo({ target: socks, conditions: { min_quantity: 4 } }), cart, 0)).toEqual(noMatch);
    expect(applicability(promo({ conditions: { min_quantity: 6 } }), cart, 0)).toEqual(ok);
    expect(applicability(promo({ conditions: { min_quantity: 7 } }), cart, 0)).toEqual(noMatch);
  });

  it("needs every condition", () => {
    const both = { min_subtotal: { USD: 100 }, min_quantity: 7 };
    expect(applicability(promo({ conditions: both }), cart, 0)).toEqual(noMatch);
  });

  it("works the same in a zero-decimal currency (JPY minor units are whole yen)", () => {
    const yen = { currency: "JPY", lines: [line({ unit_amount: 1980, quantity: 2 })] };
    const fixed = promo({ value: { kind: "fixed", amounts: { JPY: 500 } }, conditions: { min_subtotal: { JPY: 3960 } } });
    expect(applicability(fixed, yen, 0)).toEqual(ok);
    expect(applicability({ ...fixed, conditions: { min_subtotal: { JPY: 3961 } } }, yen, 0)).toEqual(noMatch);
  });
});

describe("selectPromotions", () => {
  it("applies combinable promotions together, in priority then id order", () => {
    const selection = selectPromotions(
      [promo({ id: "b", priority: 1 }), promo({ id: "c", priority: 5 }), promo({ id: "a", priority: 1 })],
      cart,
      0,
    );
    expect(selection.applied.map((p) => p.id)).toEqual(["c", "a", "b"]);
    expect(selection.rejected).toEqual([]);
  });

  it("applies a non-combinable promotion alone when it comes first", () => {
    const selection = selectPromotions(
      [promo({ id: "stack", priority: 1 }), promo({ id: "solo", priority: 9, combinable: false })],
      cart,
      0,
    );
    expect(selection.applied.map((p) => p.id)).toEqual(["solo"]);
    expect(selection.rejected).toEqual([{ promotion_id: "stack", reason: "not_combinable" }]);
  });

  it("leaves out a non-combinable promotion when one of higher priority applies", () => {
    const candidates = [
      promo({ id: "solo", priority: 1, combinable: false }),
      promo({ id: "x", priority: 3 }),
      promo({ id: "y", priority: 2 }),
    ];
    const selection = selectPromotions(candidates, cart, 0);
    expect(selection.applied.map((p) => p.id)).toEqual(["x", "y"]);
    expect(selection.rejected).toEqual([{ promotion_id: "solo", reason: "not_combinable" }]);
  });

  it("takes only one of two non-combinable promotions", () => {
    const selection = selectPromotions([promo({ id: "b", combinable: false }), promo({ id: "a", combinable: false })], cart, 0);
    expect(selection.applied.map((p) => p.id)).toEqual(["a"]);
    expect(selection.rejected).toEqual([{ promotion_id: "b", reason: "not_combinable" }]);
  });

  it("lets a promotion that does not apply block nothing, and says why it was left out", () => {
    const candidates = [
      promo({ id: "expired", priority: 9, combinable: false, ends_at: 100 }),
      promo({ id: "elsewhere", priority: 8, combinable: false, target: { kind: "skus", skus: ["SKU-9"] } }),
      promo({ id: "solo", priority: 7, combinable: false }),
      promo({ id: "stack", priority: 6 }),
    ];
    const selection = selectPromotions(candidates, cart, 100);
    expect(selection.applied.map((p) => p.id)).toEqual(["solo"]);
    expect(selection.rejected).toEqual([
      { promotion_id: "expired", reason: "not_active" },
      { promotion_id: "elsewhere", reason: "does_not_match_cart" },
      { promotion_id: "stack", reason: "not_combinable" },
    ]);
  });

  it("counts a promotion listed twice once, its newest version", () => {
    const selection = selectPromotions([promo({ id: "a", version: 1, priority: 9 }), promo({ id: "a", version: 2, priority: 1 })], cart, 0);
    expect(selection.applied).toEqual([promo({ id: "a", version: 2, priority: 1 })]);
    expect(inApplicationOrder([promo({ id: "a", version: 3 }), promo({ id: "a", version: 2 })]).map((p) => p.version)).toEqual([3]);
  });

  it("does not depend on the candidates' order", () => {
    const pool = [
      promo({ id: "a", priority: 2 }),
      promo({ id: "b", priority: 2, combinable: false }),
      promo({ id: "c", priority: 1 }),
      promo({ id: "d", priority: 3, target: { kind: "skus", skus: ["SKU-2"] } }),
      promo({ id: "e", priority: 0, combinable: false }),
    ];
    let runs = 0;
    fc.assert(
      fc.property(fc.shuffledSubarray(pool, { minLength: pool.length, maxLength: pool.length }), (shuffled) => {
        runs += 1;
        expect(selectPromotions(shuffled, cart, 0)).toEqual(selectPromotions(pool, cart, 0));
      }),
      { numRuns: 1000 },
    );
    console.log(`property "selection ignores candidate order": ${runs} runs`);
    expect(runs).toBeGreaterThanOrEqual(1000);
  });
});

describe("codes", () => {
  it("are case-insensitive, compared upper-cased and trimmed", () => {
    expect(normalizeCode("  summer10 ")).toBe("SUMMER10");
    expect(codeMatches(promo({ code: "Summer10" }), "sUMMER10")).toBe(true);
    expect(codeMatches(promo({ code: "SUMMER10" }), "SUMMER11")).toBe(false);
  });

  it("never match an automatic promotion", () => {
    expect(codeMatches(promo({ code: null }), "")).toBe(false);
  });
});
