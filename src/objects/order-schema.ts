/**
 * The SQLite schema of the order a cart places (owned by {@link OrderStore}; docs/storage.md
 * describes each table). Numbered migrations; never edit one that has shipped; a new order's
 * tables are created from the baseline (the schema as of the last migration) in one step. Messages sent
 * before version 2 count as unconfirmed, so they are sent again once: their receivers are
 * idempotent, and an order lost to the old "sent is done" rule reaches Postgres after all.
 */
import type { StoreSchema } from "./sql-migrations";

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
    {
      version: 2,
      description: "paid_unfulfillable orders; outbox messages of several kinds, each confirmed by its receiver",
      sql: `
      CREATE TABLE orders_v2 (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        order_id TEXT NOT NULL,
        cart_id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending_payment', 'paid', 'paid_unfulfillable', 'cancelled', 'expired')),
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
      INSERT INTO orders_v2 (id, order_id, cart_id, status, email, currency, total_amount, checkout_key, created_at, payment_expires_at, paid_at, payment_id, holds_released)
        SELECT id, order_id, cart_id, status, email, currency, total_amount, checkout_key, created_at, payment_expires_at, paid_at, payment_id, holds_released FROM orders;
      DROP TABLE orders;
      ALTER TABLE orders_v2 RENAME TO orders;
      ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'archive' CHECK (kind IN ('archive', 'refund', 'registry'));
      ALTER TABLE outbox ADD COLUMN key TEXT NOT NULL DEFAULT 'archive';
      ALTER TABLE outbox ADD COLUMN confirmed_at INTEGER;
    `,
    },
    {
      version: 3,
      description: "discounts and tax: the order's pricing, each line's share, and whether its promotion redemptions were settled",
      sql: `
      ALTER TABLE orders ADD COLUMN pricing TEXT;
      ALTER TABLE orders ADD COLUMN redemptions_settled INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE order_lines ADD COLUMN discount_amount INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE order_lines ADD COLUMN tax_amount INTEGER NOT NULL DEFAULT 0;
    `,
    },
    {
      version: 4,
      description: "outbox messages of kind event: the order's webhook events (paid, cancelled, expired, refund due)",
      sql: `
      CREATE TABLE outbox_v4 (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        sent_at INTEGER,
        last_error TEXT,
        kind TEXT NOT NULL DEFAULT 'archive' CHECK (kind IN ('archive', 'refund', 'registry', 'event')),
        key TEXT NOT NULL DEFAULT 'archive',
        confirmed_at INTEGER
      );
      INSERT INTO outbox_v4 (seq, body, created_at, attempts, next_attempt_at, sent_at, last_error, kind, key, confirmed_at)
        SELECT seq, body, created_at, attempts, next_attempt_at, sent_at, last_error, kind, key, confirmed_at FROM outbox;
      DROP TABLE outbox;
      ALTER TABLE outbox_v4 RENAME TO outbox;
    `,
    },
  ],
  baseline: {
    version: 4,
    sql: `
      CREATE TABLE orders (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        order_id TEXT NOT NULL,
        cart_id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending_payment', 'paid', 'paid_unfulfillable', 'cancelled', 'expired')),
        email TEXT NOT NULL,
        currency TEXT NOT NULL,
        total_amount INTEGER NOT NULL CHECK (total_amount >= 0),
        checkout_key TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        payment_expires_at INTEGER NOT NULL,
        paid_at INTEGER,
        payment_id TEXT,
        holds_released INTEGER NOT NULL DEFAULT 0,
        pricing TEXT,
        redemptions_settled INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE order_lines (
        sku TEXT PRIMARY KEY,
        product_id TEXT NOT NULL,
        title TEXT NOT NULL,
        quantity INTEGER NOT NULL CHECK (quantity > 0),
        unit_amount INTEGER NOT NULL CHECK (unit_amount >= 0),
        discount_amount INTEGER NOT NULL DEFAULT 0,
        tax_amount INTEGER NOT NULL DEFAULT 0
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
        last_error TEXT,
        kind TEXT NOT NULL DEFAULT 'archive' CHECK (kind IN ('archive', 'refund', 'registry', 'event')),
        key TEXT NOT NULL DEFAULT 'archive',
        confirmed_at INTEGER
      );
    `,
  },
};
