/**
 * The SKU object's state in its SQLite database: stock levels, live holds and the append-only
 * movement ledger. Every mutation is one synchronous transaction (no await between read and
 * write), which together with the object's single-threaded input gate serialises reservations.
 * Time is a parameter (`now`, ms since epoch) so tests can drive expiry exactly.
 */
import { type Hold, type InventoryLevelV1, type InventorySnapshot, MAX_LISTED_HOLDS, type SkuPricing, type StockLevels } from "../contracts";
import { decideHold, type HoldLimits, type InventoryRefusal, type LedgerCheck, ledgerAgrees, levels, type Ok, planOnHand } from "../domain/inventory";
import { backoffMs } from "../platform/backoff";
import type { StoreSchema } from "./sql-migrations";

/** Level report retries: 1 s doubling, at most a minute apart. */
export const LEVEL_REPORT_BACKOFF = { baseMs: 1000, capMs: 60_000 };

/** Schema of an InventoryObject (docs/storage.md describes each table). */
export const INVENTORY_SCHEMA: StoreSchema = {
  store: "inventory",
  migrations: [
  {
    version: 1,
    legacyVersion: 1,
    description: "stock, holds, ledger",
    sql: `
      CREATE TABLE stock (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        sku TEXT NOT NULL,
        on_hand INTEGER NOT NULL CHECK (on_hand >= 0),
        reserved INTEGER NOT NULL CHECK (reserved >= 0),
        sold INTEGER NOT NULL DEFAULT 0 CHECK (sold >= 0),
        CHECK (reserved <= on_hand)
      );
      CREATE TABLE holds (
        hold_id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        quantity INTEGER NOT NULL CHECK (quantity > 0),
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX holds_expires_at ON holds (expires_at);
      CREATE TABLE committed_holds (
        hold_id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        committed_at INTEGER NOT NULL
      );
      CREATE TABLE ledger (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('set', 'adjust', 'hold', 'release', 'expire', 'commit')),
        hold_id TEXT,
        operation_id TEXT UNIQUE,
        on_hand_delta INTEGER NOT NULL,
        reserved_delta INTEGER NOT NULL,
        reason TEXT
      );
    `,
  },
  {
    version: 2,
    legacyVersion: 2,
    description: "catalog entry pushed from Postgres",
    sql: `
      CREATE TABLE catalog (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        product_id TEXT NOT NULL,
        title TEXT NOT NULL,
        price_amount INTEGER NOT NULL CHECK (price_amount >= 0),
        currency TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('active', 'archived')),
        max_line_quantity INTEGER,
        version INTEGER NOT NULL
      );
    `,
  },
  {
    version: 3,
    legacyVersion: 3,
    description: "reporting of stock levels to Postgres",
    sql: `
      CREATE TABLE level_reports (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        reported_seq INTEGER NOT NULL DEFAULT 0,
        due_at INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0
      );
      INSERT INTO level_reports (id) VALUES (1);
    `,
  },
  ],
};

/** Stock levels reported to Postgres at most this often per SKU (changes in between coalesce). */
export const LEVEL_REPORT_DELAY_MS = 1000;

type LedgerKind = "set" | "adjust" | "hold" | "release" | "expire" | "commit";

interface StockRow extends Record<string, SqlStorageValue> {
  on_hand: number;
  reserved: number;
  sold: number;
}
interface CatalogRow extends Record<string, SqlStorageValue> {
  product_id: string;
  title: string;
  price_amount: number;
  currency: string;
  status: string;
  max_line_quantity: number | null;
  version: number;
}
interface HoldRow extends Record<string, SqlStorageValue> {
  hold_id: string;
  owner_id: string;
  quantity: number;
  expires_at: number;
}

/** A SKU's levels as sent to Postgres (queue `edgecart-inventory`). */
export type LevelReport = InventoryLevelV1;

/** Stock levels, the held quantity after the call, the hold's expiry and the SKU's pricing. */
export type HoldOutcome = Ok<StockLevels & { quantity: number; expires_at: string | null; item: SkuPricing | null }>;


/** State access for one SKU. Construct after the migrations ran. */
export class InventoryStore {
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly sku: string,
  ) {}

  private get sql(): SqlStorage {
    return this.storage.sql;
  }

  /** Current stock row, or null for a SKU never stocked. */
  private stock(): StockRow | null {
    return this.sql.exec<StockRow>("SELECT on_hand, reserved, sold FROM stock WHERE id = 1").toArray()[0] ?? null;
  }

  private stockOrZero(): StockRow {
    return this.stock() ?? { on_hand: 0, reserved: 0, sold: 0 };
  }

  private ensureStock(): void {
    this.sql.exec("INSERT OR IGNORE INTO stock (id, sku, on_hand, reserved, sold) VALUES (1, ?, 0, 0, 0)", this.sku);
  }

  private record(now: number, kind: LedgerKind, onHandDelta: number, reservedDelta: number, extra: { holdId?: string; operationId?: string; reason?: string } = {}): void {
    this.sql.exec(
      "INSERT INTO ledger (at, kind, hold_id, operation_id, on_hand_delta, reserved_delta, reason) VALUES (?, ?, ?, ?, ?, ?, ?)",
      now,
      kind,
      extra.holdId ?? null,
      extra.operationId ?? null,
      onHandDelta,
      reservedDelta,
      extra.reason ?? null,
    );
    if (onHandDelta !== 0 || reservedDelta !== 0) {
      this.sql.exec(
        "UPDATE stock SET on_hand = on_hand + ?, reserved = reserved + ?, sold = sold + ? WHERE id = 1",
        onHandDelta,
        reservedDelta,
        kind === "commit" ? -onHandDelta : 0,
      );
    }
  }

  private holdRow(holdId: string): HoldRow | null {
    return this.sql.exec<HoldRow>("SELECT hold_id, owner_id, quantity, expires_at FROM holds WHERE hold_id = ?", holdId).toArray()[0] ?? null;
  }

  private levels(): StockLevels {
    const stock = this.stockOrZero();
    return levels(stock.on_hand, stock.reserved);
  }

  /** True once the SKU was ever stocked or defined. */
  exists(): boolean {
    return this.stock() !== null;
  }

  /** The SKU's catalog entry (pushed by the catalog publisher), or null when never defined. */
  pricing(): SkuPricing | null {
    const row = this.sql.exec<CatalogRow>("SELECT * FROM catalog WHERE id = 1").toArray()[0];
    if (!row) return null;
    return {
      sku: this.sku,
      product_id: row.product_id,
      title: row.title,
      price: { amount: row.price_amount, currency: row.currency },
      status: row.status === "active" ? "active" : "archived",
      max_line_quantity: row.max_line_quantity,
      version: row.version,
    };
  }

  /**
   * Stores the SKU's catalog entry unless a newer version is already here (publishes may race or
   * be retried). Defining a SKU makes it exist with 0 on hand. Returns the entry now in force.
   */
  define(entry: SkuPricing): SkuPricing {
    return this.storage.transactionSync(() => {
      const current = this.pricing();
      if (current === null || current.version <= entry.version) {
        this.sql.exec(
          `INSERT INTO catalog (id, product_id, title, price_amount, currency, status, max_line_quantity, version)
           VALUES (1, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET product_id = excluded.product_id, title = excluded.title,
             price_amount = excluded.price_amount, currency = excluded.currency, status = excluded.status,
             max_line_quantity = excluded.max_line_quantity, version = excluded.version`,
          entry.product_id,
          entry.title,
          entry.price.amount,
          entry.price.currency,
          entry.status,
          entry.max_line_quantity,
          entry.version,
        );
        this.ensureStock();
      }
      return this.pricing()!;
    });
  }

  /**
   * Releases every hold whose expiry has passed (ledger `expire` rows). Runs at the start of each
   * operation so expired stock is back exactly on time even when the alarm is late; the alarm
   * covers idle objects. Returns how many holds expired.
   */
  expireDue(now: number): number {
    return this.storage.transactionSync(() => {
      const due = this.sql.exec<HoldRow>("SELECT hold_id, owner_id, quantity, expires_at FROM holds WHERE expires_at <= ? ORDER BY expires_at", now).toArray();
      for (const hold of due) {
        this.sql.exec("DELETE FROM holds WHERE hold_id = ?", hold.hold_id);
        this.record(now, "expire", 0, -hold.quantity, { holdId: hold.hold_id });
      }
      return due.length;
    });
  }

  /** The earliest live hold expiry (ms), for arming the alarm; null when there are no holds. */
  nextExpiry(): number | null {
    return this.sql.exec<{ next: number | null }>("SELECT MIN(expires_at) AS next FROM holds").one().next;
  }

  /** Sets on_hand to exactly `onHand`; refused below what is reserved or for a SKU in no product. Idempotent. */
  setOnHand(onHand: number, now: number): Ok<StockLevels> | InventoryRefusal {
    this.expireDue(now);
    return this.storage.transactionSync(() => {
      if (this.pricing() === null) return { ok: false as const, reason: "unknown_sku" as const };
      const stock = this.stockOrZero();
      const plan = planOnHand(stock, onHand);
      if (!plan.ok) return plan;
      this.ensureStock();
      if (onHand !== stock.on_hand) this.record(now, "set", onHand - stock.on_hand, 0);
      return { ok: true, ...this.levels() };
    });
  }

  /**
   * Changes on_hand by `delta` with a reason; refused below what is reserved. `operationId`
   * makes a retried call a no-op (the second call reports the current levels).
   */
  adjust(delta: number, reason: string, operationId: string, now: number): Ok<StockLevels & { duplicate: boolean }> | InventoryRefusal {
    this.expireDue(now);
    return this.storage.transactionSync(() => {
      if (this.pricing() === null) return { ok: false as const, reason: "unknown_sku" as const };
      if (this.sql.exec("SELECT 1 FROM ledger WHERE operation_id = ?", operationId).toArray().length > 0) {
        return { ok: true as const, duplicate: true, ...this.levels() };
      }
      const stock = this.stockOrZero();
      const plan = planOnHand(stock, stock.on_hand + delta);
      if (!plan.ok) return plan;
      this.ensureStock();
      this.record(now, "adjust", delta, 0, { operationId, reason });
      return { ok: true as const, duplicate: false, ...this.levels() };
    });
  }

  /**
   * Sets hold `holdId` to exactly `quantity` units (create, grow, shrink; 0 releases it), expiring
   * `ttlMs` from `now`. All or nothing: on shortage nothing changes. A retried call with the same
   * quantity changes no stock (it only refreshes the expiry).
   */
  hold(holdId: string, ownerId: string, quantity: number, ttlMs: number, now: number, limits: HoldLimits = {}): HoldOutcome | InventoryRefusal {
    this.expireDue(now);
    return this.storage.transactionSync(() => {
      const existing = this.holdRow(holdId);
      const item = this.pricing();
      const decision = decideHold({ stock: this.stockOrZero(), item, existing, committed: this.isCommitted(holdId) }, ownerId, quantity, limits);
      if (!decision.ok) return decision;
      if (quantity === 0) {
        if (existing) this.releaseRow(existing, "release", now);
        return { ok: true as const, quantity: 0, expires_at: null, item, ...this.levels() };
      }
      const expiresAt = now + ttlMs;
      if (existing) this.sql.exec("UPDATE holds SET quantity = ?, expires_at = ? WHERE hold_id = ?", quantity, expiresAt, holdId);
      else this.sql.exec("INSERT INTO holds (hold_id, owner_id, quantity, expires_at) VALUES (?, ?, ?, ?)", holdId, ownerId, quantity, expiresAt);
      if (decision.delta !== 0) this.record(now, "hold", 0, decision.delta, { holdId });
      return { ok: true as const, quantity, expires_at: new Date(expiresAt).toISOString(), item, ...this.levels() };
    });
  }

  private isCommitted(holdId: string): boolean {
    return this.sql.exec("SELECT 1 FROM committed_holds WHERE hold_id = ?", holdId).toArray().length > 0;
  }

  private releaseRow(hold: HoldRow, kind: "release" | "expire", now: number): void {
    this.sql.exec("DELETE FROM holds WHERE hold_id = ?", hold.hold_id);
    this.record(now, kind, 0, -hold.quantity, { holdId: hold.hold_id });
  }

  /** Releases a hold; releasing one that is gone is a no-op. */
  release(holdId: string, now: number): Ok<StockLevels & { released: number }> {
    this.expireDue(now);
    return this.storage.transactionSync(() => {
      const existing = this.holdRow(holdId);
      if (existing) this.releaseRow(existing, "release", now);
      return { ok: true as const, released: existing?.quantity ?? 0, ...this.levels() };
    });
  }

  /** A live hold's quantity (0 when there is none) with the SKU's pricing, for reconciliation. */
  holdOf(holdId: string, now: number): { quantity: number; expires_at: string | null; item: SkuPricing | null } {
    this.expireDue(now);
    const hold = this.holdRow(holdId);
    return { quantity: hold?.quantity ?? 0, expires_at: hold ? new Date(hold.expires_at).toISOString() : null, item: this.pricing() };
  }

  /** Moves a live hold's expiry to `now + ttlMs`. */
  extend(holdId: string, ttlMs: number, now: number): Ok<{ expires_at: string; quantity: number }> | InventoryRefusal {
    this.expireDue(now);
    return this.storage.transactionSync(() => {
      const existing = this.holdRow(holdId);
      if (!existing) return { ok: false as const, reason: this.isCommitted(holdId) ? ("hold_committed" as const) : ("hold_not_found" as const) };
      const expiresAt = now + ttlMs;
      this.sql.exec("UPDATE holds SET expires_at = ? WHERE hold_id = ?", expiresAt, holdId);
      return { ok: true as const, quantity: existing.quantity, expires_at: new Date(expiresAt).toISOString() };
    });
  }

  /**
   * Sells the held units: on_hand and reserved both drop by the hold's quantity. Idempotent: a
   * retried commit reports the same quantity and changes nothing.
   */
  commit(holdId: string, now: number): Ok<StockLevels & { quantity: number; duplicate: boolean }> | InventoryRefusal {
    this.expireDue(now);
    return this.storage.transactionSync(() => {
      const done = this.sql.exec<{ quantity: number }>("SELECT quantity FROM committed_holds WHERE hold_id = ?", holdId).toArray()[0];
      if (done) return { ok: true as const, quantity: done.quantity, duplicate: true, ...this.levels() };
      const existing = this.holdRow(holdId);
      if (!existing) return { ok: false as const, reason: "hold_not_found" as const };
      this.sql.exec("DELETE FROM holds WHERE hold_id = ?", holdId);
      this.sql.exec("INSERT INTO committed_holds (hold_id, owner_id, quantity, committed_at) VALUES (?, ?, ?, ?)", holdId, existing.owner_id, existing.quantity, now);
      this.record(now, "commit", -existing.quantity, -existing.quantity, { holdId });
      return { ok: true as const, quantity: existing.quantity, duplicate: false, ...this.levels() };
    });
  }

  /** The SKU's stock and live holds (earliest expiry first), or null if it was never stocked. */
  snapshot(now: number): InventorySnapshot | null {
    this.expireDue(now);
    if (!this.exists()) return null;
    const holds = this.sql
      .exec<HoldRow>("SELECT hold_id, owner_id, quantity, expires_at FROM holds ORDER BY expires_at, hold_id LIMIT ?", MAX_LISTED_HOLDS)
      .toArray()
      .map((h): Hold => ({ hold_id: h.hold_id, owner_id: h.owner_id, quantity: h.quantity, expires_at: new Date(h.expires_at).toISOString() }));
    const total = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM holds").one().n;
    return { sku: this.sku, ...this.levels(), holds, holds_total: total };
  }

  /** The SKU's current levels with its ledger position, as reported to Postgres. */
  levelReport(now: number): LevelReport | null {
    const stock = this.stock();
    if (stock === null) return null;
    return {
      type: "inventory.level",
      version: 1,
      sku: this.sku,
      ...levels(stock.on_hand, stock.reserved),
      sold: stock.sold,
      ledger_seq: this.lastSeq(),
      reported_at: new Date(now).toISOString(),
    };
  }

  private lastSeq(): number {
    return this.sql.exec<{ seq: number | null }>("SELECT MAX(seq) AS seq FROM ledger").one().seq ?? 0;
  }

  /**
   * Schedules a level report when the ledger moved past what was reported, coalescing bursts:
   * at most one report per {@link LEVEL_REPORT_DELAY_MS}. Returns when it is due, or null.
   */
  scheduleLevelReport(now: number): number | null {
    const state = this.sql.exec<{ reported_seq: number; due_at: number | null }>("SELECT reported_seq, due_at FROM level_reports WHERE id = 1").one();
    if (state.due_at !== null) return state.due_at;
    if (this.lastSeq() <= state.reported_seq) return null;
    const due = now + LEVEL_REPORT_DELAY_MS;
    this.sql.exec("UPDATE level_reports SET due_at = ? WHERE id = 1", due);
    return due;
  }

  /** When the next level report is due (null when nothing is pending). */
  levelReportDue(): number | null {
    return this.sql.exec<{ due_at: number | null }>("SELECT due_at FROM level_reports WHERE id = 1").one().due_at;
  }

  /** Records a delivered report; anything newer is scheduled again by the next call. */
  markLevelReported(seq: number): void {
    this.sql.exec("UPDATE level_reports SET reported_seq = MAX(reported_seq, ?), due_at = NULL, attempts = 0 WHERE id = 1", seq);
  }

  /** Records a failed report: retried with backoff (1 s doubling, at most 60 s). */
  markLevelReportFailed(now: number): void {
    const { attempts } = this.sql.exec<{ attempts: number }>("SELECT attempts FROM level_reports WHERE id = 1").one();
    this.sql.exec("UPDATE level_reports SET attempts = ?, due_at = ? WHERE id = 1", attempts + 1, now + backoffMs(attempts + 1, LEVEL_REPORT_BACKOFF.baseMs, LEVEL_REPORT_BACKOFF.capMs));
  }

  /** Recomputes on_hand, reserved and sold from the ledger and checks them against the state. */
  verify(): LedgerCheck {
    const stock = this.stockOrZero();
    const sums = this.sql
      .exec<{ on_hand: number | null; reserved: number | null; sold: number | null }>(
        "SELECT SUM(on_hand_delta) AS on_hand, SUM(reserved_delta) AS reserved, -SUM(CASE WHEN kind = 'commit' THEN on_hand_delta ELSE 0 END) AS sold FROM ledger",
      )
      .one();
    const held = this.sql.exec<{ n: number | null }>("SELECT SUM(quantity) AS n FROM holds").one().n ?? 0;
    const check = {
      on_hand: stock.on_hand,
      reserved: stock.reserved,
      sold: stock.sold,
      ledger_on_hand: sums.on_hand ?? 0,
      ledger_reserved: sums.reserved ?? 0,
      ledger_sold: sums.sold ?? 0,
      holds_reserved: held,
    };
    const ok = ledgerAgrees(check);
    return { ok, ...check };
  }
}
