/**
 * The order placed from a cart, kept in the cart's own object (one cart → at most one order), so
 * checkout is one object's transaction plus the SKU objects' holds. Also its payment events
 * (webhook dedupe, refunds due) and the archival outbox. The only code that touches these tables.
 * Synchronous SQL; time is a parameter.
 */
import type { OrderStatus } from "../contracts";
import type { StoredLine } from "../domain/lines";
import { archivalMessage, type OrderState, type PaymentRecord } from "../domain/order";
import { backoffMs } from "../platform/backoff";
import { LazySchema, type StoreSchema } from "./sql-migrations";

/** Outbox send retries: 1 s doubling, at most 5 minutes apart. */
export const OUTBOX_BACKOFF = { baseMs: 1000, capMs: 300_000 };

export const ORDER_SCHEMA: StoreSchema = {
  store: "order",
  migrations: [
  {
    version: 1,
    legacyVersion: 2,
    description: "order, order lines, payment events, archival outbox",
    sql: `
      CREATE TABLE orders (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        order_id TEXT NOT NULL,
        cart_id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending_payment', 'paid', 'cancelled', 'expired')),
        email TEXT NOT NULL,
        currency TEXT NOT NULL,
        total_amount INTEGER NOT NULL CHECK (total_amount >= 0),
        checkout_key TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        payment_expires_at INTEGER NOT NULL,
        paid_at INTEGER,
        payment_id TEXT,
        holds_released INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE order_lines (
        sku TEXT PRIMARY KEY,
        product_id TEXT NOT NULL,
        title TEXT NOT NULL,
        quantity INTEGER NOT NULL CHECK (quantity > 0),
        unit_amount INTEGER NOT NULL CHECK (unit_amount >= 0)
      );
      CREATE TABLE payment_events (
        webhook_id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        payment_id TEXT,
        amount INTEGER,
        currency TEXT,
        outcome TEXT NOT NULL,
        refund_due INTEGER NOT NULL DEFAULT 0,
        received_at INTEGER NOT NULL
      );
      CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        sent_at INTEGER,
        last_error TEXT
      );
    `,
  },
  ],
};

interface OrderRow extends OrderState, Record<string, SqlStorageValue> {
  holds_released: number;
}

/** A payment event as recorded (for dedupe and refunds). */
export interface PaymentEventRecord extends PaymentRecord {
  webhookId: string;
  type: string;
  paymentId: string | null;
  amount: number | null;
  currency: string | null;
}

/** SQL access for the cart's order; its tables are created by checkout, in the order's own commit. */
export class OrderStore {
  readonly #schema: LazySchema;

  constructor(private readonly storage: DurableObjectStorage) {
    this.#schema = new LazySchema(storage, ORDER_SCHEMA, "orders");
    this.#schema.open();
  }

  private get sql(): SqlStorage {
    return this.storage.sql;
  }

  /** The order, or null when the cart has not been checked out. */
  order(): (OrderState & { holds_released: number }) | null {
    if (!this.#schema.ready) return null;
    const row = this.sql.exec<OrderRow>("SELECT * FROM orders WHERE id = 1").toArray()[0];
    if (!row) return null;
    return { ...row, status: row.status as OrderStatus };
  }

  lines(): StoredLine[] {
    if (!this.#schema.ready) return [];
    return this.sql.exec<StoredLine & Record<string, SqlStorageValue>>("SELECT sku, product_id, title, quantity, unit_amount FROM order_lines ORDER BY rowid").toArray();
  }

  /** Places the order with its lines (the caller closes the cart in the same transaction). */
  place(order: Omit<OrderState, "status" | "paid_at" | "payment_id">, lines: readonly StoredLine[]): void {
    this.#schema.ensure();
    this.sql.exec(
      `INSERT INTO orders (id, order_id, cart_id, status, email, currency, total_amount, checkout_key, created_at, payment_expires_at)
       VALUES (1, ?, ?, 'pending_payment', ?, ?, ?, ?, ?, ?)`,
      order.order_id,
      order.cart_id,
      order.email,
      order.currency,
      order.total_amount,
      order.checkout_key,
      order.created_at,
      order.payment_expires_at,
    );
    for (const line of lines) {
      this.sql.exec("INSERT INTO order_lines (sku, product_id, title, quantity, unit_amount) VALUES (?, ?, ?, ?, ?)", line.sku, line.product_id, line.title, line.quantity, line.unit_amount);
    }
  }

  /** Moves a pending order to cancelled or expired. */
  close(status: "cancelled" | "expired"): void {
    this.sql.exec("UPDATE orders SET status = ? WHERE id = 1 AND status = 'pending_payment'", status);
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
   * Marks the order paid and writes its archival message to the outbox in the same transaction,
   * so a Worker dying after this commit loses nothing: the alarm sends what is left.
   */
  markPaid(paidAt: number): void {
    this.storage.transactionSync(() => {
      this.sql.exec("UPDATE orders SET status = 'paid', paid_at = ? WHERE id = 1 AND status = 'pending_payment'", paidAt);
      const order = this.order()!;
      this.sql.exec("INSERT INTO outbox (body, created_at, next_attempt_at) VALUES (?, ?, ?)", JSON.stringify(archivalMessage(order, this.lines())), paidAt, paidAt);
    });
  }

  /** A payment event seen before, by webhook id. */
  event(webhookId: string): PaymentEventRecord | null {
    if (!this.#schema.ready) return null;
    const row = this.sql
      .exec<{ webhook_id: string; type: string; payment_id: string | null; amount: number | null; currency: string | null; outcome: PaymentRecord["outcome"]; refund_due: number }>(
        "SELECT * FROM payment_events WHERE webhook_id = ?",
        webhookId,
      )
      .toArray()[0];
    return row ? { webhookId: row.webhook_id, type: row.type, paymentId: row.payment_id, amount: row.amount, currency: row.currency, outcome: row.outcome, refundDue: row.refund_due === 1 } : null;
  }

  /** Records a handled payment event (dedupe by webhook id; refund_due for late payments). */
  recordEvent(event: PaymentEventRecord, now: number): void {
    this.sql.exec(
      "INSERT OR IGNORE INTO payment_events (webhook_id, type, payment_id, amount, currency, outcome, refund_due, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      event.webhookId,
      event.type,
      event.paymentId,
      event.amount,
      event.currency,
      event.outcome,
      event.refundDue ? 1 : 0,
      now,
    );
  }

  /** Outbox messages due for sending at `now`. */
  dueMessages(now: number): Array<{ seq: number; body: string; attempts: number }> {
    if (!this.#schema.ready) return [];
    return this.sql.exec<{ seq: number; body: string; attempts: number }>("SELECT seq, body, attempts FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= ? ORDER BY seq", now).toArray();
  }

  markSent(seq: number, now: number): void {
    this.sql.exec("UPDATE outbox SET sent_at = ?, last_error = NULL WHERE seq = ?", now, seq);
  }

  markSendFailed(seq: number, attempts: number, error: string, now: number): void {
    this.sql.exec(
      "UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE seq = ?",
      attempts,
      now + backoffMs(attempts, OUTBOX_BACKOFF.baseMs, OUTBOX_BACKOFF.capMs),
      error.slice(0, 500),
      seq,
    );
  }

  /** When the next unsent message is due, or null. */
  nextOutboxAttempt(): number | null {
    if (!this.#schema.ready) return null;
    return this.sql.exec<{ next: number | null }>("SELECT MIN(next_attempt_at) AS next FROM outbox WHERE sent_at IS NULL").one().next;
  }
}
