// The order state machine and the other pure rules (src/domain/order.ts, idempotency.ts,
// platform/backoff.ts), on their own.
import { describe, expect, it } from "vitest";
import { canonicalJson, isStorable, type KeyRecord, planBegin } from "../../src/domain/idempotency";
import {
  archivalMessage,
  canTransition,
  cartIdOf,
  decideCancel,
  decidePayment,
  type OrderState,
  orderIdFor,
  settlement,
} from "../../src/domain/order";
import { backoffMs } from "../../src/platform/backoff";

const order = (overrides: Partial<OrderState> = {}): OrderState => ({
  order_id: `ord_${"a".repeat(64)}`,
  cart_id: "a".repeat(64),
  status: "pending_payment",
  email: "a@b.example",
  currency: "USD",
  total_amount: 3998,
  checkout_key: "k1",
  created_at: 0,
  payment_expires_at: 1_800_000,
  paid_at: null,
  payment_id: null,
  ...overrides,
});
const pay = (
  overrides: Partial<{ type: "payment_succeeded" | "payment_failed"; amount: number; currency: string; paymentId: string }> = {},
) => ({
  type: "payment_succeeded" as const,
  amount: 3998,
  currency: "USD",
  paymentId: "pi_1",
  ...overrides,
});

describe("order transitions", () => {
  it("allows pending_payment to become paid, cancelled or expired, and nothing else", () => {
    const statuses = ["pending_payment", "paid", "paid_unfulfillable", "cancelled", "expired"] as const;
    const allowed = statuses.flatMap((from) => statuses.filter((to) => canTransition(from, to)).map((to) => `${from}->${to}`));
    expect(allowed).toEqual([
      "pending_payment->paid",
      "pending_payment->paid_unfulfillable",
      "pending_payment->cancelled",
      "pending_payment->expired",
    ]);
  });
});

describe("decideCancel", () => {
  it("cancels a pending order and releases its holds", () => {
    expect(decideCancel(order(), 1000)).toEqual({ ok: true, effects: ["cancel", "release_holds"] });
  });

  it("refuses paid, cancelled and expired orders, and a pending one whose payment is being applied", () => {
    for (const status of ["paid", "cancelled", "expired"] as const)
      expect(decideCancel(order({ status }), 1000)).toEqual({ ok: false, reason: "invalid_transition", status, effects: [] });
    expect(decideCancel(order({ payment_id: "pi_1" }), 1000)).toEqual({
      ok: false,
      reason: "invalid_transition",
      status: "pending_payment",
      effects: [],
    });
  });

  it("finds an order expired exactly at its payment deadline, and persists that", () => {
    expect(decideCancel(order(), 1_799_999).ok).toBe(true);
    expect(decideCancel(order(), 1_800_000)).toEqual({ ok: false, reason: "invalid_transition", status: "expired", effects: ["expire"] });
  });
});

describe("decidePayment", () => {
  it("pays a pending order: start, then sell the units (which settles it)", () => {
    expect(decidePayment(order(), pay(), 1000)).toEqual({
      ok: true,
      answer: "paid",
      record: { outcome: "paid", refundDue: false },
      effects: ["start_payment", "sell"],
    });
  });

  it("changes nothing when the amount or the currency differs from the order's", () => {
    const refused = { ok: false, reason: "amount_mismatch", expected: { amount: 3998, currency: "USD" }, record: null, effects: [] };
    expect(decidePayment(order(), pay({ amount: 3997 }), 1000)).toEqual(refused);
    expect(decidePayment(order(), pay({ currency: "EUR" }), 1000)).toEqual(refused);
    expect(decidePayment(order(), pay({ type: "payment_failed", amount: 1 }), 1000)).toEqual(refused);
  });

  it("records a failed payment and leaves the order pending", () => {
    expect(decidePayment(order(), pay({ type: "payment_failed" }), 1000)).toEqual({
      ok: true,
      answer: "recorded",
      record: { outcome: "failed", refundDue: false },
      effects: [],
    });
  });

  it("answers a repeat of the paying payment as already paid, and a different one as a second payment to refund", () => {
    const paid = order({ status: "paid", payment_id: "pi_1", paid_at: 500 });
    expect(decidePayment(paid, pay(), 1000)).toEqual({
      ok: true,
      answer: "already_paid",
      record: { outcome: "already_paid", refundDue: false },
      effects: [],
    });
    expect(decidePayment(paid, pay({ paymentId: "pi_2" }), 1000)).toEqual({
      ok: false,
      reason: "order_not_payable",
      status: "paid",
      record: { outcome: "second_payment", refundDue: true },
      effects: [],
    });
  });

  it("refuses cancelled and expired orders, records the refund due and makes sure their holds are released", () => {
    for (const status of ["cancelled", "expired"] as const) {
      expect(decidePayment(order({ status }), pay(), 1000)).toEqual({
        ok: false,
        reason: "order_not_payable",
        status,
        record: { outcome: "order_not_payable", refundDue: true },
        effects: ["release_holds"],
      });
    }
  });

  it("refuses a payment arriving exactly at the deadline: the order expires, its holds go back", () => {
    expect(decidePayment(order(), pay(), 1_800_000)).toEqual({
      ok: false,
      reason: "order_not_payable",
      status: "expired",
      record: { outcome: "order_not_payable", refundDue: true },
      effects: ["expire", "release_holds"],
    });
  });

  it("refuses a second payment while the first is being applied, without touching the holds", () => {
    expect(decidePayment(order({ payment_id: "pi_1" }), pay({ paymentId: "pi_2" }), 1000)).toEqual({
      ok: false,
      reason: "order_not_payable",
      status: "pending_payment",
      record: { outcome: "order_not_payable", refundDue: true },
      effects: [],
    });
    expect(decidePayment(order({ payment_id: "pi_1" }), pay(), 5_000_000).ok).toBe(true);
  });
});

describe("settlement", () => {
  it("is paid only when every line's units were sold, otherwise unfulfillable", () => {
    expect(settlement(["sold", "sold"])).toBe("paid");
    expect(settlement(["sold", "lost"])).toBe("paid_unfulfillable");
    expect(settlement(["lost"])).toBe("paid_unfulfillable");
  });

  it("treats a paid_unfulfillable order like a paid one: a repeat is answered, another payment is due back", () => {
    const settled = order({ status: "paid_unfulfillable", payment_id: "pi_1", paid_at: 500 });
    expect(decidePayment(settled, pay(), 1000)).toMatchObject({ ok: true, answer: "already_paid" });
    expect(decidePayment(settled, pay({ paymentId: "pi_2" }), 1000)).toMatchObject({
      ok: false,
      reason: "order_not_payable",
      record: { outcome: "second_payment", refundDue: true },
    });
    expect(decideCancel(settled, 1000)).toMatchObject({ ok: false, reason: "invalid_transition" });
  });
});

describe("order ids and the archival message", () => {
  it("names the order after its cart and back", () => {
    const cartId = "0123456789abcdef".repeat(4);
    expect(cartIdOf(orderIdFor(cartId))).toBe(cartId);
    expect(cartIdOf("ord_xyz")).toBeNull();
  });

  it("builds the message of a paid order only", () => {
    const lines = [{ sku: "A", product_id: "p", title: "A", quantity: 2, unit_amount: 1999 }];
    expect(() => archivalMessage(order(), lines)).toThrow();
    const message = archivalMessage(order({ status: "paid", paid_at: 60_000, payment_id: "pi_1" }), lines);
    expect(message.order).toMatchObject({
      status: "paid",
      payment_id: "pi_1",
      paid_at: "1970-01-01T00:01:00.000Z",
      total: { amount: 3998, currency: "USD" },
    });
    expect(message.order.lines[0]!.line_total).toEqual({ amount: 3998, currency: "USD" });
  });
});

describe("backoff", () => {
  it("doubles from the base with each attempt and stops at the cap", () => {
    expect([0, 1, 2, 3, 4].map((attempt) => backoffMs(attempt, 1000, 5000))).toEqual([1000, 1000, 2000, 4000, 5000]);
    expect(backoffMs(10_000, 2000, 300_000)).toBe(300_000);
  });
});

describe("Idempotency-Key rules", () => {
  const record = (overrides: Partial<KeyRecord> = {}): KeyRecord => ({
    fingerprint: "fp",
    attempt: "a1",
    state: "in_flight",
    lease_until: 1000,
    expires_at: null,
    ...overrides,
  });

  it("starts on a free key, resumes its own attempt, waits for a live lease and takes over a dead one", () => {
    expect(planBegin(null, "fp", "a1", 0)).toBe("start");
    expect(planBegin(record(), "fp", "a1", 0)).toBe("resume");
    expect(planBegin(record(), "fp", "a2", 999)).toBe("in_flight");
    expect(planBegin(record(), "fp", "a2", 1000)).toBe("take_over");
  });

  it("replays the same request, refuses another, and forgets an answer past retention", () => {
    const done = record({ state: "completed", expires_at: 5000 });
    expect(planBegin(done, "fp", "a2", 4999)).toBe("replay");
    expect(planBegin(done, "other", "a2", 4999)).toBe("mismatch");
    expect(planBegin(done, "other", "a2", 5000)).toBe("start");
  });

  it("stores every answer except 400, 401, 413, 415, 429 and 5xx", () => {
    expect([200, 201, 204, 404, 409, 412, 422].every(isStorable)).toBe(true);
    expect([400, 401, 413, 415, 429, 500, 503].some(isStorable)).toBe(false);
  });

  it("compares bodies as canonical JSON", () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
    expect(canonicalJson(undefined)).toBe("");
  });
});
