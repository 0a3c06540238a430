/**
 * Checkout, the order's life and its payment, inside the cart's object (the order lives with the
 * cart it was placed from; docs/architecture.md explains the choice). The rules are in
 * src/domain (repricing, the order state machine, expiry); this desk loads state, asks the
 * domain, carries the decision out against the SKU objects and persists it. Every step that
 * touches SKU objects is idempotent, so a crash at any point is resumed by a retry (the same
 * Idempotency-Key), by the payment provider's redelivery, or by the object's alarm.
 */
import type { AdminOrder, Cart, Order } from "../contracts";
import { type CartState, holdIdFor } from "../domain/cart";
import { reprice } from "../domain/checkout";
import { orderHoldSeconds, paymentWindowOver } from "../domain/expiry";
import type { InventoryRefusal } from "../domain/inventory";
import {
  adminOrderView,
  decideCancel,
  decidePayment,
  type LineSettlement,
  type OrderEffect,
  orderIdFor,
  orderView,
  type PaymentRecord,
  settlement,
} from "../domain/order";
import { errorFields, log } from "../platform/log";
import { CartPromotions } from "./cart-promotions";
import type { CartStore, StoredCart } from "./cart-store";
import { OrderOutbox } from "./order-outbox";
import type { OrderStore } from "./order-store";
import { inventoryStub } from "./stubs";

/** How long a payment holds the units it is about to sell: a hold taken again after it lapsed lives this long. */
const SETTLE_HOLD_SECONDS = 300;

export type CheckoutResult =
  | { ok: true; order: Order; created: boolean }
  | { ok: false; reason: "cart_empty" }
  | { ok: false; reason: "cart_not_open"; status: string }
  | { ok: false; reason: "price_changed"; cart: Cart }
  | { ok: false; reason: "item_unavailable"; sku: string }
  | { ok: false; reason: "tax_unavailable" | "ship_to_required" }
  | (InventoryRefusal & { sku: string });

export type PaymentResult =
  | { ok: true; outcome: "paid" | "already_paid" | "duplicate" | "recorded" | "ignored" }
  | { ok: false; reason: "not_found" }
  | { ok: false; reason: "amount_mismatch"; expected: { amount: number; currency: string } }
  | { ok: false; reason: "order_not_payable"; status: string };

export type CancelResult =
  | { ok: true; order: Order }
  | { ok: false; reason: "not_found" }
  | { ok: false; reason: "invalid_transition"; status: string };

export interface PaymentInput {
  webhookId: string;
  type: string;
  amount: number;
  currency: string;
  paymentId: string;
}

export class OrderDesk {
  readonly #outbox: OrderOutbox;

  constructor(
    private readonly env: Env,
    private readonly storage: DurableObjectStorage,
    private readonly carts: CartStore,
    private readonly orders: OrderStore,
    private readonly promotions: CartPromotions,
    /** Re-arms the object's alarm for whatever is due next (see nextWake). */
    private readonly arm: () => Promise<void>,
    /** The cart as the API shows it now (after a checkout changed it). */
    private readonly show: (now: number) => Promise<Cart>,
  ) {
    this.#outbox = new OrderOutbox(env, orders);
  }

  /** The order as the API shows it, or null before checkout. */
  view(): Order | null {
    const order = this.orders.order();
    return order ? orderView(order, this.orders.lines()) : null;
  }

  /**
   * Checks out the cart under `key`. Reprices every line from the SKU objects; a changed price
   * updates the lines and answers `price_changed`. Otherwise every hold is extended to the
   * payment window, then the order is placed and the cart closed in one transaction. A retry with
   * the same key after a crash finds the checkout in progress (or the order placed) and finishes
   * it; never a second order, never a lost or doubled hold.
   */
  async checkout(
    stored: StoredCart,
    cart: CartState,
    email: string,
    key: string,
    now: number,
    paymentTtlSeconds: number,
  ): Promise<CheckoutResult> {
    const existing = this.orders.order();
    if (existing) {
      if (existing.checkout_key === key) return { ok: true, order: this.view()!, created: false };
      return { ok: false, reason: "cart_not_open", status: cart.status };
    }
    if (cart.status !== "open") return { ok: false, reason: "cart_not_open", status: cart.status };
    const lines = this.carts.lines();
    if (lines.length === 0) return { ok: false, reason: "cart_empty" };

    const prices = await Promise.all(lines.map((line) => inventoryStub(this.env, line.sku).pricing()));
    const repriced = reprice(lines, prices, cart.currency);
    if (repriced.kind === "unavailable") return { ok: false, reason: "item_unavailable", sku: repriced.sku };
    if (repriced.kind === "changed") {
      this.carts.write(stored, repriced.lines, { status: cart.status, expires_at: cart.expires_at, version: cart.version + 1 }, now);
      return { ok: false, reason: "price_changed", cart: await this.show(now) };
    }

    // Promotions from their objects, the tax, and the redemptions for the payment window.
    const holdSeconds = orderHoldSeconds(paymentTtlSeconds);
    this.carts.markCheckoutStarted(key);
    const pricing = await this.promotions.prepareCheckout(stored, cart, now, now + holdSeconds * 1000);
    if (!pricing.ok) {
      this.carts.markCheckoutStarted(null);
      return pricing.reason === "price_changed"
        ? { ok: false, reason: "price_changed", cart: await this.show(now) }
        : { ok: false, reason: pricing.reason };
    }
    // Secure the stock for the payment window before anything is promised.
    const held = await Promise.all(
      lines.map((line) =>
        inventoryStub(this.env, line.sku).hold(holdIdFor(cart.cart_id, line.sku), cart.cart_id, line.quantity, holdSeconds),
      ),
    );
    const refused = held.findIndex((r) => !r.ok);
    if (refused >= 0) {
      // A hold lapsed and its stock went elsewhere: give the others back the cart's own expiry.
      const ttl = Math.max(1, (cart.expires_at - Date.now()) / 1000);
      await Promise.all(
        lines.map((line, i) =>
          held[i]!.ok ? inventoryStub(this.env, line.sku).extend(holdIdFor(cart.cart_id, line.sku), ttl) : undefined,
        ),
      );
      await this.promotions.restore(cart, pricing.redemptions);
      this.carts.markCheckoutStarted(null);
      return { ...(held[refused] as InventoryRefusal), sku: lines[refused]!.sku };
    }
    const orderId = orderIdFor(cart.cart_id);
    const { priced } = pricing;
    const bySku = new Map(priced.priced.lines.map((line) => [line.sku, line]));
    this.storage.transactionSync(() => {
      this.orders.place(
        {
          order_id: orderId,
          cart_id: cart.cart_id,
          email,
          currency: cart.currency,
          total_amount: priced.priced.total,
          checkout_key: key,
          created_at: now,
          payment_expires_at: now + paymentTtlSeconds * 1000,
          pricing: {
            discount_total: priced.priced.discount_total,
            tax_total: priced.priced.tax_total,
            tax_inclusive: priced.priced.tax_inclusive,
            discounts: priced.priced.discounts.filter((d) => d.amount > 0),
            redemptions: pricing.redemptions,
          },
        },
        lines.map((line) => ({ ...line, discount: bySku.get(line.sku)?.discount ?? 0, tax: bySku.get(line.sku)?.tax ?? 0 })),
      );
      this.carts.close(orderId, cart.version + 1, now);
    });
    await this.promotions.releaseUnused(cart.cart_id, pricing.redemptions);
    return { ok: true, order: this.view()!, created: true };
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

  /**
   * Applies a payment event (deduplicated by webhook id) as the order state machine decides: a
   * success on a pending order commits each hold (idempotent), then marks the order paid and
   * queues its archival message in one transaction; late or second payments are recorded for
   * refund.
   */
  async payment(input: PaymentInput, now: number): Promise<PaymentResult> {
    const order = this.orders.order();
    if (!order) return { ok: false, reason: "not_found" };
    if (this.orders.event(input.webhookId)) return { ok: true, outcome: "duplicate" };
    const type = input.type === "payment.failed" ? "payment_failed" : "payment_succeeded";
    const decision = decidePayment(order, { type, amount: input.amount, currency: input.currency, paymentId: input.paymentId }, now);
    const pays = decision.effects.includes("sell");
    // A payment that pays is recorded once the order is settled; any other outcome at once.
    if (decision.record !== null && !pays) this.#record(input, decision.record, now);
    if (decision.effects.includes("start_payment")) {
      this.orders.startPayment(input.paymentId);
      // From here an interruption is resumed by the alarm (armed a few seconds out).
      await this.arm();
    }
    await this.#carryOut(decision.effects, now);
    if (pays) {
      const settled = this.orders.order()!.status;
      this.#record(input, { outcome: settled === "paid_unfulfillable" ? "paid_unfulfillable" : "paid", refundDue: false }, now);
      await this.drainOutbox(now);
      await this.settleRedemptions().catch((error: unknown) =>
        log("warn", "settling redemptions failed; the alarm retries", { order_id: order.order_id, ...errorFields(error) }),
      );
    }
    if (decision.ok) return { ok: true, outcome: decision.answer };
    if (decision.reason === "amount_mismatch") return { ok: false, reason: "amount_mismatch", expected: decision.expected };
    return { ok: false, reason: "order_not_payable", status: decision.status };
  }

  #record(input: PaymentInput, record: PaymentRecord, now: number): void {
    const orderId = this.orders.order()!.order_id;
    this.orders.recordEvent(
      {
        webhookId: input.webhookId,
        type: input.type,
        paymentId: input.paymentId,
        amount: input.amount,
        currency: input.currency,
        ...record,
      },
      orderId,
      now,
    );
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
          this.orders.settle(settlement(await this.#sell()), now);
          break;
      }
    }
  }

  /**
   * Secures and sells every line of the order being paid. A hold that lapsed (a late webhook, a
   * lost commit, a restore) is taken again if the stock is there; only when every line is held
   * are the units sold. If a line cannot be held, the holds taken are released and nothing more
   * is sold: the order is unfulfillable and its payment due back. Lines sold before an
   * interruption stay sold (selling is idempotent per hold). Used by the payment and by the alarm.
   */
  async #sell(): Promise<LineSettlement[]> {
    const order = this.orders.order()!;
    const lines = this.orders.lines();
    const stub = (sku: string) => inventoryStub(this.env, sku);
    const held = await Promise.all(
      lines.map((line) => stub(line.sku).hold(holdIdFor(order.cart_id, line.sku), order.cart_id, line.quantity, SETTLE_HOLD_SECONDS)),
    );
    // A hold already sold to this order answers hold_committed: that line is done.
    const secured = held.map((result) => result.ok || result.reason === "hold_committed");
    if (!secured.every(Boolean)) {
      lines.forEach((line, i) => {
        if (!secured[i])
          log("error", "stock for a paid order is gone; the order is unfulfillable", {
            order_id: order.order_id,
            sku: line.sku,
            reason: (held[i] as InventoryRefusal).reason,
          });
      });
      await Promise.all(lines.map((line, i) => (held[i]!.ok ? stub(line.sku).release(holdIdFor(order.cart_id, line.sku)) : undefined)));
      return lines.map((_, i) => (held[i]!.ok === false && (held[i] as InventoryRefusal).reason === "hold_committed" ? "sold" : "lost"));
    }
    const sold = await Promise.all(lines.map((line) => stub(line.sku).commit(holdIdFor(order.cart_id, line.sku))));
    return sold.map((result) => (result.ok ? "sold" : "lost"));
  }

  /** Finishes a payment interrupted between its start and the settling transaction. */
  async resumePayment(now: number): Promise<void> {
    const order = this.orders.order();
    if (order?.status !== "pending_payment" || order.payment_id === null) return;
    this.orders.settle(settlement(await this.#sell()), now);
    await this.drainOutbox(now);
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
