/**
 * The SKU object's state: stock levels, live holds, the catalog entry and the append-only movement
 * ledger, in SQLite (inventory-schema.ts) and mirrored in memory. The object is single-threaded,
 * so the memory copy is exact: reads cost no SQL, and a hold writes two or three rows. Every
 * mutation is one synchronous transaction (no await between read and write) and memory changes
 * only after it succeeded; if a commit ever fails, the runtime resets the object and the next
 * instance loads from SQLite. Time is a parameter (`now`, ms since epoch).
 *
 * The schema is created on the first write: reading a SKU that was never defined or stocked
 * (an unknown name on the public availability route) creates nothing.
 */
import { type Hold, type InventoryLevelV1, type InventorySnapshot, MAX_LISTED_HOLDS, type SkuPricing, type StockLevels } from "../contracts";
import { decideHold, type HoldLimits, holdExpiry, type InventoryRefusal, type LedgerCheck, ledgerAgrees, levels, type Ok, planOnHand } from "../domain/inventory";
import { backoffMs } from "../platform/backoff";
import { INVENTORY_SCHEMA } from "./inventory-schema";
import { hasSchema, runSqlMigrations } from "./sql-migrations";

/** Stock levels reported to Postgres at most this often per SKU (changes in between coalesce). */
export const LEVEL_REPORT_DELAY_MS = 1000;

/** Level report retries: 1 s doubling, at most a minute apart. */
export const LEVEL_REPORT_BACKOFF = { baseMs: 1000, capMs: 60_000 };

type LedgerKind = "set" | "adjust" | "hold" | "release" | "expire" | "commit";

interface Stock {
  on_hand: number;
  reserved: number;
  sold: number;
}
interface HoldRow extends Record<string, SqlStorageValue> {
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
}

/** A SKU's levels as sent to Postgres (queue `edgecart-inventory`). */
export type LevelReport = InventoryLevelV1;

/** Stock levels, the held quantity after the call, the hold's expiry and the SKU's pricing. */
export type HoldOutcome = Ok<StockLevels & { quantity: number; expires_at: string | null; item: SkuPricing | null; capped: boolean }>;

const iso = (ms: number) => new Date(ms).toISOString();

/** State access for one SKU. */
export class InventoryStore {
  #ready = false;
  /** null until the SKU is defined or stocked. */
  #stock: Stock | null = null;
  #item: SkuPricing | null = null;
  readonly #holds = new Map<string, HoldRow>();
  /** The earliest live hold expiry (exact), null without holds. */
  #nextExpiry: number | null = null;
  #lastSeq = 0;
  #reportedSeq = 0;
  #reportDue: number | null = null;
  #reportAttempts = 0;
  /** Units sold before the last restore (reported to Postgres on top of `sold`). */
  #soldBase = 0;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly sku: string,
  ) {
    if (hasSchema(storage)) this.#load();
  }

  private get sql(): SqlStorage {
    return this.storage.sql;
  }

  /** Migrates and reads everything into memory. */
  #load(): void {
    runSqlMigrations(this.storage, [INVENTORY_SCHEMA]);
    this.#ready = true;
    const stock = this.sql.exec<Stock & Record<string, SqlStorageValue>>("SELECT on_hand, reserved, sold FROM stock WHERE id = 1").toArray()[0];
    this.#stock = stock ? { on_hand: stock.on_hand, reserved: stock.reserved, sold: stock.sold } : null;
    const row = this.sql.exec<CatalogRow>("SELECT * FROM catalog WHERE id = 1").toArray()[0];
    this.#item = row ? this.#pricingOf(row) : null;
    for (const hold of this.sql.exec<HoldRow>("SELECT hold_id, owner_id, quantity, expires_at, held_since, client FROM holds").toArray()) this.#holds.set(hold.hold_id, hold);
    this.#nextExpiry = this.#earliestExpiry();
    this.#lastSeq = this.sql.exec<{ seq: number | null }>("SELECT MAX(seq) AS seq FROM ledger").one().seq ?? 0;
    const report = this.sql.exec<{ reported_seq: number; attempts: number; due_at: number | null; sold_base: number }>("SELECT reported_seq, attempts, due_at, sold_base FROM level_reports WHERE id = 1").one();
    this.#soldBase = report.sold_base;
    this.#reportedSeq = report.reported_seq;
    this.#reportAttempts = report.attempts;
    this.#reportDue = report.due_at;
  }

  /** Creates the schema on the first write. */
  #ensureSchema(): void {
    if (!this.#ready) this.#load();
  }

  #pricingOf(row: CatalogRow): SkuPricing {
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

  #earliestExpiry(): number | null {
    return this.#holds.size === 0 ? null : this.sql.exec<{ next: number | null }>("SELECT MIN(expires_at) AS next FROM holds").one().next;
  }

  #levels(): StockLevels {
    const stock = this.#stock ?? { on_hand: 0, reserved: 0 };
    return levels(stock.on_hand, stock.reserved);
  }

  /**
   * Runs `write` (synchronous SQL) in one transaction with the stock row brought to `next` and
   * a ledger row when on_hand or reserved moved; memory takes `next` only once it succeeded.
   */
  #commit<T>(next: Stock, now: number, kind: LedgerKind | null, extra: { holdId?: string; operationId?: string; reason?: string; seq?: number }, write: () => T): T {
    this.#ensureSchema();
    const before = this.#stock ?? { on_hand: 0, reserved: 0, sold: 0 };
    const onHandDelta = next.on_hand - before.on_hand;
    const reservedDelta = next.reserved - before.reserved;
    const logged = kind !== null && (onHandDelta !== 0 || reservedDelta !== 0 || kind === "adjust" || extra.seq !== undefined);
    const seq = Math.max(this.#lastSeq, extra.seq ?? 0) + 1;
    const result = this.storage.transactionSync(() => {
      const value = write();
      if (this.#stock === null || onHandDelta !== 0 || reservedDelta !== 0 || next.sold !== before.sold) {
        this.sql.exec(
          "INSERT INTO stock (id, sku, on_hand, reserved, sold) VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET on_hand = excluded.on_hand, reserved = excluded.reserved, sold = excluded.sold",
          this.sku,
          next.on_hand,
          next.reserved,
          next.sold,
        );
      }
      if (logged) {
        this.sql.exec(
          "INSERT INTO ledger (seq, at, kind, hold_id, operation_id, on_hand_delta, reserved_delta, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
          seq,
          now,
          kind,
          extra.holdId ?? null,
          extra.operationId ?? null,
          onHandDelta,
          reservedDelta,
          extra.reason ?? null,
        );
      }
      return value;
    });
    this.#stock = { ...next };
    if (logged) this.#lastSeq = seq;
    return result;
  }

  /** True once the SKU was ever stocked or defined. */
  exists(): boolean {
    return this.#stock !== null;
  }

  /** The SKU's catalog entry (pushed by the catalog publisher), or null when never defined. */
  pricing(): SkuPricing | null {
    return this.#item;
  }

  /**
   * Stores the SKU's catalog entry unless a newer version is already here (publishes may race or
   * be retried). Defining a SKU makes it exist with 0 on hand. Returns the entry now in force.
   */
  define(entry: SkuPricing, now: number): SkuPricing {
    if (this.#item !== null && this.#item.version > entry.version) return this.#item;
    this.#commit(this.#stock ?? { on_hand: 0, reserved: 0, sold: 0 }, now, null, {}, () => {
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
    });
    this.#item = { ...entry, sku: this.sku };
    return this.#item;
  }

  /**
   * Releases every hold whose expiry has passed (ledger `expire` rows). Runs at the start of each
   * operation so expired stock is back exactly on time even when the alarm is late; the alarm
   * covers idle objects. Costs nothing until the earliest expiry is due. Returns how many expired.
   */
  expireDue(now: number): number {
    if (this.#nextExpiry === null || now < this.#nextExpiry) return 0;
    const due = [...this.#holds.values()].filter((hold) => hold.expires_at <= now).sort((a, b) => a.expires_at - b.expires_at);
    for (const hold of due) this.#removeHold(hold, "expire", now);
    return due.length;
  }

  #removeHold(hold: HoldRow, kind: "release" | "expire", now: number): void {
    const stock = this.#stock!;
    this.#commit({ ...stock, reserved: stock.reserved - hold.quantity }, now, kind, { holdId: hold.hold_id }, () => {
      this.sql.exec("DELETE FROM holds WHERE hold_id = ?", hold.hold_id);
    });
    this.#holds.delete(hold.hold_id);
    if (hold.expires_at === this.#nextExpiry) this.#nextExpiry = this.#earliestExpiry();
  }

  /** The earliest live hold expiry (ms), for arming the alarm; null when there are no holds. */
  nextExpiry(): number | null {
    return this.#nextExpiry;
  }

  /** Sets on_hand to exactly `onHand`; refused below what is reserved or for a SKU in no product. Idempotent. */
  setOnHand(onHand: number, now: number): Ok<StockLevels> | InventoryRefusal {
    this.expireDue(now);
    if (this.#item === null) return { ok: false, reason: "unknown_sku" };
    const stock = this.#stock ?? { on_hand: 0, reserved: 0, sold: 0 };
    const plan = planOnHand(stock, onHand);
    if (!plan.ok) return plan;
    if (onHand !== stock.on_hand) this.#commit({ ...stock, on_hand: onHand }, now, "set", {}, () => undefined);
    return { ok: true, ...this.#levels() };
  }

  /**
   * Changes on_hand by `delta` with a reason; refused below what is reserved. `operationId`
   * makes a retried call a no-op (the second call reports the current levels).
   */
  adjust(delta: number, reason: string, operationId: string, now: number): Ok<StockLevels & { duplicate: boolean }> | InventoryRefusal {
    this.expireDue(now);
    if (this.#item === null) return { ok: false, reason: "unknown_sku" };
    if (this.sql.exec("SELECT 1 FROM ledger WHERE operation_id = ?", operationId).toArray().length > 0) return { ok: true, duplicate: true, ...this.#levels() };
    const stock = this.#stock ?? { on_hand: 0, reserved: 0, sold: 0 };
    const plan = planOnHand(stock, stock.on_hand + delta);
    if (!plan.ok) return plan;
    this.#commit({ ...stock, on_hand: stock.on_hand + delta }, now, "adjust", { operationId, reason }, () => undefined);
    return { ok: true, duplicate: false, ...this.#levels() };
  }

  #isCommitted(holdId: string): boolean {
    return this.#ready && this.sql.exec("SELECT 1 FROM committed_holds WHERE hold_id = ?", holdId).toArray().length > 0;
  }

  /**
   * Sets hold `holdId` to exactly `quantity` units (create, grow, shrink; 0 releases it), expiring
   * `ttlMs` from `now`. All or nothing: a refusal changes nothing. A retried call with the same
   * quantity changes no stock (it only refreshes the expiry).
   */
  hold(holdId: string, ownerId: string, quantity: number, ttlMs: number, now: number, limits: HoldLimits = {}): HoldOutcome | InventoryRefusal {
    this.expireDue(now);
    const existing = this.#holds.get(holdId) ?? null;
    const client = limits.client ?? existing?.client ?? null;
    // A live hold was never sold (commit removes it), so only a new id needs the committed check.
    const state = { stock: this.#stock ?? { on_hand: 0, reserved: 0 }, item: this.#item, existing, committed: existing === null && this.#isCommitted(holdId), clientHeld: this.#heldBy(client, holdId) };
    const decision = decideHold(state, ownerId, quantity, limits);
    if (!decision.ok) return decision;
    if (quantity === 0) {
      if (existing) this.#removeHold(existing, "release", now);
      return { ok: true, quantity: 0, expires_at: null, item: this.#item, capped: false, ...this.#levels() };
    }
    const stock = this.#stock!;
    const heldSince = existing?.held_since ?? now;
    const expiresAt = holdExpiry(now, ttlMs, heldSince, limits.maxHoldSeconds);
    const hold: HoldRow = { hold_id: holdId, owner_id: ownerId, quantity, expires_at: expiresAt, held_since: heldSince, client };
    this.#commit({ ...stock, reserved: stock.reserved + decision.delta }, now, "hold", { holdId }, () => {
      if (existing) this.sql.exec("UPDATE holds SET quantity = ?, expires_at = ?, held_since = ?, client = ? WHERE hold_id = ?", quantity, expiresAt, heldSince, client, holdId);
      else this.sql.exec("INSERT INTO holds (hold_id, owner_id, quantity, expires_at, held_since, client) VALUES (?, ?, ?, ?, ?, ?)", holdId, ownerId, quantity, expiresAt, heldSince, client);
    });
    this.#setHold(hold, existing);
    return { ok: true, quantity, expires_at: iso(expiresAt), item: this.#item, capped: expiresAt < now + ttlMs, ...this.#levels() };
  }

  /** Units `client` holds in this SKU, not counting hold `except`. */
  #heldBy(client: string | null, except: string): number {
    if (client === null) return 0;
    let units = 0;
    for (const hold of this.#holds.values()) if (hold.client === client && hold.hold_id !== except) units += hold.quantity;
    return units;
  }

  /** Puts a written hold in memory, keeping the earliest expiry exact. */
  #setHold(hold: HoldRow, previous: HoldRow | null): void {
    this.#holds.set(hold.hold_id, hold);
    if (previous !== null && previous.expires_at === this.#nextExpiry && hold.expires_at > previous.expires_at) this.#nextExpiry = this.#earliestExpiry();
    else if (this.#nextExpiry === null || hold.expires_at < this.#nextExpiry) this.#nextExpiry = hold.expires_at;
  }

  /** Releases a hold; releasing one that is gone is a no-op. */
  release(holdId: string, now: number): Ok<StockLevels & { released: number }> {
    this.expireDue(now);
    const existing = this.#holds.get(holdId);
    if (existing) this.#removeHold(existing, "release", now);
    return { ok: true, released: existing?.quantity ?? 0, ...this.#levels() };
  }

  /** A live hold's quantity (0 when there is none) with the SKU's pricing, for reconciliation. */
  holdOf(holdId: string, now: number): { quantity: number; expires_at: string | null; item: SkuPricing | null } {
    this.expireDue(now);
    const hold = this.#holds.get(holdId);
    return { quantity: hold?.quantity ?? 0, expires_at: hold ? iso(hold.expires_at) : null, item: this.#item };
  }

  /** Moves a live hold's expiry to `now + ttlMs`, never past its lifetime cap when one is given. */
  extend(holdId: string, ttlMs: number, now: number, maxHoldSeconds?: number): Ok<{ expires_at: string; quantity: number }> | InventoryRefusal {
    this.expireDue(now);
    const existing = this.#holds.get(holdId);
    if (!existing) return { ok: false, reason: this.#isCommitted(holdId) ? "hold_committed" : "hold_not_found" };
    const hold = { ...existing, expires_at: holdExpiry(now, ttlMs, existing.held_since ?? now, maxHoldSeconds) };
    this.#commit(this.#stock!, now, null, {}, () => {
      this.sql.exec("UPDATE holds SET expires_at = ? WHERE hold_id = ?", hold.expires_at, holdId);
    });
    this.#setHold(hold, existing);
    return { ok: true, quantity: hold.quantity, expires_at: iso(hold.expires_at) };
  }

  /**
   * Sells the held units: on_hand and reserved both drop by the hold's quantity. Idempotent: a
   * retried commit reports the same quantity and changes nothing.
   */
  commit(holdId: string, now: number): Ok<StockLevels & { quantity: number; duplicate: boolean }> | InventoryRefusal {
    this.expireDue(now);
    const existing = this.#holds.get(holdId);
    if (!existing) {
      const done = this.#ready ? this.sql.exec<{ quantity: number }>("SELECT quantity FROM committed_holds WHERE hold_id = ?", holdId).toArray()[0] : undefined;
      return done ? { ok: true, quantity: done.quantity, duplicate: true, ...this.#levels() } : { ok: false, reason: "hold_not_found" };
    }
    const stock = this.#stock!;
    const sold = { on_hand: stock.on_hand - existing.quantity, reserved: stock.reserved - existing.quantity, sold: stock.sold + existing.quantity };
    this.#commit(sold, now, "commit", { holdId }, () => {
      this.sql.exec("DELETE FROM holds WHERE hold_id = ?", holdId);
      this.sql.exec("INSERT INTO committed_holds (hold_id, owner_id, quantity, committed_at) VALUES (?, ?, ?, ?)", holdId, existing.owner_id, existing.quantity, now);
    });
    this.#holds.delete(holdId);
    if (existing.expires_at === this.#nextExpiry) this.#nextExpiry = this.#earliestExpiry();
    return { ok: true, quantity: existing.quantity, duplicate: false, ...this.#levels() };
  }

  /** The SKU's stock and live holds (earliest expiry first), or null if it was never stocked. */
  snapshot(now: number): InventorySnapshot | null {
    this.expireDue(now);
    if (this.#stock === null) return null;
    const holds = this.sql
      .exec<HoldRow>("SELECT hold_id, owner_id, quantity, expires_at FROM holds ORDER BY expires_at, hold_id LIMIT ?", MAX_LISTED_HOLDS)
      .toArray()
      .map((h): Hold => ({ hold_id: h.hold_id, owner_id: h.owner_id, quantity: h.quantity, expires_at: iso(h.expires_at) }));
    return { sku: this.sku, ...this.#levels(), holds, holds_total: this.#holds.size };
  }

  /**
   * Rebuilds this SKU from the levels Postgres saved, unless that would rewind it: an object
   * whose ledger is at or past the saved position is live and ahead of Postgres, and is left
   * alone. Otherwise (its state was lost, or it is behind) it takes the catalog entry and the
   * saved on_hand, and its ledger continues after the saved position, so its next level reports
   * are newer than what Postgres has. Units sold before are kept for reporting (`sold_base`).
   */
  restore(point: { pricing: SkuPricing; on_hand: number; sold: number; ledger_seq: number }, now: number): { outcome: "restored" } | { outcome: "skipped"; reason: string } {
    this.expireDue(now);
    if (this.#stock !== null && this.#lastSeq >= point.ledger_seq) return { outcome: "skipped", reason: "live: its ledger is at or past the saved position" };
    const stock = this.#stock ?? { on_hand: 0, reserved: 0, sold: 0 };
    if (planOnHand(stock, point.on_hand).ok === false) return { outcome: "skipped", reason: "it reserves more than the saved on_hand" };
    this.define(point.pricing, now);
    const soldBase = Math.max(0, point.sold - stock.sold);
    this.#commit({ ...stock, on_hand: point.on_hand }, now, "set", { reason: "restore", seq: point.ledger_seq }, () => {
      this.sql.exec("UPDATE level_reports SET sold_base = ? WHERE id = 1", soldBase);
    });
    this.#soldBase = soldBase;
    return { outcome: "restored" };
  }

  /** The SKU's current levels with its ledger position, as reported to Postgres. */
  levelReport(now: number): LevelReport | null {
    if (this.#stock === null) return null;
    return { type: "inventory.level", version: 1, sku: this.sku, ...this.#levels(), sold: this.#soldBase + this.#stock.sold, ledger_seq: this.#lastSeq, reported_at: iso(now) };
  }

  /**
   * Schedules a level report when the ledger moved past what was reported, coalescing bursts:
   * at most one report per {@link LEVEL_REPORT_DELAY_MS}. Returns when it is due, or null.
   */
  scheduleLevelReport(now: number): number | null {
    if (this.#reportDue === null && this.#lastSeq > this.#reportedSeq) {
      this.#reportDue = now + LEVEL_REPORT_DELAY_MS;
      // Written in the same turn as the change that caused it, so it joins that change's commit.
      this.sql.exec("UPDATE level_reports SET due_at = ? WHERE id = 1", this.#reportDue);
    }
    return this.#reportDue;
  }

  /** When the next level report is due (null when nothing is pending). */
  levelReportDue(): number | null {
    return this.#reportDue;
  }

  /** Records a delivered report; anything newer is scheduled again by the next call. */
  markLevelReported(seq: number): void {
    if (this.#ready) this.sql.exec("UPDATE level_reports SET reported_seq = MAX(reported_seq, ?), due_at = NULL, attempts = 0 WHERE id = 1", seq);
    this.#reportedSeq = Math.max(this.#reportedSeq, seq);
    this.#reportDue = null;
    this.#reportAttempts = 0;
  }

  /** Records a failed report: retried with backoff. */
  markLevelReportFailed(now: number): void {
    this.#reportAttempts += 1;
    this.#reportDue = now + backoffMs(this.#reportAttempts, LEVEL_REPORT_BACKOFF.baseMs, LEVEL_REPORT_BACKOFF.capMs);
    this.sql.exec("UPDATE level_reports SET attempts = ?, due_at = ? WHERE id = 1", this.#reportAttempts, this.#reportDue);
  }

  /** Recomputes on_hand, reserved and sold from the ledger and checks them against the state (stored and in memory). */
  verify(): LedgerCheck {
    const stored = this.#ready ? this.sql.exec<Stock & Record<string, SqlStorageValue>>("SELECT on_hand, reserved, sold FROM stock WHERE id = 1").toArray()[0] : undefined;
    const stock = stored ?? { on_hand: 0, reserved: 0, sold: 0 };
    const sums = this.#ready
      ? this.sql
          .exec<{ on_hand: number | null; reserved: number | null; sold: number | null }>(
            "SELECT SUM(on_hand_delta) AS on_hand, SUM(reserved_delta) AS reserved, -SUM(CASE WHEN kind = 'commit' THEN on_hand_delta ELSE 0 END) AS sold FROM ledger",
          )
          .one()
      : { on_hand: 0, reserved: 0, sold: 0 };
    const held = this.#ready ? (this.sql.exec<{ n: number | null }>("SELECT SUM(quantity) AS n FROM holds").one().n ?? 0) : 0;
    const check = {
      on_hand: stock.on_hand,
      reserved: stock.reserved,
      sold: stock.sold,
      ledger_on_hand: sums.on_hand ?? 0,
      ledger_reserved: sums.reserved ?? 0,
      ledger_sold: sums.sold ?? 0,
      holds_reserved: held,
    };
    const memory = this.#stock ?? { on_hand: 0, reserved: 0, sold: 0 };
    const inMemory = memory.on_hand === stock.on_hand && memory.reserved === stock.reserved && memory.sold === stock.sold && [...this.#holds.values()].reduce((n, h) => n + h.quantity, 0) === held;
    return { ok: ledgerAgrees(check) && inMemory, ...check };
  }
}
