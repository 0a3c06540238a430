/**
 * Paying the order, inside the cart's object (OrderDesk runs it): a payment event applied as the
 * order state machine decides (src/domain/order.ts `decidePayment`), and the sale of the order's
 * units in the SKU objects once it pays. Selling is idempotent per hold, so a payment interrupted
 * anywhere is finished by the provider's redelivery or by the object's alarm (`resume`).
 */
import { holdIdFor } from "../domain/cart";
import type { InventoryRefusal } from "../domain/inventory";
import { decidePayment, type LineSettlement, type OrderEffect, type PaymentRecord, settlement } from "../domain/order";
import { errorFields, log } from "../platform/log";
import type { OrderStore } from "./order-store";
import { inventoryStub } from "./stubs";

/** How long a payment holds the units it is about to sell: a hold taken again after it lapsed lives this long. */
const SETTLE_HOLD_SECONDS = 300;

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

/** What a payment needs of the rest of the desk (OrderDesk supplies them). */
export interface PaymentSteps {
  /** Re-arms the object's alarm for whatever is due next (see OrderDesk.nextWake). */
  arm(): Promise<void>;
  /** Carries out a decision's effects in order (OrderDesk; its `sell` comes back to {@link OrderPayment.sell}). */
  carryOut(effects: readonly OrderEffect[], now: number): Promise<void>;
  /** Sends what the outbox holds and is due (OrderDesk.drainOutbox). */
  drainOutbox(now: number): Promise<void>;
  /** Commits or gives back the order's promotion redemptions (OrderDesk.settleRedemptions). */
  settleRedemptions(): Promise<void>;
}

export class OrderPayment {
  constructor(
    private readonly env: Env,
    private readonly orders: OrderStore,
    private readonly steps: PaymentSteps,
  ) {}

  /**
   * Applies a payment event (deduplicated by webhook id) as the order state machine decides: a
   * success on a pending order commits each hold (idempotent), then marks the order paid and
   * queues its archival message in one transaction; late or second payments are recorded for
   * refund.
   */
  async apply(input: PaymentInput, now: number): Promise<PaymentResult> {
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
      await this.steps.arm();
    }
    await this.steps.carryOut(decision.effects, now);
    if (pays) {
      const settled = this.orders.order()!.status;
      this.#record(input, { outcome: settled === "paid_unfulfillable" ? "paid_unfulfillable" : "paid", refundDue: false }, now);
      await this.steps.drainOutbox(now);
      await this.steps
        .settleRedemptions()
        .catch((error: unknown) =>
          log("warn", "settling redemptions failed; the alarm retries", { order_id: order.order_id, ...errorFields(error) }),
        );
    }
    if (decision.ok) return { ok: true, outcome: decision.answer };
    if (decision.reason === "amount_mismatch") return { ok: false, reason: "amount_mismatch", expected: decision.expected };
    return { ok: false, reason: "order_not_payable", status: decision.status };
  }

  /** Finishes a payment interrupted between its start and the settling transaction. */
  async resume(now: number): Promise<void> {
    const order = this.orders.order();
    if (order?.status !== "pending_payment" || order.payment_id === null) return;
    this.orders.settle(settlement(await this.sell()), now);
    await this.steps.drainOutbox(now);
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

  /**
   * Secures and sells every line of the order being paid. A hold that lapsed (a late webhook, a
   * lost commit, a restore) is taken again if the stock is there; only when every line is held
   * are the units sold. If a line cannot be held, the holds taken are released and nothing more
   * is sold: the order is unfulfillable and its payment due back. Lines sold before an
   * interruption stay sold (selling is idempotent per hold). Used by the payment and by the alarm.
   */
  async sell(): Promise<LineSettlement[]> {
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
}
