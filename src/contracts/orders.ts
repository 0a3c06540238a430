/**
 * Orders, payment webhook bodies, and the messages a cart object sends about its order: the
 * archival of a paid order and a refund that is due.
 */
import * as z from "zod";
import { AppliedDiscount, CartId, CartLine } from "./carts";
import { Currency, Money, Timestamp } from "./common";

/**
 * `paid_unfulfillable`: the payment arrived, but a hold had lapsed and its stock was sold
 * elsewhere, so the order cannot be delivered in full; a refund is due (never plain `paid` with
 * stock still on sale).
 */
export const OrderStatus = z.enum(["pending_payment", "paid", "paid_unfulfillable", "cancelled", "expired"]);
export type OrderStatus = z.infer<typeof OrderStatus>;

/** Order ids name the cart they were placed from: `ord_` + the cart id. */
export const OrderId = z.string().regex(/^ord_[0-9a-f]{64}$/, "must be an order id");
export const OrderParams = z.strictObject({ order_id: OrderId });

export const CheckoutBody = z.strictObject({
  email: z.email().max(254),
});

/** An order line has the shape of the cart line it was placed from. */
export const OrderLine = CartLine;

export const Order = z
  .object({
    id: OrderId,
    cart_id: CartId,
    status: OrderStatus,
    email: z.string(),
    lines: z.array(OrderLine),
    subtotal: Money,
    discounts: z.array(AppliedDiscount),
    discount_total: Money,
    tax_total: Money,
    tax_inclusive: z.boolean(),
    total: Money.describe("What the payment must be: subtotal − discount_total, plus tax_total unless tax_inclusive"),
    payment_expires_at: Timestamp,
    created_at: Timestamp,
    paid_at: Timestamp.nullable(),
  })
  .meta({ id: "Order" });
export type Order = z.infer<typeof Order>;

/**
 * Payment webhook body (Standard Webhooks). Providers add fields, so unknown keys are ignored
 * here — the one exception to strict bodies.
 */
export const PaymentEvent = z.object({
  type: z.string().min(1).max(100),
  data: z.unknown().optional(),
});
export const PaymentData = z.object({
  order_id: z.string().min(1).max(200),
  amount: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  currency: Currency,
  payment_id: z.string().min(1).max(200),
});

/**
 * The archival message for a paid order, sent from the cart object's outbox to ORDERS_QUEUE.
 * Versioned: consumers accept the versions they know and dead-letter the rest.
 */
export const OrderArchivedV1 = z.object({
  type: z.literal("order.paid"),
  version: z.literal(1),
  order: z.object({
    id: OrderId,
    cart_id: CartId,
    email: z.string(),
    status: z.enum(["paid", "paid_unfulfillable"]),
    total: Money,
    payment_id: z.string(),
    created_at: Timestamp,
    paid_at: Timestamp,
    payment_expires_at: Timestamp,
    // Messages sent before promotions and tax carry none of these: they read as zero.
    lines: z.array(CartLine.partial({ discount: true, tax: true })).min(1),
    discounts: z.array(AppliedDiscount).optional(),
    discount_total: Money.optional(),
    tax_total: Money.optional(),
    tax_inclusive: z.boolean().optional(),
  }),
});
export type OrderArchivedV1 = z.infer<typeof OrderArchivedV1>;

/** Why a payment must be refunded. */
export const RefundReason = z.enum(["order_not_payable", "second_payment", "unfulfillable"]);
export type RefundReason = z.infer<typeof RefundReason>;

/**
 * A payment that must be refunded, sent from the cart object's outbox to ORDERS_QUEUE (the
 * consumer keeps it in Postgres `refunds_due`, once per order and payment).
 */
export const RefundDueV1 = z.object({
  type: z.literal("payment.refund_due"),
  version: z.literal(1),
  refund: z.object({
    order_id: OrderId,
    payment_id: z.string().min(1).max(200),
    amount: Money,
    reason: RefundReason,
    recorded_at: Timestamp,
  }),
});
export type RefundDueV1 = z.infer<typeof RefundDueV1>;

/** A payment event as the order's object recorded it. */
export const OrderPayment = z.object({
  webhook_id: z.string(),
  type: z.string(),
  payment_id: z.string().nullable(),
  amount: Money.nullable(),
  outcome: z.enum(["failed", "paid", "paid_unfulfillable", "already_paid", "second_payment", "order_not_payable"]),
  refund_due: z.boolean(),
  received_at: Timestamp,
});

/** The order as the back office sees it from its object: the order, with every payment event and any refund due. */
export const AdminOrder = Order.extend({
  payment_id: z.string().nullable().describe("The payment that paid the order, or null"),
  payments: z.array(OrderPayment).describe("Every payment event received for the order, oldest first"),
  refunds_due: z.array(z.object({ payment_id: z.string(), amount: Money, reason: RefundReason })).describe("Payments to refund"),
}).meta({ id: "AdminOrder" });
export type AdminOrder = z.infer<typeof AdminOrder>;
