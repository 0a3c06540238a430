/**
 * The order placed from a cart, kept in the cart's own object (one cart → at most one order), so
 * checkout is one object's transaction plus the SKU objects' holds. Also its payment events
 * (webhook dedupe, refunds due) and the archival outbox. Synchronous SQL; time is a parameter.
 */
import type { OrderArchivedV1 } from "../contracts";
import type { OrderLineState, OrderState, OrderStatus } from "../domain/order";
import { outboxBackoffMs } from "../domain/order";
import type { SqlMigration } from "./sql-migrations";

export const ORDER_MIGRATIONS: readonly SqlMigration[] = [
  {
    version: 2,
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
      ALTER TABLE cart ADD COLUMN checkout_key TEXT;
    `,
  },
];

interface OrderRow extends OrderState, Record<string, SqlStorageValue> {
  holds_released: number;
}

/** A payment event as recorded (for dedupe and refunds). */
export interface PaymentEventRecord {
  webhookId: string;
  type: string;
  paymentId: string | null;
  amount: number | null;
  currency: string | null;
  outcome: string;
  refundDue: boolean;
}

export class OrderStore {
  constructor(private readonly storage: DurableObjectStorage) {}

  private get sql(): SqlStorage {
    return this.storage.sql;
  }

  /** The order, or null when the cart has not been checked out. */
  order(): (OrderState & { holds_released: number }) | null {
    const row = this.sql.exec<OrderRow>("SELECT * FROM orders WHERE id = 1").toArray()[0];
    if (!row) return null;
    return { ...row, status: row.status as OrderStatus };
  }

  lines(): OrderLineState[] {
    return this.sql.exec<OrderLineState & Record<string, SqlStorageValue>>("SELECT sku, product_id, title, quantity, unit_amount FROM order_lines ORDER BY rowid").toArray();
  }

  /**
   * Places the order and closes the cart in one transaction: the commit point of checkout.
   */
  place(order: Omit<OrderState, "status" | "paid_at" | "payment_id">, lines: readonly OrderLineState[], now: number): void {
    this.storage.transactionSync(() => {
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
      this.sql.exec("UPDATE cart SET status = 'checked_out', order_id = ?, checkout_key = NULL, version = version + 1, updated_at = ? WHERE id = 1", order.order_id, now);
    });
  }

  /** Remembers that checkout `key` has extended the holds and is about to place the order. */
  markCheckoutStarted(key: string | null): void {
    this.sql.exec("UPDATE cart SET checkout_key = ? WHERE id = 1", key);
  }

  /** The checkout in progress (holds extended, order not yet placed), if any. */
  checkoutInProgress(): string | null {
    return this.sql.exec<{ checkout_key: string | null }>("SELECT checkout_key FROM cart WHERE id = 1").toArray()[0]?.checkout_key ?? null;
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
  markPaid(paidAt: number, message: (order: OrderState, lines: OrderLineState[]) => OrderArchivedV1): void {
    this.storage.transactionSync(() => {
      this.sql.exec("UPDATE orders SET status = 'paid', paid_at = ? WHERE id = 1 AND status = 'pending_payment'", paidAt);
      const order = this.order()!;
      this.sql.exec("INSERT INTO outbox (body, created_at, next_attempt_at) VALUES (?, ?, ?)", JSON.stringify(message(order, this.lines())), paidAt, paidAt);
    });
  }

  /** A payment event seen before, by webhook id. */
  event(webhookId: string): PaymentEventRecord | null {
    const row = this.sql
      .exec<{ webhook_id: string; type: string; payment_id: string | null; amount: number | null; currency: string | null; outcome: string; refund_due: number }>(
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
    return this.sql.exec<{ seq: number; body: string; attempts: number }>("SELECT seq, body, attempts FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= ? ORDER BY seq", now).toArray();
  }

  markSent(seq: number, now: number): void {
    this.sql.exec("UPDATE outbox SET sent_at = ?, last_error = NULL WHERE seq = ?", now, seq);
  }

  markSendFailed(seq: number, attempts: number, error: string, now: number): void {
    this.sql.exec("UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE seq = ?", attempts, now + outboxBackoffMs(attempts), error.slice(0, 500), seq);
  }

  /** When the next unsent message is due, or null. */
  nextOutboxAttempt(): number | null {
    return this.sql.exec<{ next: number | null }>("SELECT MIN(next_attempt_at) AS next FROM outbox WHERE sent_at IS NULL").one().next;
  }
}
