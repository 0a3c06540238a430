/**
 * The order placed from a cart, kept in the cart's own object (one cart → at most one order), so
 * checkout is one object's transaction plus the SKU objects' holds. Also its payment events
 * (webhook dedupe, refunds due) and its outbox. The only code that touches these tables
 * (order-schema.ts; the outbox's SQL is in order-outbox-store.ts). Synchronous SQL; time is a
 * parameter.
 *
 * The outbox holds every message the order owes the rest of the system, written in the same
 * transaction as the change it reports:
 *   archive   the paid order, to the archival queue (→ Postgres `orders`)
 *   refund    a payment to give back, to the same queue (→ Postgres `refunds_due`)
 *   registry  the order's entry in the day's PaidOrdersObject (the back office's backlog view)
 *   event     a webhook event (order.paid, order.cancelled, order.expired, order.refund_due), to
 *             the webhooks queue; confirmed once the fan-out stored it (sync/webhooks.ts)
 * A queued message is done only when its receiver confirms it (the consumer calls back once
 * Postgres committed it); until then the alarm sends it again, with backoff, without any limit on
 * how long the receiver may be away.
 */
import type { OrderStatus, WebhookEventPayload } from "../contracts";
import {
  archivalMessage,
  type OrderLineState,
  type OrderPricing,
  type OrderState,
  type PaymentRecord,
  type RecordedPayment,
  refundDueMessage,
} from "../domain/order";
import { orderClosedEvent, orderPaidEvent, refundDueEvent } from "../domain/webhooks";
import { toHex } from "../platform/crypto";
import { OrderOutboxStore, type OutboxMessage, registryEntry } from "./order-outbox-store";
import { ORDER_SCHEMA } from "./order-schema";
import { LazySchema } from "./sql-migrations";

export {
  CONFIRM_BACKOFF,
  OUTBOX_BACKOFF,
  type OutboxKind,
  type OutboxMessage,
  type RegistryEntry,
} from "./order-outbox-store";
export { ORDER_SCHEMA };

/** A new webhook event id (`webhook-id`); stored in the outbox body, so every resend carries it. */
function newEventId(): string {
  return `evt_${toHex(crypto.getRandomValues(new Uint8Array(16)))}`;
}

interface OrderRow extends Omit<OrderState, "pricing">, Record<string, SqlStorageValue> {
  holds_released: number;
  redemptions_settled: number;
  pricing: string | null;
}

/** The stored order: its state, whether its holds were released and its redemptions settled. */
export type StoredOrder = OrderState & { holds_released: number; redemptions_settled: number };

/** A payment event as recorded (for dedupe and refunds). */
export type PaymentEventRecord = RecordedPayment;

/** SQL access for the cart's order; its tables are created by checkout, in the order's own commit. */
export class OrderStore {
  readonly #schema: LazySchema;
  readonly #outbox: OrderOutboxStore;

  constructor(private readonly storage: DurableObjectStorage) {
    this.#schema = new LazySchema(storage, ORDER_SCHEMA, "orders");
    this.#schema.open();
    // The outbox is one of the order's tables: it shares their LazySchema (created by `place`).
    this.#outbox = new OrderOutboxStore(storage, this.#schema);
  }

  private get sql(): SqlStorage {
    return this.storage.sql;
  }

  /** The order, or null when the cart has not been checked out. */
  order(): StoredOrder | null {
    if (!this.#schema.ready) return null;
    const row = this.sql.exec<OrderRow>("SELECT * FROM orders WHERE id = 1").toArray()[0];
    if (!row) return null;
    return { ...row, status: row.status as OrderStatus, pricing: row.pricing === null ? null : (JSON.parse(row.pricing) as OrderPricing) };
  }

  lines(): Array<OrderLineState & { discount: number; tax: number }> {
    if (!this.#schema.ready) return [];
    return this.sql
      .exec<OrderLineState & { discount: number; tax: number } & Record<string, SqlStorageValue>>(
        "SELECT sku, product_id, title, quantity, unit_amount, discount_amount AS discount, tax_amount AS tax FROM order_lines ORDER BY rowid",
      )
      .toArray();
  }

  /** Places the order with its lines (the caller closes the cart in the same transaction). */
  place(order: Omit<OrderState, "status" | "paid_at" | "payment_id">, lines: readonly OrderLineState[]): void {
    this.#schema.ensure();
    this.sql.exec(
      `INSERT INTO orders (id, order_id, cart_id, status, email, currency, total_amount, checkout_key, created_at, payment_expires_at, pricing)
       VALUES (1, ?, ?, 'pending_payment', ?, ?, ?, ?, ?, ?, ?)`,
      order.order_id,
      order.cart_id,
      order.email,
      order.currency,
      order.total_amount,
      order.checkout_key,
      order.created_at,
      order.payment_expires_at,
      order.pricing ? JSON.stringify(order.pricing) : null,
    );
    for (const line of lines) {
      this.sql.exec(
        "INSERT INTO order_lines (sku, product_id, title, quantity, unit_amount, discount_amount, tax_amount) VALUES (?, ?, ?, ?, ?, ?, ?)",
        line.sku,
        line.product_id,
        line.title,
        line.quantity,
        line.unit_amount,
        line.discount ?? 0,
        line.tax ?? 0,
      );
    }
  }

  /** Records that the order's promotion redemptions were committed (paid) or released (closed unpaid). */
  markRedemptionsSettled(): void {
    this.sql.exec("UPDATE orders SET redemptions_settled = 1 WHERE id = 1");
  }

  /** Moves a pending order to cancelled or expired, with its webhook event in the same transaction. */
  close(status: "cancelled" | "expired", now: number): void {
    this.storage.transactionSync(() => {
      const closed = this.sql.exec("UPDATE orders SET status = ? WHERE id = 1 AND status = 'pending_payment'", status).rowsWritten > 0;
      if (closed) this.#enqueueEvent(orderClosedEvent(newEventId(), this.order()!, this.lines(), status, now), now);
    });
  }

  /** Records that the holds of a closed order were released (so the alarm stops trying). */
  markHoldsReleased(): void {
    this.sql.exec("UPDATE orders SET holds_released = 1 WHERE id = 1");
  }

  /** Notes the payment being applied before the holds are committed (so an interruption resumes). */
  startPayment(paymentId: string): void {
    this.sql.exec("UPDATE orders SET payment_id = ? WHERE id = 1 AND status = 'pending_payment'", paymentId);
  }

  /**
   * Settles the order as `status` (paid, or unfulfillable with its payment due back) and writes
   * what it owes to the outbox in the same transaction: the archival message, the registry entry,
   * and the refund when one is due. A Worker dying after this commit loses nothing.
   */
  settle(status: "paid" | "paid_unfulfillable", paidAt: number): void {
    this.storage.transactionSync(() => {
      this.sql.exec("UPDATE orders SET status = ?, paid_at = ? WHERE id = 1 AND status = 'pending_payment'", status, paidAt);
      const order = this.order()!;
      this.#outbox.enqueue("archive", "archive", archivalMessage(order, this.lines()), paidAt);
      this.#outbox.enqueue("registry", `registry:${paidAt}`, registryEntry(order, null), paidAt);
      if (status === "paid") this.#enqueueEvent(orderPaidEvent(newEventId(), order, this.lines()), paidAt);
      if (status === "paid_unfulfillable") {
        const payment = { paymentId: order.payment_id!, amount: order.total_amount, currency: order.currency };
        const refund = refundDueMessage(order.order_id, payment, "unfulfillable", paidAt);
        this.#outbox.enqueue("refund", `refund:${payment.paymentId}`, refund, paidAt);
        this.#enqueueEvent(refundDueEvent(newEventId(), refund), paidAt);
      }
    });
  }

  /** Queues a webhook event (outbox key `event:<id>`, which the fan-out confirms). */
  #enqueueEvent(event: WebhookEventPayload, now: number): void {
    this.#outbox.enqueueEvent(event, this.order()!.cart_id, now);
  }

  /** A payment event seen before, by webhook id. */
  event(webhookId: string): PaymentEventRecord | null {
    return this.events().find((event) => event.webhookId === webhookId) ?? null;
  }

  /** Every payment event, oldest first. */
  events(): PaymentEventRecord[] {
    if (!this.#schema.ready) return [];
    return this.sql
      .exec<{
        webhook_id: string;
        type: string;
        payment_id: string | null;
        amount: number | null;
        currency: string | null;
        outcome: PaymentRecord["outcome"];
        refund_due: number;
        received_at: number;
      }>("SELECT * FROM payment_events ORDER BY received_at, webhook_id")
      .toArray()
      .map((row) => ({
        webhookId: row.webhook_id,
        type: row.type,
        paymentId: row.payment_id,
        amount: row.amount,
        currency: row.currency,
        outcome: row.outcome,
        refundDue: row.refund_due === 1,
        receivedAt: row.received_at,
      }));
  }

  /**
   * Records a handled payment event (dedupe by webhook id). A refund due is queued for Postgres
   * in the same transaction, once per payment.
   */
  recordEvent(event: PaymentEventRecord, orderId: string, now: number): void {
    this.storage.transactionSync(() => {
      const written = this.sql.exec(
        "INSERT OR IGNORE INTO payment_events (webhook_id, type, payment_id, amount, currency, outcome, refund_due, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        event.webhookId,
        event.type,
        event.paymentId,
        event.amount,
        event.currency,
        event.outcome,
        event.refundDue ? 1 : 0,
        now,
      ).rowsWritten;
      if (written === 0 || !event.refundDue || event.paymentId === null || event.amount === null || event.currency === null) return;
      const key = `refund:${event.paymentId}`;
      if (this.#outbox.has(key)) return;
      const reason = event.outcome === "second_payment" ? "second_payment" : "order_not_payable";
      const refund = refundDueMessage(orderId, { paymentId: event.paymentId, amount: event.amount, currency: event.currency }, reason, now);
      this.#outbox.enqueue("refund", key, refund, now);
      this.#enqueueEvent(refundDueEvent(newEventId(), refund), now);
    });
  }

  /** Messages due at `now`: never sent, failed, or sent and still unconfirmed past their wait. */
  dueMessages(now: number): OutboxMessage[] {
    return this.#outbox.dueMessages(now);
  }

  /** A queued message went out: it waits for its receiver's confirmation, then is sent again. */
  markSent(seq: number, attempts: number, now: number): void {
    this.#outbox.markSent(seq, attempts, now);
  }

  /** A message whose receiver answered directly (the registry) is done. */
  markDelivered(seq: number, now: number): void {
    this.#outbox.markDelivered(seq, now);
  }

  markSendFailed(seq: number, attempts: number, error: string, now: number): void {
    this.#outbox.markSendFailed(seq, attempts, error, now);
  }

  /**
   * The receiver has `key` (Postgres committed it): the message is done. When it is the order's
   * archival, the registry entry is updated too (a new registry message in the same transaction).
   * Returns whether anything changed (a repeated confirmation changes nothing).
   */
  confirm(key: string, now: number): boolean {
    if (!this.#schema.ready) return false;
    return this.storage.transactionSync(() => {
      const changed = this.#outbox.markConfirmed(key, now);
      const order = this.order();
      if (changed && key === "archive" && order !== null && order.paid_at !== null)
        this.#outbox.enqueue("registry", `registry:archived:${now}`, registryEntry(order, now), now);
      return changed;
    });
  }

  /** Whether the order's archival was confirmed by Postgres (null before it was paid). */
  archivedAt(): number | null {
    return this.#outbox.archivedAt();
  }

  /** When the next unconfirmed message is due, or null. */
  nextOutboxAttempt(): number | null {
    return this.#outbox.nextOutboxAttempt();
  }
}
