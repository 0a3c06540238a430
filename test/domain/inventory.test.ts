// The SKU's stock rules (src/domain/inventory.ts), on their own: no object, no storage.
import { describe, expect, it } from "vitest";
import type { SkuPricing } from "../../src/contracts";
import { decideHold, decideMove, type HoldState, ledgerAgrees, levels, type MoveState, planOnHand } from "../../src/domain/inventory";

const item = (overrides: Partial<SkuPricing> = {}): SkuPricing => ({
  sku: "SKU-1",
  product_id: "p1",
  title: "One",
  price: { amount: 1000, currency: "USD" },
  status: "active",
  max_line_quantity: null,
  version: 1,
  ...overrides,
});

const state = (overrides: Partial<HoldState> = {}): HoldState => ({
  stock: { on_hand: 10, reserved: 0 },
  item: item(),
  existing: null,
  committed: false,
  ...overrides,
});

describe("decideHold", () => {
  it("takes free units and reports the reserve to move", () => {
    expect(decideHold(state(), "cart-a", 3)).toEqual({ ok: true, quantity: 3, delta: 3 });
    expect(decideHold(state({ existing: { owner_id: "cart-a", quantity: 3 } }), "cart-a", 5)).toEqual({ ok: true, quantity: 5, delta: 2 });
  });

  it("takes exactly what is free, and refuses one more with the most this hold could be", () => {
    const busy = state({ stock: { on_hand: 10, reserved: 7 }, existing: { owner_id: "cart-a", quantity: 2 } });
    expect(decideHold(busy, "cart-a", 5)).toEqual({ ok: true, quantity: 5, delta: 3 });
    expect(decideHold(busy, "cart-a", 6)).toEqual({ ok: false, reason: "insufficient_stock", available: 5 });
  });

  it("refuses any unit when nothing is free", () => {
    expect(decideHold(state({ stock: { on_hand: 4, reserved: 4 } }), "cart-a", 1)).toEqual({
      ok: false,
      reason: "insufficient_stock",
      available: 0,
    });
  });

  it("keeps the same quantity as a no-op (delta 0), even with nothing free", () => {
    const full = state({ stock: { on_hand: 3, reserved: 3 }, existing: { owner_id: "cart-a", quantity: 3 } });
    expect(decideHold(full, "cart-a", 3)).toEqual({ ok: true, quantity: 3, delta: 0 });
  });

  it("always lets a hold shrink or be released, even on an archived or unknown SKU", () => {
    const held = { owner_id: "cart-a", quantity: 4 };
    expect(decideHold(state({ existing: held, item: item({ status: "archived" }) }), "cart-a", 1)).toEqual({
      ok: true,
      quantity: 1,
      delta: -3,
    });
    expect(decideHold(state({ existing: held, item: null }), "cart-a", 0)).toEqual({ ok: true, quantity: 0, delta: -4 });
    expect(decideHold(state(), "cart-a", 0)).toEqual({ ok: true, quantity: 0, delta: 0 });
  });

  it("refuses to grow a hold on a SKU in no product or archived", () => {
    expect(decideHold(state({ item: null }), "cart-a", 1)).toEqual({ ok: false, reason: "unknown_sku" });
    expect(decideHold(state({ item: item({ status: "archived" }) }), "cart-a", 1)).toEqual({ ok: false, reason: "unknown_sku" });
  });

  it("refuses a SKU priced in another currency than the cart's", () => {
    expect(decideHold(state({ item: item({ price: { amount: 900, currency: "EUR" } }) }), "cart-a", 1, { currency: "USD" })).toEqual({
      ok: false,
      reason: "currency_mismatch",
      currency: "EUR",
    });
    expect(decideHold(state(), "cart-a", 1, { currency: "USD" }).ok).toBe(true);
  });

  it("applies the line limit: exactly the limit is fine, one more is refused, the SKU's own limit wins", () => {
    expect(decideHold(state(), "cart-a", 10, { maxLineQuantity: 10 }).ok).toBe(true);
    expect(decideHold(state({ stock: { on_hand: 20, reserved: 0 } }), "cart-a", 11, { maxLineQuantity: 10 })).toEqual({
      ok: false,
      reason: "quantity_limit_exceeded",
      limit: 10,
    });
    const own = state({ stock: { on_hand: 20, reserved: 0 }, item: item({ max_line_quantity: 2 }) });
    expect(decideHold(own, "cart-a", 2, { maxLineQuantity: 10 }).ok).toBe(true);
    expect(decideHold(own, "cart-a", 3, { maxLineQuantity: 10 })).toEqual({ ok: false, reason: "quantity_limit_exceeded", limit: 2 });
  });

  it("never touches a sold hold id or another owner's hold", () => {
    expect(decideHold(state({ committed: true }), "cart-a", 1)).toEqual({ ok: false, reason: "hold_committed" });
    expect(decideHold(state({ committed: true }), "cart-a", 0)).toEqual({ ok: false, reason: "hold_committed" });
    expect(decideHold(state({ existing: { owner_id: "cart-b", quantity: 1 } }), "cart-a", 0)).toEqual({
      ok: false,
      reason: "hold_owner_mismatch",
    });
  });
});

describe("decideMove", () => {
  const move = (overrides: Partial<MoveState> = {}): MoveState => ({
    stock: { on_hand: 10, reserved: 10 },
    item: item(),
    from: { owner_id: "guest", quantity: 3 },
    fromCommitted: false,
    to: { owner_id: "shopper", quantity: 2 },
    toCommitted: false,
    ...overrides,
  });

  it("needs no free stock within what both holds have, and returns what they had beyond the result", () => {
    expect(decideMove(move(), "shopper", 5)).toEqual({ ok: true, quantity: 5, taken: 0, released: 0 });
    expect(decideMove(move(), "shopper", 3)).toEqual({ ok: true, quantity: 3, taken: 0, released: 2 });
    expect(decideMove(move(), "shopper", 0)).toEqual({ ok: true, quantity: 0, taken: 0, released: 5 });
    expect(decideMove(move({ item: item({ status: "archived", max_line_quantity: 1 }) }), "shopper", 5, { maxLineQuantity: 1 }).ok).toBe(
      true,
    );
  });

  it("takes only the units beyond both holds from stock, all or nothing, as a hold that grows", () => {
    const lapsed = move({ stock: { on_hand: 10, reserved: 6 }, from: null });
    expect(decideMove(lapsed, "shopper", 6)).toEqual({ ok: true, quantity: 6, taken: 4, released: 0 });
    expect(decideMove(lapsed, "shopper", 7)).toEqual({ ok: false, reason: "insufficient_stock", available: 6 });
    expect(decideMove(lapsed, "shopper", 4, { maxLineQuantity: 3 })).toEqual({ ok: false, reason: "quantity_limit_exceeded", limit: 3 });
    expect(decideMove({ ...lapsed, item: item({ status: "archived" }) }, "shopper", 3)).toEqual({ ok: false, reason: "unknown_sku" });
    expect(decideMove({ ...lapsed, clientHeld: 4 }, "shopper", 3, { clientLimit: 6 })).toEqual({
      ok: false,
      reason: "client_hold_limit",
      limit: 6,
      held: 4,
    });
  });

  it("never moves a sold hold or into another owner's hold", () => {
    expect(decideMove(move({ from: null, fromCommitted: true }), "shopper", 1)).toEqual({ ok: false, reason: "hold_committed" });
    expect(decideMove(move({ to: null, toCommitted: true }), "shopper", 1)).toEqual({ ok: false, reason: "hold_committed" });
    expect(decideMove(move(), "someone-else", 1)).toEqual({ ok: false, reason: "hold_owner_mismatch" });
  });
});

describe("planOnHand", () => {
  it("allows on_hand down to exactly what is reserved and refuses one less", () => {
    expect(planOnHand({ on_hand: 10, reserved: 4 }, 4)).toEqual({ ok: true });
    expect(planOnHand({ on_hand: 10, reserved: 4 }, 3)).toEqual({ ok: false, reason: "below_reserved", reserved: 4, on_hand: 10 });
    expect(planOnHand({ on_hand: 0, reserved: 0 }, -1)).toEqual({ ok: false, reason: "below_reserved", reserved: 0, on_hand: 0 });
  });
});

describe("levels and the ledger", () => {
  it("derives available from on_hand and reserved", () => {
    expect(levels(10, 3)).toEqual({ on_hand: 10, reserved: 3, available: 7 });
  });

  it("agrees only when state, ledger and holds (each on its own) say the same and reserved stays within on_hand", () => {
    const good = {
      on_hand: 8,
      reserved: 3,
      sold: 2,
      ledger_on_hand: 8,
      ledger_reserved: 3,
      ledger_sold: 2,
      holds_reserved: 3,
      hold_mismatches: 0,
    };
    expect(ledgerAgrees(good)).toBe(true);
    expect(ledgerAgrees({ ...good, holds_reserved: 2 })).toBe(false);
    expect(ledgerAgrees({ ...good, ledger_sold: 1 })).toBe(false);
    expect(ledgerAgrees({ ...good, hold_mismatches: 1 })).toBe(false);
    expect(ledgerAgrees({ ...good, reserved: 9, ledger_reserved: 9, holds_reserved: 9 })).toBe(false);
  });
});
