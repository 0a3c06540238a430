/**
 * The SKU object's state: stock levels, live holds, the catalog entry and the append-only movement
 * ledger, in SQLite (inventory-schema.ts) and mirrored in memory. The object is single-threaded,
 * so the memory copy is exact: reads cost no SQL. One hold's change is one SQL statement
 * (`changeHold`: the view hold_changes and the ledger's trigger, which moves the stock row; schema
 * step 8); rarer changes are one transaction (`commitRows`). Either way it is synchronous (no
 * await between read and write) and memory changes only after it succeeded; if a commit ever
 * fails, the runtime resets the object and the next instance loads from SQLite. Time is a
 * parameter (`now`, ms since epoch).
 *
 * The schema is created on the first write: reading a SKU that was never defined or stocked
 * (an unknown name on the public availability route) creates nothing.
 */
import type { InventoryLevelV1, SkuPricing, StockLevels } from "../contracts";
import { type LedgerCheck, levels, type Ok } from "../domain/inventory";
import { backoffMs } from "../platform/backoff";
import { HoldMap } from "./hold-map";
import { appendLedger, type LedgerEntry, type LedgerKind, verifyLedger } from "./inventory-ledger";
import { INVENTORY_SCHEMA } from "./inventory-schema";
import { hasSchema, runSqlMigrations } from "./sql-migrations";

/** Stock levels reported to Postgres at most this often per SKU (changes in between coalesce). */
export const LEVEL_REPORT_DELAY_MS = 1000;

/** Level report retries: 1 s doubling, at most a minute apart. */
export const LEVEL_REPORT_BACKOFF = { baseMs: 1000, capMs: 60_000 };

export type { LedgerKind } from "./inventory-ledger";

export interface Stock {
  on_hand: number;
  reserved: number;
  sold: number;
}
export interface HoldRow extends Record<string, SqlStorageValue> {
  hold_id: string;
  owner_id: string;
  quantity: number;
  expires_at: number;
  /** When the hold was first taken (null: taken before this was recorded). */
  held_since: number | null;
  /** A hash of the client that holds it (null: none given). */
  client: string | null;
}
interface CatalogRow extends Record<string, SqlStorageValue> {
  product_id: string;
  title: string;
  price_amount: number;
  currency: string;
  status: string;
  max_line_quantity: number | null;
  version: number;
  category: string | null;
}

/** A SKU's levels as sent to Postgres (queue `edgecart-inventory`). */
export type LevelReport = InventoryLevelV1;

/** Stock levels, the held quantity after the call, the hold's expiry and the SKU's pricing. */
export type HoldOutcome = Ok<StockLevels & { quantity: number; expires_at: string | null; item: SkuPricing | null; capped: boolean }>;

/** RFC 3339 of a time in ms. */
export const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The state behind {@link InventoryStore}: memory, loading, the two ways a change is written (one
 * statement for a hold, one transaction for the rest), the expiry sweep, level reports and the
 * ledger check. The operations are in the subclass (inventory-store.ts).
 */
export class InventoryState {
  protected ready = false;
  /** null until the SKU is defined or stocked. */
  protected stock: Stock | null = null;
  protected item: SkuPricing | null = null;
  protected readonly holds = new HoldMap<HoldRow>();
  /** The earliest live hold expiry (exact), null without holds. */
  protected earliest: number | null = null;
  protected lastSeq = 0;
  protected reportedSeq = 0;
  protected reportDue: number | null = null;
  protected reportAttempts = 0;
  /** Units sold before the last restore (reported to Postgres on top of `sold`). */
  protected soldBase = 0;

  constructor(
    private readonly storage: DurableObjectStorage,
    protected readonly sku: string,
  ) {
    if (hasSchema(storage)) this.load();
  }

  protected get sql(): SqlStorage {
    return this.storage.sql;
  }

  /** Migrates and reads everything into memory. */
  protected load(): void {
    runSqlMigrations(this.storage, [INVENTORY_SCHEMA]);
    this.ready = true;
    const stock = this.sql
      .exec<Stock & Record<string, SqlStorageValue>>("SELECT on_hand, reserved, sold FROM stock WHERE id = 1")
      .toArray()[0];
    this.stock = stock ? { on_hand: stock.on_hand, reserved: stock.reserved, sold: stock.sold } : null;
    const row = this.sql.exec<CatalogRow>("SELECT * FROM catalog WHERE id = 1").toArray()[0];
    this.item = row ? this.pricingOf(row) : null;
    for (const hold of this.sql.exec<HoldRow>("SELECT hold_id, owner_id, quantity, expires_at, held_since, client FROM holds").toArray())
      this.holds.set(hold.hold_id, hold);
    this.earliest = this.earliestExpiry();
    this.lastSeq = this.sql.exec<{ seq: number | null }>("SELECT MAX(seq) AS seq FROM ledger").one().seq ?? 0;
    const report = this.sql
      .exec<{ reported_seq: number; attempts: number; due_at: number | null; sold_base: number }>(
        "SELECT reported_seq, attempts, due_at, sold_base FROM level_reports WHERE id = 1",
      )
      .one();
    this.soldBase = report.sold_base;
    this.reportedSeq = report.reported_seq;
    this.reportAttempts = report.attempts;
    this.reportDue = report.due_at;
  }

  /** Creates the schema on the first write. */
  protected ensureSchema(): void {
    if (!this.ready) this.load();
  }

  protected pricingOf(row: CatalogRow): SkuPricing {
    return {
      sku: this.sku,
      product_id: row.product_id,
      title: row.title,
      price: { amount: row.price_amount, currency: row.currency },
      status: row.status === "active" ? "active" : "archived",
      max_line_quantity: row.max_line_quantity,
      version: row.version,
      category: row.category,
    };
  }

  protected earliestExpiry(): number | null {
    return this.holds.size === 0 ? null : this.sql.exec<{ next: number | null }>("SELECT MIN(expires_at) AS next FROM holds").one().next;
  }

  protected currentLevels(): StockLevels {
    const stock = this.stock ?? { on_hand: 0, reserved: 0 };
    return levels(stock.on_hand, stock.reserved);
  }

  /**
   * Runs `write` (synchronous SQL) in one transaction with a ledger row when on_hand or reserved
   * moved (which brings the stock row to `next`); memory takes `next` only once it succeeded.
   */
  protected commitChange<T>(
    next: Stock,
    now: number,
    kind: LedgerKind | null,
    extra: { holdId?: string; operationId?: string; reason?: string; seq?: number },
    write: () => T,
  ): T {
    const before = this.stock ?? { on_hand: 0, reserved: 0, sold: 0 };
    const onHandDelta = next.on_hand - before.on_hand;
    const reservedDelta = next.reserved - before.reserved;
    const logged = kind !== null && (onHandDelta !== 0 || reservedDelta !== 0 || kind === "adjust" || extra.seq !== undefined);
    const row = { holdId: extra.holdId, operationId: extra.operationId, reason: extra.reason, onHandDelta, reservedDelta };
    const rows = logged && kind !== null ? [{ kind, ...row }] : [];
    return this.commitRows(next, now, rows, write, extra.seq);
  }

  /**
   * Runs `write` (synchronous SQL) in one transaction with the ledger `rows` appended after row
   * `seqFloor` at the earliest; the ledger's trigger brings the stock row to `next`, and memory
   * takes `next` only once it succeeded. The rows must add up to the change of on_hand, reserved
   * and sold.
   */
  protected commitRows<T>(next: Stock, now: number, rows: readonly LedgerEntry[], write: () => T, seqFloor = 0): T {
    this.ensureSchema();
    const before = this.stock ?? { on_hand: 0, reserved: 0, sold: 0 };
    const onHandDelta = next.on_hand - before.on_hand;
    const reservedDelta = next.reserved - before.reserved;
    const sum = (pick: (row: LedgerEntry) => number) => rows.reduce((n, row) => n + pick(row), 0);
    if (sum((row) => row.onHandDelta) !== onHandDelta || sum((row) => row.reservedDelta) !== reservedDelta) {
      throw new Error(`${this.sku}: ledger rows do not add up to the change`);
    }
    if (sum((row) => (row.kind === "commit" ? -row.onHandDelta : 0)) !== next.sold - before.sold) {
      throw new Error(`${this.sku}: ledger rows do not add up to the units sold`);
    }
    const first = Math.max(this.lastSeq, seqFloor) + 1;
    const result = this.storage.transactionSync(() => {
      const value = write();
      // Each ledger row moves the stock row (trigger ledger_moves_stock), which only has to exist.
      if (this.stock === null) this.sql.exec("INSERT INTO stock (id, sku, on_hand, reserved, sold) VALUES (1, ?, 0, 0, 0)", this.sku);
      for (const [i, row] of rows.entries()) appendLedger(this.sql, first + i, now, row);
      return value;
    });
    this.stock = { ...next };
    if (rows.length > 0) this.lastSeq = first + rows.length - 1;
    return result;
  }

  /** True once the SKU was ever stocked or defined. */
  exists(): boolean {
    return this.stock !== null;
  }

  /** The SKU's catalog entry (pushed by the catalog publisher), or null when never defined. */
  pricing(): SkuPricing | null {
    return this.item;
  }

  /**
   * Releases every hold whose expiry has passed (ledger `expire` rows). Runs at the start of each
   * operation so expired stock is back exactly on time even when the alarm is late; the alarm
   * covers idle objects. Costs nothing until the earliest expiry is due. Returns how many expired.
   */
  expireDue(now: number): number {
    if (this.earliest === null || now < this.earliest) return 0;
    const due = [...this.holds.values()].filter((hold) => hold.expires_at <= now).sort((a, b) => a.expires_at - b.expires_at);
    for (const hold of due) this.removeHold(hold, "expire", now);
    return due.length;
  }

  protected removeHold(hold: HoldRow, kind: "release" | "expire", now: number): void {
    this.changeHold(kind, hold, null, now);
  }

  /**
   * Changes one hold of a stocked SKU from `before` (its live row; null: none) to `after` (null:
   * gone), in one statement (view hold_changes, inventory-schema.ts migration 8), which SQLite
   * makes atomic without a transaction: the hold's row, the sale record of a `commit` (which also
   * takes the units off on_hand), and a ledger row when units moved, which moves the stock row.
   * A new hold under a sold id changes nothing and returns false (the database checks it, so the
   * hot path asks no separate question). Memory follows only once the statement succeeded.
   */
  protected changeHold(
    kind: "hold" | "release" | "expire" | "commit",
    before: HoldRow | null,
    after: HoldRow | null,
    now: number,
  ): boolean {
    const stock = this.stock;
    const hold = after ?? before;
    if (stock === null || hold === null) throw new Error(`${this.sku}: a hold change needs stock and a hold`);
    // The trigger writes a row only for quantity > 0 and deletes it only at 0: anything else would
    // move the ledger without the hold (holds' own CHECK never sees it). Callers validate; this is the net.
    if (after !== null && !(Number.isSafeInteger(after.quantity) && after.quantity > 0))
      throw new RangeError(`${this.sku}: a live hold holds a positive whole number of units`);
    const reservedDelta = (after?.quantity ?? 0) - (before?.quantity ?? 0);
    const onHandDelta = kind === "commit" ? reservedDelta : 0;
    const isNew = before === null;
    const seq = this.lastSeq + 1;
    try {
      this.sql.exec(
        `INSERT INTO hold_changes (kind, hold_id, owner_id, quantity, expires_at, held_since, client, on_hand_delta, reserved_delta, seq, at, is_new)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        kind,
        hold.hold_id,
        hold.owner_id,
        after?.quantity ?? 0,
        after?.expires_at ?? null,
        after?.held_since ?? null,
        after?.client ?? null,
        onHandDelta,
        reservedDelta,
        seq,
        now,
        isNew ? 1 : 0,
      );
    } catch (error) {
      if (isNew && error instanceof Error && error.message.startsWith("hold_committed:")) return false;
      throw error;
    }
    this.stock = { on_hand: stock.on_hand + onHandDelta, reserved: stock.reserved + reservedDelta, sold: stock.sold - onHandDelta };
    if (onHandDelta !== 0 || reservedDelta !== 0) this.lastSeq = seq;
    if (after !== null) this.setHold(after, before);
    else {
      this.holds.delete(hold.hold_id);
      if (hold.expires_at === this.earliest) this.earliest = this.earliestExpiry();
    }
    return true;
  }

  /** The earliest live hold expiry (ms), for arming the alarm; null when there are no holds. */
  nextExpiry(): number | null {
    return this.earliest;
  }

  protected isCommitted(holdId: string): boolean {
    return this.ready && this.sql.exec("SELECT 1 FROM committed_holds WHERE hold_id = ?", holdId).toArray().length > 0;
  }

  /** Puts a written hold in memory, keeping the earliest expiry exact. */
  protected setHold(hold: HoldRow, previous: HoldRow | null): void {
    this.holds.set(hold.hold_id, hold);
    if (previous !== null && previous.expires_at === this.earliest && hold.expires_at > previous.expires_at)
      this.earliest = this.earliestExpiry();
    else if (this.earliest === null || hold.expires_at < this.earliest) this.earliest = hold.expires_at;
  }

  /** The SKU's current levels with its ledger position, as reported to Postgres. */
  levelReport(now: number): LevelReport | null {
    if (this.stock === null) return null;
    return {
      type: "inventory.level",
      version: 1,
      sku: this.sku,
      ...this.currentLevels(),
      sold: this.soldBase + this.stock.sold,
      ledger_seq: this.lastSeq,
      reported_at: iso(now),
    };
  }

  /**
   * Schedules a level report when the ledger moved past what was reported, coalescing bursts:
   * at most one report per {@link LEVEL_REPORT_DELAY_MS}. Returns when it is due, or null.
   */
  scheduleLevelReport(now: number): number | null {
    if (this.reportDue === null && this.lastSeq > this.reportedSeq) {
      this.reportDue = now + LEVEL_REPORT_DELAY_MS;
      // Written in the same turn as the change that caused it, so it joins that change's commit.
      this.sql.exec("UPDATE level_reports SET due_at = ? WHERE id = 1", this.reportDue);
    }
    return this.reportDue;
  }

  /** When the next level report is due (null when nothing is pending). */
  levelReportDue(): number | null {
    return this.reportDue;
  }

  /** Records a delivered report; anything newer is scheduled again by the next call. */
  markLevelReported(seq: number): void {
    if (this.ready)
      this.sql.exec("UPDATE level_reports SET reported_seq = MAX(reported_seq, ?), due_at = NULL, attempts = 0 WHERE id = 1", seq);
    this.reportedSeq = Math.max(this.reportedSeq, seq);
    this.reportDue = null;
    this.reportAttempts = 0;
  }

  /** Records a failed report: retried with backoff. */
  markLevelReportFailed(now: number): void {
    this.reportAttempts += 1;
    this.reportDue = now + backoffMs(this.reportAttempts, LEVEL_REPORT_BACKOFF.baseMs, LEVEL_REPORT_BACKOFF.capMs);
    this.sql.exec("UPDATE level_reports SET attempts = ?, due_at = ? WHERE id = 1", this.reportAttempts, this.reportDue);
  }

  /** Recomputes on_hand, reserved and sold (and each hold) from the ledger and checks them against the state (stored and in memory). */
  verify(): LedgerCheck {
    return verifyLedger(this.ready ? this.sql : null, { stock: this.stock, holds: this.holds });
  }
}
