/**
 * Orders, payment webhook bodies, and the archival message of a paid order.
 */
import { z } from "zod";
import { Currency, Money, Timestamp } from "./common";
import { CartId, CartLine } from "./carts";

export const OrderStatus = z.enum(["pending_payment", "paid", "cancelled", "expired"]);
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
    total: Money,
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
    status: z.literal("paid"),
    total: Money,
    payment_id: z.string(),
    created_at: Timestamp,
    paid_at: Timestamp,
    payment_expires_at: Timestamp,
    lines: z.array(CartLine).min(1),
  }),
});
export type OrderArchivedV1 = z.infer<typeof OrderArchivedV1>;
