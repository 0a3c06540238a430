/**
 * A cart's state in its object's SQLite database: the cart row and its lines. The only code that
 * touches these tables. The tables are created by the cart's first change, in the same commit as
 * that change: a cart that was only opened, or only read, stores nothing. Synchronous; time is a
 * parameter.
 */
import type { CartStatus, ShipTo } from "../contracts";
import type { CartLineState, CartState } from "../domain/cart";
import type { CartPromotion } from "../domain/cart-pricing";
import type { HoldMove, MergeMode, MergeReportEntry } from "../domain/merge";
import type { Promotion, RedemptionRefusal } from "../domain/promotion";
import { LazySchema, type StoreSchema } from "./sql-migrations";

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
};

interface CartRow extends Omit<CartState, "merged_into">, Record<string, SqlStorageValue> {
  token_hash: string;
  merged_into: string | null;
}

/** A merge this cart drives as the target (cart-merge.ts). */
export interface MergeRecord {
  merge_id: string;
  source_id: string;
  mode: MergeMode;
  state: "locking" | "moving" | "done" | "aborted";
  /** The planned moves, each updated with the quantity its SKU object settled on. */
  moves: Array<HoldMove & { done?: boolean }> | null;
  report: MergeReportEntry[] | null;
  /** Why it was aborted, as answered. */
  refusal: Record<string, unknown> | null;
  source_settled: boolean;
  /** How many earlier attempts of this pair were aborted: the SKU objects see one merge id per attempt. */
  attempt: number;
}

interface MergeRow extends Record<string, SqlStorageValue> {
  merge_id: string;
  source_id: string;
  mode: string;
  state: string;
  moves: string | null;
  report: string | null;
  refusal: string | null;
  source_settled: number;
  attempt: number;
}

function mergeOf(row: MergeRow): MergeRecord {
  const parse = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));
  return {
    merge_id: row.merge_id,
    source_id: row.source_id,
    mode: row.mode as MergeMode,
    state: row.state as MergeRecord["state"],
    moves: parse(row.moves),
    report: parse(row.report),
    refusal: parse(row.refusal),
    source_settled: row.source_settled === 1,
    attempt: row.attempt,
  };
}

/** A promotion the cart keeps, with when its redemption hold lapses (null: it holds none). */
export type KeptPromotion = CartPromotion & { held_until: number | null };

/** The stored cart: its state and the credential hash of an old-style token ('' for carts whose token carries claims). */
export type StoredCart = CartState & { token_hash: string };

/** A line to write: quantity 0 deletes it; the other fields are kept when omitted. */
export interface LineWrite {
  sku: string;
  quantity: number;
  product_id?: string;
  title?: string;
  unit_amount?: number;
  hold_expires_at?: number | null;
  hold_final?: boolean;
  category?: string | null;
}

/** SQL access for one cart. */
export class CartStore {
  readonly #schema: LazySchema;

  constructor(private readonly storage: DurableObjectStorage) {
    this.#schema = new LazySchema(storage, CART_SCHEMA, "cart");
    this.#schema.open();
  }

  private get sql(): SqlStorage {
    return this.storage.sql;
  }

  /** The cart row, or null while the cart was never changed. */
  cart(): StoredCart | null {
    if (!this.#schema.ready) return null;
    const row = this.sql
      .exec<CartRow>(
        "SELECT cart_id, token_hash, status, currency, region, version, created_at, expires_at, order_id, merged_into FROM cart WHERE id = 1",
      )
      .toArray()[0];
    if (!row) return null;
    return { ...row, status: row.status as CartStatus, region: row.region === "eu" ? "eu" : null, merged_into: row.merged_into ?? null };
  }

  /** Lines in the order they were first added. */
  lines(): CartLineState[] {
    if (!this.#schema.ready) return [];
    return this.sql
      .exec<Omit<CartLineState, "hold_final"> & { hold_final: number } & Record<string, SqlStorageValue>>(
        "SELECT sku, product_id, title, quantity, unit_amount, hold_expires_at, hold_final, category FROM lines ORDER BY added_at, sku",
      )
      .toArray()
      .map((line) => ({ ...line, hold_final: line.hold_final === 1 }));
  }

  /**
   * Writes a change in one transaction: the cart row (created from `cart` on the first change),
   * its lines (quantity 0 deletes), and its new status, expiry and version.
   */
  write(
    cart: StoredCart,
    lines: readonly LineWrite[],
    header: { status: CartStatus; expires_at: number; version: number },
    now: number,
    also?: () => void,
  ): void {
    this.storage.transactionSync(() => {
      this.#schema.ensure();
      this.sql.exec(
        `INSERT INTO cart (id, cart_id, token_hash, status, currency, region, version, created_at, updated_at, expires_at)
         VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, version = excluded.version, expires_at = excluded.expires_at, updated_at = excluded.updated_at`,
        cart.cart_id,
        cart.token_hash,
        header.status,
        cart.currency,
        cart.region,
        header.version,
        cart.created_at,
        now,
        header.expires_at,
      );
      for (const line of lines) {
        if (line.quantity === 0) {
          this.sql.exec("DELETE FROM lines WHERE sku = ?", line.sku);
          continue;
        }
        this.sql.exec(
          `INSERT INTO lines (sku, product_id, title, quantity, unit_amount, added_at, hold_expires_at, hold_final) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (sku) DO UPDATE SET quantity = excluded.quantity, product_id = COALESCE(?, product_id), title = COALESCE(?, title),
             unit_amount = COALESCE(?, unit_amount), hold_expires_at = CASE WHEN ? THEN excluded.hold_expires_at ELSE hold_expires_at END,
             hold_final = COALESCE(?, hold_final)`,
          line.sku,
          line.product_id ?? "",
          line.title ?? line.sku,
          line.quantity,
          line.unit_amount ?? 0,
          now,
          line.hold_expires_at ?? null,
          line.hold_final ? 1 : 0,
          line.product_id ?? null,
          line.title ?? null,
          line.unit_amount ?? null,
          line.hold_expires_at !== undefined ? 1 : 0,
          line.hold_final === undefined ? null : line.hold_final ? 1 : 0,
        );
        if (line.category !== undefined) this.sql.exec("UPDATE lines SET category = ? WHERE sku = ?", line.category, line.sku);
      }
      also?.();
    });
  }

  /** The promotions the cart keeps: entered codes (in the order entered) and automatic promotions it read at checkout. */
  promotions(): KeptPromotion[] {
    if (!this.#schema.ready) return [];
    return this.sql
      .exec<{ name: string; code: string | null; body: string; refused: string | null; held_until: number | null }>(
        "SELECT name, code, body, refused, held_until FROM promotions ORDER BY added_at, name",
      )
      .toArray()
      .map((row) => ({
        name: row.name,
        code: row.code,
        promotion: JSON.parse(row.body) as Promotion,
        refused: row.refused as RedemptionRefusal | null,
        held_until: row.held_until,
      }));
  }

  /** Keeps (or updates) a promotion; call inside `write`'s `also`, or alone for a change that is not the cart's. */
  keepPromotion(kept: KeptPromotion, now: number): void {
    this.sql.exec(
      `INSERT INTO promotions (name, code, body, refused, held_until, added_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET body = excluded.body, refused = excluded.refused, held_until = excluded.held_until`,
      kept.name,
      kept.code,
      JSON.stringify(kept.promotion),
      kept.refused,
      kept.held_until,
      now,
    );
  }

  dropPromotion(name: string): void {
    this.sql.exec("DELETE FROM promotions WHERE name = ?", name);
  }

  /** Records a redemption hold's new expiry (the alarm renewed it). */
  redemptionRenewed(name: string, heldUntil: number): void {
    this.sql.exec("UPDATE promotions SET held_until = ? WHERE name = ?", heldUntil, name);
  }

  /** A merge this cart drives, by id, or null. */
  mergeRecord(mergeId: string): MergeRecord | null {
    if (!this.#schema.ready) return null;
    const row = this.sql.exec<MergeRow>("SELECT * FROM merges WHERE merge_id = ?", mergeId).toArray()[0];
    return row ? mergeOf(row) : null;
  }

  /** Merges still owed work: unfinished, or finished with the source not yet told. */
  pendingMerges(): MergeRecord[] {
    if (!this.#schema.ready) return [];
    return this.sql
      .exec<MergeRow>(
        "SELECT * FROM merges WHERE state IN ('locking', 'moving') OR (state = 'done' AND source_settled = 0) ORDER BY created_at",
      )
      .toArray()
      .map(mergeOf);
  }

  /** Writes a merge's record (call inside `write`'s `also` when it goes with a cart change). */
  saveMerge(record: MergeRecord, now: number): void {
    this.sql.exec(
      `INSERT INTO merges (merge_id, source_id, mode, state, moves, report, refusal, source_settled, attempt, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (merge_id) DO UPDATE SET mode = excluded.mode, state = excluded.state, moves = excluded.moves, report = excluded.report, refusal = excluded.refusal,
         source_settled = excluded.source_settled, attempt = excluded.attempt`,
      record.merge_id,
      record.source_id,
      record.mode,
      record.state,
      record.moves === null ? null : JSON.stringify(record.moves),
      record.report === null ? null : JSON.stringify(record.report),
      record.refusal === null ? null : JSON.stringify(record.refusal),
      record.source_settled ? 1 : 0,
      record.attempt,
      now,
    );
  }

  /** Marks the cart merged into `targetId` (it takes no more writes), or back from it (`null`: `status` again). */
  setMerged(targetId: string | null, status: CartStatus, version: number, now: number): void {
    this.sql.exec("UPDATE cart SET merged_into = ?, status = ?, version = ?, updated_at = ? WHERE id = 1", targetId, status, version, now);
  }

  /** Drops every line (their holds moved to the merge's target). */
  dropLines(): void {
    this.sql.exec("DELETE FROM lines");
  }

  /** Where the goods go, or null before the shopper said. */
  shipTo(): ShipTo | null {
    if (!this.#schema.ready) return null;
    const row = this.sql
      .exec<{ ship_country: string | null; ship_region: string | null; ship_postal_code: string | null }>(
        "SELECT ship_country, ship_region, ship_postal_code FROM cart WHERE id = 1",
      )
      .toArray()[0];
    return row?.ship_country ? { country: row.ship_country, region: row.ship_region, postal_code: row.ship_postal_code } : null;
  }

  /** Sets the destination; call inside `write`'s `also`. */
  setShipTo(shipTo: ShipTo): void {
    this.sql.exec(
      "UPDATE cart SET ship_country = ?, ship_region = ?, ship_postal_code = ? WHERE id = 1",
      shipTo.country,
      shipTo.region,
      shipTo.postal_code,
    );
  }

  /** The tax service's answer cached under `key` (one cart version and request), or null. */
  taxQuote(key: string): Array<{ sku: string; tax: number }> | null {
    if (!this.#schema.ready) return null;
    const row = this.sql.exec<{ lines: string }>("SELECT lines FROM tax_quote WHERE id = 1 AND key = ?", key).toArray()[0];
    return row ? (JSON.parse(row.lines) as Array<{ sku: string; tax: number }>) : null;
  }

  /** Caches the tax service's answer; only the newest is kept. */
  saveTaxQuote(key: string, lines: ReadonlyArray<{ sku: string; tax: number }>): void {
    if (!this.#schema.ready) return;
    this.sql.exec(
      "INSERT INTO tax_quote (id, key, lines) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET key = excluded.key, lines = excluded.lines",
      key,
      JSON.stringify(lines),
    );
  }

  /** Records renewed line holds (their new expiries, and whether they reached their cap) and the cart's expiry they allow. */
  renewed(holds: ReadonlyArray<{ sku: string; hold_expires_at: number; hold_final: boolean }>, expiresAt: number): void {
    this.storage.transactionSync(() => {
      for (const hold of holds)
        this.sql.exec(
          "UPDATE lines SET hold_expires_at = ?, hold_final = ? WHERE sku = ?",
          hold.hold_expires_at,
          hold.hold_final ? 1 : 0,
          hold.sku,
        );
      this.sql.exec("UPDATE cart SET expires_at = MIN(expires_at, ?) WHERE id = 1", expiresAt);
    });
  }

  /** Remembers that checkout `key` has extended the holds and is about to place the order (null: none). */
  markCheckoutStarted(key: string | null): void {
    this.sql.exec("UPDATE cart SET checkout_key = ? WHERE id = 1", key);
  }

  /** The checkout in progress (holds extended, order not yet placed), if any. */
  checkoutInProgress(): string | null {
    if (!this.#schema.ready) return null;
    return this.sql.exec<{ checkout_key: string | null }>("SELECT checkout_key FROM cart WHERE id = 1").toArray()[0]?.checkout_key ?? null;
  }

  /** Closes the cart for the order placed from it (part of checkout's commit point; the caller wraps both in one transaction). */
  close(orderId: string, version: number, now: number): void {
    this.sql.exec(
      "UPDATE cart SET status = 'checked_out', order_id = ?, checkout_key = NULL, version = ?, updated_at = ? WHERE id = 1",
      orderId,
      version,
      now,
    );
  }
}
