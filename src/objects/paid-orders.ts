/**
 * PaidOrdersObject: one per UTC day of payment (`env.PAID_ORDERS.getByName("2026-11-30")`), the
 * edge's own list of the orders paid that day and whether Postgres has confirmed each. Cart objects
 * cannot be listed, and Postgres cannot know what it never received; this registry is how the back
 * office sees the archival backlog ("paid but not yet archived, oldest first") while Postgres is
 * away. Each cart object keeps its entry current through its outbox (`registry` messages), so the
 * registry never decides anything: the cart object's own alarm is what re-sends an unconfirmed
 * order until Postgres has it.
 */
import { DurableObject } from "cloudflare:workers";
import type { OrderStatus } from "../contracts";
import type { RegistryEntry } from "./order-store";
import { LazySchema, type StoreSchema } from "./sql-migrations";

export const PAID_ORDERS_SCHEMA: StoreSchema = {
  store: "paid_orders",
  migrations: [
    {
      version: 1,
      description: "the day's paid orders and their archival",
      sql: `
        CREATE TABLE entries (
          order_id TEXT PRIMARY KEY,
          cart_id TEXT NOT NULL,
          status TEXT NOT NULL,
          paid_at INTEGER NOT NULL,
          total_amount INTEGER NOT NULL,
          currency TEXT NOT NULL,
          archived_at INTEGER
        );
        CREATE INDEX entries_unarchived ON entries (paid_at, order_id) WHERE archived_at IS NULL;
      `,
    },
  ],
};

/** A listed entry: an order paid that day and not yet confirmed by Postgres. */
export interface UnarchivedEntry {
  order_id: string;
  cart_id: string;
  status: OrderStatus;
  paid_at: number;
  total_amount: number;
  currency: string;
}

export class PaidOrdersObject extends DurableObject<Env> {
  readonly #schema: LazySchema;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#schema = new LazySchema(ctx.storage, PAID_ORDERS_SCHEMA, "entries");
    this.#schema.open();
  }

  /**
   * Records an order's entry. Idempotent and order-insensitive: a late message never undoes a
   * confirmation (the newest `archived_at` is kept).
   */
  async record(entry: RegistryEntry): Promise<void> {
    this.ctx.storage.transactionSync(() => {
      this.#schema.ensure();
      this.ctx.storage.sql.exec(
        `INSERT INTO entries (order_id, cart_id, status, paid_at, total_amount, currency, archived_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (order_id) DO UPDATE SET status = excluded.status,
           archived_at = CASE WHEN entries.archived_at IS NULL THEN excluded.archived_at ELSE MAX(entries.archived_at, COALESCE(excluded.archived_at, 0)) END`,
        entry.order_id,
        entry.cart_id,
        entry.status,
        entry.paid_at,
        entry.total_amount,
        entry.currency,
        entry.archived_at,
      );
    });
  }

  /** Orders of this day not yet confirmed by Postgres, oldest first, strictly after `after`. */
  async unarchived(limit: number, after: { paid_at: number; order_id: string } | null = null): Promise<UnarchivedEntry[]> {
    if (!this.#schema.ready) return [];
    return this.ctx.storage.sql
      .exec<UnarchivedEntry & Record<string, SqlStorageValue>>(
        `SELECT order_id, cart_id, status, paid_at, total_amount, currency FROM entries
         WHERE archived_at IS NULL AND (paid_at, order_id) > (?, ?) ORDER BY paid_at, order_id LIMIT ?`,
        after?.paid_at ?? -1,
        after?.order_id ?? "",
        limit,
      )
      .toArray();
  }
}
