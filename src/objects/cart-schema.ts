/**
 * The SQLite schema of a cart: the cart row and its lines ({@link CartStore}), its promotions,
 * destination and tax quote (CartPricingStore), and the merges it drives (CartMergeStore); the
 * order's tables are in order-schema.ts. Numbered migrations; never edit one that has shipped. A
 * new cart's first write creates the baseline instead (the schema as of the last migration, in one
 * step); a new migration goes in the list, and the baseline moves only with a test that it still
 * builds what the migrations build (test/sql-migrations.test.ts).
 */
import type { StoreSchema } from "./sql-migrations";

export const CART_SCHEMA: StoreSchema = {
  store: "cart",
  migrations: [
    {
      version: 1,
      legacyVersion: 1,
      description: "cart, lines, pending line changes",
      sql: `
      CREATE TABLE cart (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        cart_id TEXT NOT NULL,
        token_hash TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'checked_out', 'expired')),
        currency TEXT NOT NULL,
        region TEXT,
        version INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        order_id TEXT
      );
      CREATE TABLE lines (
        sku TEXT PRIMARY KEY,
        product_id TEXT NOT NULL,
        title TEXT NOT NULL,
        quantity INTEGER NOT NULL CHECK (quantity > 0),
        unit_amount INTEGER NOT NULL CHECK (unit_amount >= 0),
        added_at INTEGER NOT NULL
      );
      CREATE TABLE pending_lines (
        sku TEXT PRIMARY KEY,
        started_at INTEGER NOT NULL
      );
    `,
    },
    {
      version: 2,
      legacyVersion: 2,
      description: "the checkout in progress (its Idempotency-Key)",
      sql: "ALTER TABLE cart ADD COLUMN checkout_key TEXT;",
    },
    {
      version: 3,
      description: "lines carry their hold's expiry; no pending marks (a line is written once its hold is set)",
      sql: `
      ALTER TABLE lines ADD COLUMN hold_expires_at INTEGER;
      DROP TABLE pending_lines;
    `,
    },
    {
      version: 4,
      description: "a line whose hold reached its lifetime cap (it cannot be renewed; the cart lapses with it)",
      sql: "ALTER TABLE lines ADD COLUMN hold_final INTEGER NOT NULL DEFAULT 0;",
    },
    {
      version: 5,
      description: "promotions and tax: line categories, the destination, entered codes, the tax quote; the merged status",
      sql: `
      CREATE TABLE cart_v5 (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        cart_id TEXT NOT NULL,
        token_hash TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'checked_out', 'expired', 'merged')),
        currency TEXT NOT NULL,
        region TEXT,
        version INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        order_id TEXT,
        checkout_key TEXT,
        ship_country TEXT,
        ship_region TEXT,
        ship_postal_code TEXT,
        merged_into TEXT
      );
      INSERT INTO cart_v5 (id, cart_id, token_hash, status, currency, region, version, created_at, updated_at, expires_at, order_id, checkout_key)
        SELECT id, cart_id, token_hash, status, currency, region, version, created_at, updated_at, expires_at, order_id, checkout_key FROM cart;
      DROP TABLE cart;
      ALTER TABLE cart_v5 RENAME TO cart;
      ALTER TABLE lines ADD COLUMN category TEXT;
      CREATE TABLE promotions (
        name TEXT PRIMARY KEY,
        code TEXT,
        body TEXT NOT NULL,
        refused TEXT,
        held_until INTEGER,
        added_at INTEGER NOT NULL
      );
      CREATE TABLE tax_quote (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        key TEXT NOT NULL,
        lines TEXT NOT NULL
      );
    `,
    },
    {
      version: 6,
      description: "cart merges this cart drives (as the target): their state, plan and report",
      sql: `
      CREATE TABLE merges (
        merge_id TEXT PRIMARY KEY,
        source_id TEXT NOT NULL,
        mode TEXT NOT NULL CHECK (mode IN ('merge', 'replace')),
        state TEXT NOT NULL CHECK (state IN ('locking', 'moving', 'done', 'aborted')),
        moves TEXT,
        report TEXT,
        refusal TEXT,
        source_settled INTEGER NOT NULL DEFAULT 0,
        attempt INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
      );
    `,
    },
  ],
  baseline: {
    version: 6,
    sql: `
      CREATE TABLE cart (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        cart_id TEXT NOT NULL,
        token_hash TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'checked_out', 'expired', 'merged')),
        currency TEXT NOT NULL,
        region TEXT,
        version INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        order_id TEXT,
        checkout_key TEXT,
        ship_country TEXT,
        ship_region TEXT,
        ship_postal_code TEXT,
        merged_into TEXT
      );
      CREATE TABLE lines (
        sku TEXT PRIMARY KEY,
        product_id TEXT NOT NULL,
        title TEXT NOT NULL,
        quantity INTEGER NOT NULL CHECK (quantity > 0),
        unit_amount INTEGER NOT NULL CHECK (unit_amount >= 0),
        added_at INTEGER NOT NULL,
        hold_expires_at INTEGER,
        hold_final INTEGER NOT NULL DEFAULT 0,
        category TEXT
      );
      CREATE TABLE promotions (
        name TEXT PRIMARY KEY,
        code TEXT,
        body TEXT NOT NULL,
        refused TEXT,
        held_until INTEGER,
        added_at INTEGER NOT NULL
      );
      CREATE TABLE tax_quote (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        key TEXT NOT NULL,
        lines TEXT NOT NULL
      );
      CREATE TABLE merges (
        merge_id TEXT PRIMARY KEY,
        source_id TEXT NOT NULL,
        mode TEXT NOT NULL CHECK (mode IN ('merge', 'replace')),
        state TEXT NOT NULL CHECK (state IN ('locking', 'moving', 'done', 'aborted')),
        moves TEXT,
        report TEXT,
        refusal TEXT,
        source_settled INTEGER NOT NULL DEFAULT 0,
        attempt INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
      );
    `,
  },
};
