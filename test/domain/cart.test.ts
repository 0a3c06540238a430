// The cart's rules (src/domain/cart.ts, expiry.ts, checkout.ts, money.ts), on their own.
import { describe, expect, it } from "vitest";
import type { SkuPricing } from "../../src/contracts";
import { etagOf, holdIdFor, ifMatchSatisfied, planLineChange } from "../../src/domain/cart";
import { cartView, priceLines } from "../../src/domain/cart-pricing";
import { reprice } from "../../src/domain/checkout";
import { cartExpiresAt, cartLapsed, isDue, ORDER_HOLD_GRACE_SECONDS, orderHoldSeconds, paymentWindowOver } from "../../src/domain/expiry";
import type { StoredLine } from "../../src/domain/lines";
import { multiply, sum } from "../../src/domain/money";

const line = (sku: string, quantity: number, unit_amount = 500): StoredLine => ({
  sku,
  product_id: `p-${sku}`,
  title: sku,
  quantity,
  unit_amount,
});
const lines = [line("A", 2), line("B", 1)];

describe("planLineChange", () => {
  it("changes one hold on an open cart and moves the other lines' holds to the new expiry", () => {
    expect(planLineChange({ status: "open", version: 3 }, lines, "A", 5, null)).toEqual({
      kind: "reserve",
      targets: [{ sku: "A", quantity: 5 }],
      extend: [line("B", 1)],
    });
    expect(planLineChange({ status: "open", version: 3 }, lines, "C", 1, null)).toEqual({
      kind: "reserve",
      targets: [{ sku: "C", quantity: 1 }],
      extend: lines,
    });
  });

  it("re-reserves every line of an expired cart, all or nothing, with the changed one last", () => {
    expect(planLineChange({ status: "expired", version: 3 }, lines, "A", 0, null)).toEqual({
      kind: "reserve",
      targets: [
        { sku: "B", quantity: 1 },
        { sku: "A", quantity: 0 },
      ],
      extend: [],
    });
  });

  it("changes nothing when an open cart removes a line it does not have (zero quantity)", () => {
    expect(planLineChange({ status: "open", version: 3 }, lines, "Z", 0, null)).toEqual({ kind: "unchanged" });
  });

  it("refuses a checked-out cart, and a stale If-Match", () => {
    expect(planLineChange({ status: "checked_out", version: 3 }, lines, "A", 1, null)).toEqual({
      kind: "refused",
      reason: "cart_not_open",
      status: "checked_out",
    });
    expect(planLineChange({ status: "open", version: 3 }, lines, "A", 1, '"2"')).toEqual({
      kind: "refused",
      reason: "version_mismatch",
      version: 3,
    });
    expect(planLineChange({ status: "open", version: 3 }, lines, "A", 1, '"3"').kind).toBe("reserve");
  });
});

describe("If-Match and ETag", () => {
  it("matches strong, weak, listed and * tags of the version; a malformed header never matches", () => {
    expect(etagOf(4)).toBe('"4"');
    for (const header of ['"4"', 'W/"4"', '"1", "4"', "*"]) expect(ifMatchSatisfied(header, 4)).toBe(true);
    for (const header of ['"5"', "4", '"4', ""]) expect(ifMatchSatisfied(header, 4)).toBe(false);
    expect(ifMatchSatisfied(null, 4)).toBe(true);
  });
});

describe("cart view and money", () => {
  it("computes line totals and the subtotal in minor units", () => {
    const priced = priceLines(
      "EUR",
      lines.map((line) => ({ ...line, category: null })),
      [],
      { mode: "none" },
    );
    const pricing = { priced, tax_status: "not_applicable" as const, codes: [], ship_to: null };
    const view = cartView(
      {
        cart_id: "c".repeat(64),
        status: "open",
        currency: "EUR",
        region: null,
        version: 2,
        created_at: 0,
        expires_at: 900_000,
        order_id: null,
      },
      lines,
      pricing,
    );
    expect(view.items.map((item) => item.line_total)).toEqual([
      { amount: 1000, currency: "EUR" },
      { amount: 500, currency: "EUR" },
    ]);
    expect(view.subtotal).toEqual({ amount: 1500, currency: "EUR" });
    expect(view.expires_at).toBe("1970-01-01T00:15:00.000Z");
  });

  it("refuses totals beyond safe integers rather than rounding them", () => {
    expect(multiply(Number.MAX_SAFE_INTEGER, 1)).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => multiply(Number.MAX_SAFE_INTEGER, 2)).toThrow(RangeError);
    expect(() => sum([Number.MAX_SAFE_INTEGER, 1])).toThrow(RangeError);
  });

  it("names a cart's hold on a SKU after both", () => {
    expect(holdIdFor("c1", "TEE-M")).toBe("cart:c1:TEE-M");
  });
});

describe("expiry", () => {
  it("counts a deadline as passed exactly at its instant", () => {
    expect(isDue(1000, 999)).toBe(false);
    expect(isDue(1000, 1000)).toBe(true);
    expect(cartLapsed({ status: "open", expires_at: 1000 }, 999)).toBe(false);
    expect(cartLapsed({ status: "open", expires_at: 1000 }, 1000)).toBe(true);
    expect(cartLapsed({ status: "checked_out", expires_at: 1000 }, 5000)).toBe(false);
    expect(cartExpiresAt(1000, 900)).toBe(901_000);
  });

  it("ends an unpaid order's window at its deadline, but never under a payment being applied", () => {
    const order = { status: "pending_payment", payment_id: null, payment_expires_at: 1000 };
    expect(paymentWindowOver(order, 999)).toBe(false);
    expect(paymentWindowOver(order, 1000)).toBe(true);
    expect(paymentWindowOver({ ...order, payment_id: "pi_1" }, 5000)).toBe(false);
    expect(paymentWindowOver({ ...order, status: "paid" }, 5000)).toBe(false);
  });

  it("holds an order's stock for the payment window plus the grace", () => {
    expect(orderHoldSeconds(1800)).toBe(1800 + ORDER_HOLD_GRACE_SECONDS);
  });
});

describe("reprice", () => {
  const entry = (sku: string, amount: number, overrides: Partial<SkuPricing> = {}): SkuPricing => ({
    sku,
    product_id: `p-${sku}`,
    title: `${sku} now`,
    price: { amount, currency: "USD" },
    status: "active",
    max_line_quantity: null,
    version: 2,
    ...overrides,
  });

  it("lets the order charge the cart's prices when none moved", () => {
    expect(reprice(lines, [entry("A", 500), entry("B", 500)], "USD")).toEqual({ kind: "unchanged" });
  });

  it("reports price moves in either direction with the new prices and titles", () => {
    expect(reprice(lines, [entry("A", 499), entry("B", 501)], "USD")).toEqual({
      kind: "changed",
      lines: [
        { ...line("A", 2, 499), title: "A now" },
        { ...line("B", 1, 501), title: "B now" },
      ],
    });
  });

  it("stops at a line that can no longer be bought: archived, in no product, or in another currency", () => {
    expect(reprice(lines, [entry("A", 500, { status: "archived" }), entry("B", 500)], "USD")).toEqual({ kind: "unavailable", sku: "A" });
    expect(reprice(lines, [entry("A", 500), null], "USD")).toEqual({ kind: "unavailable", sku: "B" });
    expect(reprice(lines, [entry("A", 500), entry("B", 500, { price: { amount: 500, currency: "EUR" } })], "USD")).toEqual({
      kind: "unavailable",
      sku: "B",
    });
  });
});
