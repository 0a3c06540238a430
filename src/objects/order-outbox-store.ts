/**
 * The order's outbox in the cart object's SQLite database: every message the order owes the rest
 * of the system, written by {@link OrderStore} in the same transaction as the change it reports
 * (order-store.ts lists the kinds), then sent by OrderOutbox (order-outbox.ts) until its receiver
 * confirms it. The only code that touches the `outbox` table. Its table is the order's
 * (order-schema.ts), created by checkout: it shares OrderStore's LazySchema, so both agree on
 * whether it exists. Synchronous SQL; time is a parameter.
 */
import type { OrderStatus, WebhookEventPayload, WebhookEventV1 } from "../contracts";
import type { OrderState } from "../domain/order";
import { backoffMs } from "../platform/backoff";
import type { LazySchema } from "./sql-migrations";

/** A failed send is retried: 1 s doubling, at most 5 minutes apart. */
export const OUTBOX_BACKOFF = { baseMs: 1000, capMs: 300_000 };
/** A sent but unconfirmed message is sent again: after a minute, doubling, at most an hour apart. */
export const CONFIRM_BACKOFF = { baseMs: 60_000, capMs: 3_600_000 };

export type OutboxKind = "archive" | "refund" | "registry" | "event";

/** A message waiting to be sent, or to be confirmed. */
export interface OutboxMessage {
  seq: number;
  kind: OutboxKind;
  key: string;
  body: string;
  attempts: number;
}

/** The registry entry of a paid order (body of a `registry` message). */
export interface RegistryEntry {
  order_id: string;
  cart_id: string;
  status: OrderStatus;
  paid_at: number;
  total_amount: number;
  currency: string;
  archived_at: number | null;
}

/** The registry entry of a paid `order`, archived at `archivedAt` (null: not yet). */
export function registryEntry(order: OrderState, archivedAt: number | null): RegistryEntry {
  return {
    order_id: order.order_id,
    cart_id: order.cart_id,
    status: order.status,
    paid_at: order.paid_at!,
    total_amount: order.total_amount,
    currency: order.currency,
    archived_at: archivedAt,
  };
}

/** SQL access for the order's outbox (OrderStore offers the sender's methods too). */
export class OrderOutboxStore {
  constructor(
    private readonly storage: DurableObjectStorage,
    /** The order store's schema: its readiness is this store's. */
    private readonly schema: LazySchema,
  ) {}

  private get sql(): SqlStorage {
    return this.storage.sql;
  }

  /** Queues a message (call inside the transaction of the change it reports). */
  enqueue(kind: OutboxKind, key: string, body: unknown, now: number): void {
    this.sql.exec(
      "INSERT INTO outbox (kind, key, body, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?)",
      kind,
      key,
      JSON.stringify(body),
      now,
      now,
    );
  }

  /** Queues a webhook event of cart `cartId`'s order (outbox key `event:<id>`, which the fan-out confirms). */
  enqueueEvent(event: WebhookEventPayload, cartId: string, now: number): void {
    const key = `event:${event.id}`;
    const message: WebhookEventV1 = { type: "webhook.event", version: 1, event, source: { cart_id: cartId, key } };
    this.enqueue("event", key, message, now);
  }

  /** Whether a message with `key` was ever queued. */
  has(key: string): boolean {
    return this.sql.exec("SELECT 1 FROM outbox WHERE key = ?", key).toArray().length > 0;
  }

  /** Messages due at `now`: never sent, failed, or sent and still unconfirmed past their wait. */
  dueMessages(now: number): OutboxMessage[] {
    if (!this.schema.ready) return [];
    return this.sql
      .exec<OutboxMessage & Record<string, SqlStorageValue>>(
        "SELECT seq, kind, key, body, attempts FROM outbox WHERE confirmed_at IS NULL AND next_attempt_at <= ? ORDER BY seq",
        now,
      )
      .toArray();
  }

  /** A queued message went out: it waits for its receiver's confirmation, then is sent again. */
  markSent(seq: number, attempts: number, now: number): void {
    this.sql.exec(
      "UPDATE outbox SET sent_at = ?, attempts = ?, next_attempt_at = ?, last_error = NULL WHERE seq = ?",
      now,
      attempts,
      now + backoffMs(attempts, CONFIRM_BACKOFF.baseMs, CONFIRM_BACKOFF.capMs),
      seq,
    );
  }

  /** A message whose receiver answered directly (the registry) is done. */
  markDelivered(seq: number, now: number): void {
    this.sql.exec("UPDATE outbox SET sent_at = ?, confirmed_at = ?, last_error = NULL WHERE seq = ?", now, now, seq);
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

  /** Marks the message `key` confirmed by its receiver; whether it was not yet (call inside OrderStore `confirm`'s transaction). */
  markConfirmed(key: string, now: number): boolean {
    return this.sql.exec("UPDATE outbox SET confirmed_at = ? WHERE key = ? AND confirmed_at IS NULL", now, key).rowsWritten > 0;
  }

  /** Whether the order's archival was confirmed by Postgres (null before it was paid). */
  archivedAt(): number | null {
    if (!this.schema.ready) return null;
    return this.sql.exec<{ at: number | null }>("SELECT MAX(confirmed_at) AS at FROM outbox WHERE key = 'archive'").one().at;
  }

  /** When the next unconfirmed message is due, or null. */
  nextOutboxAttempt(): number | null {
    if (!this.schema.ready) return null;
    return this.sql.exec<{ next: number | null }>("SELECT MIN(next_attempt_at) AS next FROM outbox WHERE confirmed_at IS NULL").one().next;
  }
}
