/**
 * Checkout, the order's life and its payment, inside the cart's object (the order lives with the
 * cart it was placed from; docs/architecture.md explains the choice). The rules are in
 * src/domain (repricing, the order state machine, expiry); this desk loads state, asks the
 * domain, carries the decision out against the SKU objects and persists it. Checkout itself is
 * OrderCheckout (order-checkout.ts), a payment and the sale of the order's units OrderPayment
 * (order-payment.ts); the desk runs them and carries out what the order's decisions call for.
 * Every step that touches SKU objects is idempotent, so a crash at any point is resumed by a retry
 * (the same Idempotency-Key), by the payment provider's redelivery, or by the object's alarm.
 */
import type { AdminOrder, Cart, Order } from "../contracts";
import { type CartState, holdIdFor } from "../domain/cart";
import { paymentWindowOver } from "../domain/expiry";
import { adminOrderView, decideCancel, type OrderEffect, orderView, settlement } from "../domain/order";
import { errorFields, log } from "../platform/log";
import { CartPromotions } from "./cart-promotions";
import type { CartStore, StoredCart } from "./cart-store";
import { type CheckoutResult, OrderCheckout } from "./order-checkout";
import { OrderOutbox } from "./order-outbox";
import { OrderPayment, type PaymentInput, type PaymentResult } from "./order-payment";
import type { OrderStore } from "./order-store";
import { inventoryStub } from "./stubs";

export type { CheckoutResult } from "./order-checkout";
export type { PaymentInput, PaymentResult } from "./order-payment";

export type CancelResult =
  | { ok: true; order: Order }
  | { ok: false; reason: "not_found" }
  | { ok: false; reason: "invalid_transition"; status: string };

export class OrderDesk {
  readonly #outbox: OrderOutbox;
  readonly #checkout: OrderCheckout;
  readonly #payment: OrderPayment;

  constructor(
    private readonly env: Env,
    private readonly carts: CartStore,
    private readonly orders: OrderStore,
    promotions: CartPromotions,
    /** Re-arms the object's alarm for whatever is due next (see nextWake). */
    private readonly arm: () => Promise<void>,
    /** The cart as the API shows it now (after a checkout changed it). */
    show: (now: number) => Promise<Cart>,
  ) {
    this.#outbox = new OrderOutbox(env, orders);
    this.#checkout = new OrderCheckout(env, carts, orders, promotions, () => this.view(), show);
    // Late-bound, so the payment goes through this desk's methods as they are when it runs.
    this.#payment = new OrderPayment(env, orders, {
      arm: () => this.arm(),
      carryOut: (effects, now) => this.#carryOut(effects, now),
      drainOutbox: (now) => this.drainOutbox(now),
      settleRedemptions: () => this.settleRedemptions(),
    });
  }

  /** The order as the API shows it, or null before checkout. */
  view(): Order | null {
    const order = this.orders.order();
    return order ? orderView(order, this.orders.lines()) : null;
  }

  /** Checks out the cart under `key`: see OrderCheckout.run. */
  checkout(
    stored: StoredCart,
    cart: CartState,
    email: string,
    key: string,
    now: number,
    paymentTtlSeconds: number,
  ): Promise<CheckoutResult> {
    return this.#checkout.run(stored, cart, email, key, now, paymentTtlSeconds);
  }

  /** Cancels a pending order and releases its stock. */
  async cancel(now: number): Promise<CancelResult> {
    const order = this.orders.order();
    if (!order) return { ok: false, reason: "not_found" };
    const decision = decideCancel(order, now);
    try {
      await this.#carryOut(decision.effects, now);
    } catch (error) {
      // The order is closed (that is one local write); releasing its holds is what failed, and
      // the alarm retries that. The answer reports what happened: cancelled.
      log("warn", "releasing a cancelled order's holds failed; the alarm retries", { order_id: order.order_id, ...errorFields(error) });
    }
    if (!decision.ok) return { ok: false, reason: "invalid_transition", status: decision.status };
    return { ok: true, order: this.view()! };
  }

  /** Expires a pending order whose payment window is over (its holds are released by the alarm). */
  expireIfDue(now: number): void {
    const order = this.orders.order();
    if (order && paymentWindowOver(order, now)) this.orders.close("expired", now);
  }

  /** Releases the holds of a cancelled or expired order (idempotent; the alarm retries). */
  async releaseClosedOrderHolds(): Promise<void> {
    const order = this.orders.order();
    if (!order || (order.status !== "cancelled" && order.status !== "expired") || order.holds_released === 1) return;
    await Promise.all(this.orders.lines().map((line) => inventoryStub(this.env, line.sku).release(holdIdFor(order.cart_id, line.sku))));
    this.orders.markHoldsReleased();
    await this.settleRedemptions();
  }

  /**
   * Commits the order's promotion redemptions once it is paid, or gives them back once it is
   * closed unpaid or cannot be fulfilled (its payment is refunded). Idempotent; the alarm retries.
   */
  async settleRedemptions(): Promise<void> {
    const order = this.orders.order();
    const names = order?.pricing?.redemptions ?? [];
    if (!order || order.status === "pending_payment" || order.redemptions_settled === 1 || names.length === 0) return;
    await CartPromotions.settle(this.env, order.cart_id, names, order.status === "paid");
    this.orders.markRedemptionsSettled();
  }

  /** Applies a payment event for the order: see OrderPayment.apply. */
  payment(input: PaymentInput, now: number): Promise<PaymentResult> {
    return this.#payment.apply(input, now);
  }

  /** Carries out a decision's effects in order. */
  async #carryOut(effects: readonly OrderEffect[], now: number): Promise<void> {
    for (const effect of effects) {
      switch (effect) {
        case "expire":
          this.orders.close("expired", now);
          break;
        case "cancel":
          this.orders.close("cancelled", now);
          break;
        case "release_holds":
          await this.releaseClosedOrderHolds();
          break;
        case "start_payment":
          // Done by the caller before anything else, with the alarm armed for a resume.
          break;
        case "sell":
          // The units sold decide how the order settles: paid, or unfulfillable.
          this.orders.settle(settlement(await this.#payment.sell()), now);
          break;
      }
    }
  }

  /** Finishes a payment interrupted between its start and the settling transaction (see OrderPayment.resume). */
  async resumePayment(now: number): Promise<void> {
    await this.#payment.resume(now);
  }

  /** Sends what the outbox holds and is due (see OrderOutbox). */
  async drainOutbox(now: number): Promise<void> {
    await this.#outbox.drain(now);
  }

  /** The receiver of outbox message `key` has it (Postgres committed it); see OrderStore.confirm. */
  async confirm(key: string, now: number): Promise<boolean> {
    const changed = this.orders.confirm(key, now);
    if (changed) await this.#outbox.drain(now);
    return changed;
  }

  /** The order for the back office: with every payment event, the refunds due and its paying payment. */
  adminView(): AdminOrder | null {
    const order = this.orders.order();
    return order ? adminOrderView(order, this.orders.lines(), this.orders.events()) : null;
  }

  /** When this desk next needs the alarm: payment window end, an interrupted payment, or a send retry. */
  nextWake(now: number): number | null {
    const order = this.orders.order();
    const times: number[] = [];
    if (order?.status === "pending_payment") times.push(order.payment_id !== null ? now + 5000 : order.payment_expires_at);
    if ((order?.status === "cancelled" || order?.status === "expired") && order.holds_released === 0) times.push(now + 5000);
    if (order && order.status !== "pending_payment" && order.redemptions_settled === 0 && (order.pricing?.redemptions.length ?? 0) > 0)
      times.push(now + 5000);
    const outbox = this.orders.nextOutboxAttempt();
    if (outbox !== null) times.push(outbox);
    if (this.carts.checkoutInProgress() !== null) times.push(this.carts.cart()!.expires_at);
    return times.length === 0 ? null : Math.min(...times);
  }
}
