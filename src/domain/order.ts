/**
 * The order state machine and order views. Pure.
 *
 *   pending_payment ──paid──▶ paid
 *          │ ├──cancel──▶ cancelled
 *          │ └──window over──▶ expired
 */
import type { Order } from "../contracts";
import { multiply } from "./cart";

export type OrderStatus = "pending_payment" | "paid" | "cancelled" | "expired";

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
}

export interface OrderLineState {
  sku: string;
  product_id: string;
  title: string;
  quantity: number;
  unit_amount: number;
}

const TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  pending_payment: ["paid", "cancelled", "expired"],
  paid: [],
  cancelled: [],
  expired: [],
};

/** Whether the machine allows `from → to`. */
export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
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

/** Sum of line totals in minor units. */
export function orderTotal(lines: readonly OrderLineState[]): number {
  const total = lines.reduce((sum, line) => sum + multiply(line.unit_amount, line.quantity), 0);
  if (!Number.isSafeInteger(total)) throw new RangeError("money overflow");
  return total;
}

/** The order as the API shows it. */
export function orderView(order: OrderState, lines: readonly OrderLineState[]): Order {
  const money = (amount: number) => ({ amount, currency: order.currency });
  return {
    id: order.order_id,
    cart_id: order.cart_id,
    status: order.status,
    email: order.email,
    lines: lines.map((line) => ({
      sku: line.sku,
      product_id: line.product_id,
      title: line.title,
      quantity: line.quantity,
      unit_price: money(line.unit_amount),
      line_total: money(multiply(line.unit_amount, line.quantity)),
    })),
    total: money(order.total_amount),
    payment_expires_at: new Date(order.payment_expires_at).toISOString(),
    created_at: new Date(order.created_at).toISOString(),
    paid_at: order.paid_at === null ? null : new Date(order.paid_at).toISOString(),
  };
}

/** Delay before retry `attempt` (1-based) of an outbox send: 1 s doubling, at most 5 minutes. */
export function outboxBackoffMs(attempt: number): number {
  return Math.min(1000 * 2 ** Math.max(0, attempt - 1), 300_000);
}
