/**
 * Checkout, the order's life and its payment, inside the cart's object (the order lives with the
 * cart it was placed from; docs/architecture.md explains the choice). Every step that touches SKU
 * objects is idempotent and written so that a crash at any point is resumed by a retry (the same
 * Idempotency-Key), by the payment provider's redelivery, or by the object's alarm.
 */
import type { Cart, Order, OrderArchivedV1 } from "../contracts";
import { cartView, holdIdFor } from "../domain/cart";
import type { InventoryRefusal } from "../domain/inventory";
import { canTransition, type OrderLineState, type OrderState, orderIdFor, orderTotal, orderView } from "../domain/order";
import { errorFields, log } from "../http/log";
import type { CartStore } from "./cart-store";
import type { OrderStore } from "./order-store";
import { inventoryStub } from "./stubs";

/**
 * Holds of a pending order outlive its payment window by this much, so the cart object (whose
 * clock decides whether a payment is in time) never sees a hold lapse before the order expires.
 * The order's expiry releases them explicitly.
 */
export const ORDER_HOLD_GRACE_SECONDS = 120;

export type CheckoutResult =
  | { ok: true; order: Order; created: boolean }
  | { ok: false; reason: "cart_empty" }
  | { ok: false; reason: "cart_not_open"; status: string }
  | { ok: false; reason: "price_changed"; cart: Cart }
  | { ok: false; reason: "item_unavailable"; sku: string }
  | (InventoryRefusal & { sku: string });

export type PaymentResult =
  | { ok: true; outcome: "paid" | "already_paid" | "duplicate" | "recorded" | "ignored" }
  | { ok: false; reason: "not_found" }
  | { ok: false; reason: "amount_mismatch"; expected: { amount: number; currency: string } }
  | { ok: false; reason: "order_not_payable"; status: string };

export interface PaymentInput {
  webhookId: string;
  type: string;
  amount: number;
  currency: string;
  paymentId: string;
}

export class OrderDesk {
  constructor(
    private readonly env: Env,
    private readonly carts: CartStore,
    private readonly orders: OrderStore,
    /** Re-arms the object's alarm for whatever is due next (see nextWake). */
    private readonly arm: () => Promise<void>,
  ) {}

  /** The order as the API shows it, or null before checkout. */
  view(): Order | null {
    const order = this.orders.order();
    return order ? orderView(order, this.orders.lines()) : null;
  }

  /**
   * Checks out the cart under `key`. Re-prices every line from the SKU objects; if any price
   * differs the lines take the new prices and the answer is `price_changed`. Otherwise every
   * hold is extended to the payment window, then the order is placed and the cart closed in one
   * transaction. A retry with the same key after a crash finds the checkout in progress (or the
   * order placed) and finishes it; never a second order, never a lost or doubled hold.
   */
  async checkout(email: string, key: string, now: number, paymentTtlSeconds: number): Promise<CheckoutResult> {
    const cart = this.carts.cart()!;
    const existing = this.orders.order();
    if (existing) {
      if (existing.checkout_key === key) return { ok: true, order: this.view()!, created: false };
      return { ok: false, reason: "cart_not_open", status: cart.status };
    }
    if (cart.status !== "open") return { ok: false, reason: "cart_not_open", status: cart.status };
    const lines = this.carts.lines();
    if (lines.length === 0) return { ok: false, reason: "cart_empty" };

    const prices = await Promise.all(lines.map((line) => inventoryStub(this.env, line.sku).pricing()));
    // A SKU archived, dropped, or now priced in another currency can no longer be bought here.
    const unavailable = lines.find((_, i) => prices[i]?.status !== "active" || prices[i]?.price.currency !== cart.currency);
    if (unavailable) return { ok: false, reason: "item_unavailable", sku: unavailable.sku };
    const changed = lines.filter((line, i) => prices[i]!.price.amount !== line.unit_amount);
    if (changed.length > 0) {
      this.carts.settle(
        changed.map((line) => {
          const price = prices[lines.indexOf(line)]!;
          return { sku: line.sku, quantity: line.quantity, product_id: price.product_id, title: price.title, unit_amount: price.price.amount };
        }),
        { bump: true },
        now,
      );
      return { ok: false, reason: "price_changed", cart: cartView(this.carts.cart()!, this.carts.lines()) };
    }

    // Secure the stock for the payment window before anything is promised.
    this.orders.markCheckoutStarted(key);
    const holdSeconds = paymentTtlSeconds + ORDER_HOLD_GRACE_SECONDS;
    const held = await Promise.all(lines.map((line) => inventoryStub(this.env, line.sku).hold(holdIdFor(cart.cart_id, line.sku), cart.cart_id, line.quantity, holdSeconds)));
    const refused = held.findIndex((r) => !r.ok);
    if (refused >= 0) {
      // A hold lapsed and its stock went elsewhere: give the others back the cart's own expiry.
      const ttl = Math.max(1, (cart.expires_at - Date.now()) / 1000);
      await Promise.all(lines.map((line, i) => (held[i]!.ok ? inventoryStub(this.env, line.sku).extend(holdIdFor(cart.cart_id, line.sku), ttl) : undefined)));
      this.orders.markCheckoutStarted(null);
      return { ...(held[refused] as InventoryRefusal), sku: lines[refused]!.sku };
    }
    const orderLines: OrderLineState[] = lines.map((line) => ({ sku: line.sku, product_id: line.product_id, title: line.title, quantity: line.quantity, unit_amount: line.unit_amount }));
    this.orders.place(
      {
        order_id: orderIdFor(cart.cart_id),
        cart_id: cart.cart_id,
        email,
        currency: cart.currency,
        total_amount: orderTotal(orderLines),
        checkout_key: key,
        created_at: now,
        payment_expires_at: now + paymentTtlSeconds * 1000,
      },
      orderLines,
      now,
    );
    return { ok: true, order: this.view()!, created: true };
  }

  /** Cancels a pending order and releases its stock. */
  async cancel(now: number): Promise<{ ok: true; order: Order } | { ok: false; reason: "not_found" } | { ok: false; reason: "invalid_transition"; status: string }> {
    const order = this.orders.order();
    if (!order) return { ok: false, reason: "not_found" };
    this.expireIfDue(now);
    const current = this.orders.order()!;
    if (!canTransition(current.status, "cancelled") || current.payment_id !== null) return { ok: false, reason: "invalid_transition", status: current.status };
    this.orders.close("cancelled");
    await this.releaseClosedOrderHolds();
    return { ok: true, order: this.view()! };
  }

  /** Expires a pending order whose payment window is over (its holds are released by the caller). */
  expireIfDue(now: number): void {
    const order = this.orders.order();
    if (order?.status === "pending_payment" && order.payment_id === null && now >= order.payment_expires_at) this.orders.close("expired");
  }

  /** Releases the holds of a cancelled or expired order (idempotent; the alarm retries). */
  async releaseClosedOrderHolds(): Promise<void> {
    const order = this.orders.order();
    if (!order || (order.status !== "cancelled" && order.status !== "expired") || order.holds_released === 1) return;
    await Promise.all(this.orders.lines().map((line) => inventoryStub(this.env, line.sku).release(holdIdFor(order.cart_id, line.sku))));
    this.orders.markHoldsReleased();
  }

  /**
   * Applies a payment event. `payment.succeeded` on a pending order commits each hold in its SKU
   * object (idempotent), then marks the order paid and queues its archival message in one
   * transaction. Late or second payments are recorded for refund. Events are deduplicated by
   * webhook id.
   */
  async payment(event: PaymentInput, now: number): Promise<PaymentResult> {
    const order = this.orders.order();
    if (!order) return { ok: false, reason: "not_found" };
    if (this.orders.event(event.webhookId)) return { ok: true, outcome: "duplicate" };
    if (event.amount !== order.total_amount || event.currency !== order.currency) {
      return { ok: false, reason: "amount_mismatch", expected: { amount: order.total_amount, currency: order.currency } };
    }
    const record = (outcome: string, refundDue = false) =>
      this.orders.recordEvent({ webhookId: event.webhookId, type: event.type, paymentId: event.paymentId, amount: event.amount, currency: event.currency, outcome, refundDue }, now);

    if (event.type === "payment.failed") {
      record("failed");
      return { ok: true, outcome: "recorded" };
    }
    this.expireIfDue(now);
    const current = this.orders.order()!;
    if (current.status === "paid") {
      const samePayment = current.payment_id === event.paymentId;
      record(samePayment ? "already_paid" : "second_payment", !samePayment);
      if (samePayment) return { ok: true, outcome: "already_paid" };
      return { ok: false, reason: "order_not_payable", status: current.status };
    }
    if (current.status !== "pending_payment" || (current.payment_id !== null && current.payment_id !== event.paymentId)) {
      record("order_not_payable", true);
      if (current.status !== "pending_payment") await this.releaseClosedOrderHolds();
      return { ok: false, reason: "order_not_payable", status: current.status };
    }
    this.orders.startPayment(event.paymentId);
    // From here an interruption is resumed by the alarm (armed a few seconds out).
    await this.arm();
    await this.commitHolds();
    this.orders.markPaid(now, archivalMessage);
    record("paid");
    await this.drainOutbox(now);
    return { ok: true, outcome: "paid" };
  }

  /**
   * Commits every hold of the order being paid. Used by the payment and by the alarm when a
   * payment was interrupted after it started.
   */
  async commitHolds(): Promise<void> {
    const order = this.orders.order()!;
    const results = await Promise.all(this.orders.lines().map((line) => inventoryStub(this.env, line.sku).commit(holdIdFor(order.cart_id, line.sku))));
    results.forEach((result, i) => {
      if (!result.ok) log("error", "hold missing at payment; the unit was not reserved", { order_id: order.order_id, sku: this.orders.lines()[i]!.sku, reason: result.reason });
    });
  }

  /** Finishes a payment interrupted between its start and the paid transaction. */
  async resumePayment(now: number): Promise<void> {
    const order = this.orders.order();
    if (order?.status !== "pending_payment" || order.payment_id === null) return;
    await this.commitHolds();
    this.orders.markPaid(now, archivalMessage);
    await this.drainOutbox(now);
  }

  /** Sends due outbox messages to the queue; failures are retried with backoff by the alarm. */
  async drainOutbox(now: number): Promise<void> {
    for (const message of this.orders.dueMessages(now)) {
      try {
        await this.env.ORDERS_QUEUE.send(JSON.parse(message.body), { contentType: "json" });
        this.orders.markSent(message.seq, Date.now());
      } catch (error) {
        log("warn", "order archival send failed; will retry", { seq: message.seq, ...errorFields(error) });
        this.orders.markSendFailed(message.seq, message.attempts + 1, error instanceof Error ? error.message : String(error), Date.now());
      }
    }
  }

  /** When this desk next needs the alarm: payment window end, an interrupted payment, or a send retry. */
  nextWake(now: number): number | null {
    const order = this.orders.order();
    const times: number[] = [];
    if (order?.status === "pending_payment") times.push(order.payment_id !== null ? now + 5000 : order.payment_expires_at);
    if ((order?.status === "cancelled" || order?.status === "expired") && order.holds_released === 0) times.push(now + 5000);
    const outbox = this.orders.nextOutboxAttempt();
    if (outbox !== null) times.push(outbox);
    if (this.orders.checkoutInProgress() !== null) times.push(this.carts.cart()!.expires_at);
    return times.length === 0 ? null : Math.min(...times);
  }
}

/** The versioned archival message for a paid order. */
function archivalMessage(order: OrderState, lines: OrderLineState[]): OrderArchivedV1 {
  const view = orderView(order, lines);
  return {
    type: "order.paid",
    version: 1,
    order: {
      id: view.id,
      cart_id: view.cart_id,
      email: view.email,
      status: "paid",
      total: view.total,
      payment_id: order.payment_id!,
      created_at: view.created_at,
      paid_at: view.paid_at!,
      payment_expires_at: view.payment_expires_at,
      lines: view.lines.map((line) => ({ sku: line.sku, product_id: line.product_id, title: line.title, quantity: line.quantity, unit_price: line.unit_price, line_total: line.line_total })),
    },
  };
}
