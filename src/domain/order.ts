/**
 * The order: its state machine, its view and its archival message. Pure; `now` is a parameter.
 *
 *   pending_payment ──payment succeeded, stock secured──▶ paid
 *          │ ├──payment succeeded, stock lost──▶ paid_unfulfillable (refund due)
 *          │ ├──cancel──▶ cancelled
 *          │ └──payment window over──▶ expired
 *
 * {@link decideCancel} and {@link decidePayment} take an event and the order as it stands and
 * return what to record of the event, the effects to carry out (in order) and the answer. The
 * cart object only loads the order, asks here, and carries the decision out.
 */
import type { AdminOrder, Order, OrderArchivedV1, OrderStatus, RefundDueV1, RefundReason } from "../contracts";
import { paymentWindowOver } from "./expiry";
import { linesTotal, lineView, type StoredLine } from "./lines";

/** An order row as the cart object stores it (times in ms). */
export interface OrderState {
  order_id: string;
  cart_id: string;
  status: OrderStatus;
  email: string;
  currency: string;
  total_amount: number;
  checkout_key: string;
  created_at: number;
  payment_expires_at: number;
  paid_at: number | null;
  payment_id: string | null;
  /** Discounts and tax as checkout priced them (null: an order placed before promotions and tax). */
  pricing?: OrderPricing | null;
}

/** How checkout priced an order beyond its lines' prices. */
export interface OrderPricing {
  discount_total: number;
  tax_total: number;
  tax_inclusive: boolean;
  discounts: Array<{ promotion_id: string; code: string | null; amount: number }>;
  /** The promotion objects holding a redemption for this order: payment commits them, expiry and cancel release them. */
  redemptions: string[];
}

/** An order line: the cart line it was placed from, with its discount and tax. */
export type OrderLineState = StoredLine & { discount?: number; tax?: number };

const TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  pending_payment: ["paid", "paid_unfulfillable", "cancelled", "expired"],
  paid: [],
  paid_unfulfillable: [],
  cancelled: [],
  expired: [],
};

/** Whether the machine allows `from → to`. */
export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** A payment event as the provider reports it. */
export interface PaymentEvent {
  type: "payment_failed" | "payment_succeeded";
  amount: number;
  currency: string;
  paymentId: string;
}

/**
 * Work a decision asks for, carried out in this order: persist the expiry the clock brought,
 * note the payment being applied (so an interruption resumes it), secure and sell the held units
 * and settle the order as {@link settlement} says (paid, or unfulfillable), close it as
 * cancelled, release its holds.
 */
export type OrderEffect = "expire" | "start_payment" | "sell" | "cancel" | "release_holds";

/** How a payment event is recorded (payment_events), for dedupe and refunds due. */
export interface PaymentRecord {
  outcome: "failed" | "paid" | "paid_unfulfillable" | "already_paid" | "second_payment" | "order_not_payable";
  refundDue: boolean;
}

export type CancelDecision =
  | { ok: true; effects: readonly OrderEffect[] }
  | { ok: false; reason: "invalid_transition"; status: OrderStatus; effects: readonly OrderEffect[] };

export type PaymentDecision =
  | { ok: true; answer: "paid" | "already_paid" | "recorded"; record: PaymentRecord; effects: readonly OrderEffect[] }
  | { ok: false; reason: "amount_mismatch"; expected: { amount: number; currency: string }; record: null; effects: readonly OrderEffect[] }
  | { ok: false; reason: "order_not_payable"; status: OrderStatus; record: PaymentRecord; effects: readonly OrderEffect[] };

/** The order's status at `now`: a pending order whose payment window is over counts as expired. */
function statusAt(order: OrderState, now: number): { status: OrderStatus; expire: OrderEffect[] } {
  return paymentWindowOver(order, now) ? { status: "expired", expire: ["expire"] } : { status: order.status, expire: [] };
}

/** Decides a shopper's cancel: only a pending order with no payment started can be cancelled. */
export function decideCancel(order: OrderState, now: number): CancelDecision {
  const { status, expire } = statusAt(order, now);
  if (!canTransition(status, "cancelled") || order.payment_id !== null)
    return { ok: false, reason: "invalid_transition", status, effects: expire };
  return { ok: true, effects: ["cancel", "release_holds"] };
}

/**
 * Decides a payment event. One whose amount or currency differs from the order's changes
 * nothing. A failed payment is recorded and the order stays pending. A success on a pending
 * order pays it; on a paid order it is a repeat (same payment) or a second payment (refund due);
 * on a cancelled or expired order, or while another payment is being applied, it is recorded for
 * refund and refused.
 */
export function decidePayment(order: OrderState, event: PaymentEvent, now: number): PaymentDecision {
  if (event.amount !== order.total_amount || event.currency !== order.currency) {
    return {
      ok: false,
      reason: "amount_mismatch",
      expected: { amount: order.total_amount, currency: order.currency },
      record: null,
      effects: [],
    };
  }
  if (event.type === "payment_failed")
    return { ok: true, answer: "recorded", record: { outcome: "failed", refundDue: false }, effects: [] };
  const { status, expire } = statusAt(order, now);
  if (status === "paid" || status === "paid_unfulfillable") {
    if (order.payment_id === event.paymentId)
      return { ok: true, answer: "already_paid", record: { outcome: "already_paid", refundDue: false }, effects: [] };
    return { ok: false, reason: "order_not_payable", status, record: { outcome: "second_payment", refundDue: true }, effects: [] };
  }
  const refuse = (effects: OrderEffect[]): PaymentDecision => ({
    ok: false,
    reason: "order_not_payable",
    status,
    record: { outcome: "order_not_payable", refundDue: true },
    effects,
  });
  if (status !== "pending_payment") return refuse([...expire, "release_holds"]);
  if (order.payment_id !== null && order.payment_id !== event.paymentId) return refuse([]);
  return { ok: true, answer: "paid", record: { outcome: "paid", refundDue: false }, effects: ["start_payment", "sell"] };
}

/** What became of one line's stock when the payment tried to secure and sell it. */
export type LineSettlement = "sold" | "lost";

/**
 * The state a paid order ends in: `paid` when every line's units were sold to it, otherwise
 * `paid_unfulfillable` (a hold lapsed and its stock was taken; the payment is due back).
 */
export function settlement(lines: readonly LineSettlement[]): "paid" | "paid_unfulfillable" {
  return lines.every((line) => line === "sold") ? "paid" : "paid_unfulfillable";
}

/** The order id for a cart: each cart places at most one order. */
export function orderIdFor(cartId: string): string {
  return `ord_${cartId}`;
}

/** The cart id inside an order id, or null when it is not one. */
export function cartIdOf(orderId: string): string | null {
  const match = /^ord_([0-9a-f]{64})$/.exec(orderId);
  return match ? match[1]! : null;
}

/** The order's total: the sum of its lines. */
export function orderTotal(lines: readonly StoredLine[]): number {
  return linesTotal(lines);
}

/** The order as the API shows it. */
export function orderView(order: OrderState, lines: readonly OrderLineState[]): Order {
  const money = (amount: number) => ({ amount, currency: order.currency });
  const pricing = order.pricing ?? null;
  return {
    id: order.order_id,
    cart_id: order.cart_id,
    status: order.status,
    email: order.email,
    lines: lines.map((line) => lineView(line, order.currency, { discount: line.discount ?? 0, tax: line.tax ?? 0 })),
    subtotal: money(linesTotal(lines)),
    discounts: (pricing?.discounts ?? []).map((d) => ({ promotion_id: d.promotion_id, code: d.code, amount: money(d.amount) })),
    discount_total: money(pricing?.discount_total ?? 0),
    tax_total: money(pricing?.tax_total ?? 0),
    tax_inclusive: pricing?.tax_inclusive ?? false,
    total: money(order.total_amount),
    payment_expires_at: new Date(order.payment_expires_at).toISOString(),
    created_at: new Date(order.created_at).toISOString(),
    paid_at: order.paid_at === null ? null : new Date(order.paid_at).toISOString(),
  };
}

/** The versioned archival message of a paid order (the cart object's outbox → ORDERS_QUEUE). */
export function archivalMessage(order: OrderState, lines: readonly OrderLineState[]): OrderArchivedV1 {
  const view = orderView(order, lines);
  if ((order.status !== "paid" && order.status !== "paid_unfulfillable") || order.paid_at === null || order.payment_id === null) {
    throw new Error(`order ${order.order_id} is not paid`);
  }
  return {
    type: "order.paid",
    version: 1,
    order: {
      id: view.id,
      cart_id: view.cart_id,
      email: view.email,
      status: order.status,
      total: view.total,
      payment_id: order.payment_id,
      created_at: view.created_at,
      paid_at: view.paid_at!,
      payment_expires_at: view.payment_expires_at,
      lines: view.lines,
      discounts: view.discounts,
      discount_total: view.discount_total,
      tax_total: view.tax_total,
      tax_inclusive: view.tax_inclusive,
    },
  };
}

/** The versioned message of a payment that must be refunded (the cart object's outbox → ORDERS_QUEUE). */
export function refundDueMessage(
  orderId: string,
  payment: { paymentId: string; amount: number; currency: string },
  reason: RefundReason,
  now: number,
): RefundDueV1 {
  return {
    type: "payment.refund_due",
    version: 1,
    refund: {
      order_id: orderId,
      payment_id: payment.paymentId,
      amount: { amount: payment.amount, currency: payment.currency },
      reason,
      recorded_at: new Date(now).toISOString(),
    },
  };
}

/** A payment event as the order's object recorded it. */
export interface RecordedPayment extends PaymentRecord {
  webhookId: string;
  type: string;
  paymentId: string | null;
  amount: number | null;
  currency: string | null;
  receivedAt?: number;
}

/**
 * The order as the back office sees it: the order, every payment event, the payment that paid it,
 * and the refunds due (late or second payments, and the whole payment of an unfulfillable order).
 */
export function adminOrderView(order: OrderState, lines: readonly OrderLineState[], events: readonly RecordedPayment[]): AdminOrder {
  const refunds: AdminOrder["refunds_due"] = events
    .filter((e) => e.refundDue && e.paymentId !== null && e.amount !== null && e.currency !== null)
    .map((e) => ({
      payment_id: e.paymentId!,
      amount: { amount: e.amount!, currency: e.currency! },
      reason: e.outcome === "second_payment" ? ("second_payment" as const) : ("order_not_payable" as const),
    }));
  if (order.status === "paid_unfulfillable" && order.payment_id !== null) {
    refunds.push({
      payment_id: order.payment_id,
      amount: { amount: order.total_amount, currency: order.currency },
      reason: "unfulfillable",
    });
  }
  return {
    ...orderView(order, lines),
    payment_id: order.payment_id,
    payments: events.map((event) => ({
      webhook_id: event.webhookId,
      type: event.type,
      payment_id: event.paymentId,
      amount: event.amount === null || event.currency === null ? null : { amount: event.amount, currency: event.currency },
      outcome: event.outcome,
      refund_due: event.refundDue,
      received_at: new Date(event.receivedAt ?? 0).toISOString(),
    })),
    refunds_due: refunds,
  };
}
