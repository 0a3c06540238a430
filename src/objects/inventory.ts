/**
 * InventoryObject: one per SKU (`env.INVENTORY.getByName(sku)`). Its single-threaded execution
 * and synchronous SQLite writes serialise every reservation, so stock never goes negative
 * however many shoppers race. Holds expire through one alarm armed at the earliest expiry.
 *
 * A thin RPC shell over {@link InventoryStore}: it supplies the clock and keeps the alarm armed.
 * A name that was never defined or stocked gets no storage at all: reads of it answer
 * `unknown_sku` from an empty object.
 */
import { DurableObject } from "cloudflare:workers";
import type { InventorySnapshot, SkuPricing, StockLevels } from "../contracts";
import type { HoldLimits, InventoryRefusal, LedgerCheck, MoveRefusal, Ok } from "../domain/inventory";
import { errorFields, log } from "../platform/log";
import { AlarmSlot } from "./alarm";
import { type HoldOutcome, InventoryStore, type LevelReport, type MoveOutcome, type UndoOutcome } from "./inventory-store";

export class InventoryObject extends DurableObject<Env> {
  #store: InventoryStore;
  #alarm: AlarmSlot;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // The store migrates (if the object has a schema) and loads its state synchronously, before
    // any call can arrive.
    this.#store = new InventoryStore(ctx.storage, ctx.id.name ?? ctx.id.toString());
    this.#alarm = new AlarmSlot(ctx.storage);
    ctx.blockConcurrencyWhile(() => this.#alarm.load());
  }

  /** Makes the alarm fire by the earliest of: a hold's expiry, a level report due. */
  async #rearm(): Promise<void> {
    const expiry = this.#store.nextExpiry();
    const report = this.#store.scheduleLevelReport(Date.now());
    await this.#alarm.want(expiry === null ? report : report === null ? expiry : Math.min(expiry, report));
  }

  async #mutate<T>(operation: (now: number) => T): Promise<T> {
    const result = operation(Date.now());
    await this.#rearm();
    return result;
  }

  /** Sets on_hand to exactly `onHand`. Refused (`below_reserved`) under what is reserved. */
  async setOnHand(onHand: number): Promise<Ok<StockLevels> | InventoryRefusal> {
    return this.#mutate((now) => this.#store.setOnHand(onHand, now));
  }

  /** Changes on_hand by `delta`, recording `reason`; `operationId` makes retries no-ops. */
  async adjust(delta: number, reason: string, operationId: string): Promise<Ok<StockLevels & { duplicate: boolean }> | InventoryRefusal> {
    return this.#mutate((now) => this.#store.adjust(delta, reason, operationId, now));
  }

  /**
   * Sets hold `holdId` (owned by `ownerId`) to exactly `quantity` units for `ttlSeconds`; 0
   * releases it. All or nothing: a refusal (`insufficient_stock` with `available`,
   * `unknown_sku`, `quantity_limit_exceeded`, `currency_mismatch`) changes nothing. The answer
   * carries the SKU's authoritative pricing, so a cart needs one call per line change.
   */
  async hold(
    holdId: string,
    ownerId: string,
    quantity: number,
    ttlSeconds: number,
    limits: HoldLimits = {},
  ): Promise<HoldOutcome | InventoryRefusal> {
    return this.#mutate((now) => this.#store.hold(holdId, ownerId, quantity, Math.round(ttlSeconds * 1000), now, limits));
  }

  /**
   * Cart merge: sets hold `toHoldId` (owned by `toOwnerId`) to exactly `quantity` units for
   * `ttlSeconds`, taking hold `fromHoldId`'s units first (it disappears; what the two held beyond
   * `quantity` returns to stock), in one transaction. Only units beyond what the two held need
   * free stock: refused all or nothing (`insufficient_stock` with `available`, and the refusals
   * of a growing hold); a lapsed source makes it an ordinary hold. `hold_committed` when either
   * hold was sold, `hold_owner_mismatch` when the target is another owner's. Idempotent by
   * `mergeId`: a replay answers as the first call did and changes nothing (`merge_id_reused` for
   * other holds or another quantity; `move_undone` once undone). See inventory-moves.ts.
   */
  async moveHold(
    mergeId: string,
    fromHoldId: string,
    toHoldId: string,
    toOwnerId: string,
    quantity: number,
    ttlSeconds: number,
    limits: HoldLimits = {},
  ): Promise<MoveOutcome | MoveRefusal> {
    const ttlMs = Math.round(ttlSeconds * 1000);
    return this.#mutate((now) => this.#store.moveHold(mergeId, fromHoldId, toHoldId, toOwnerId, quantity, ttlMs, now, limits));
  }

  /**
   * Undoes the move recorded under `mergeId`, all or nothing: both holds as they were before it
   * (except one whose own expiry has passed since), if the holds are still as the move left them
   * (`move_superseded`, `hold_committed` otherwise) and the units it needs back are free
   * (`insufficient_stock`). Idempotent; afterwards a move under that id is refused. An id this SKU
   * never moved is recorded as undone (`undone: false`). See inventory-moves.ts.
   */
  async undoMove(mergeId: string): Promise<UndoOutcome | MoveRefusal> {
    return this.#mutate((now) => this.#store.undoMove(mergeId, now));
  }

  /** Stores the SKU's catalog entry (price, status, limit) unless a newer version is here. */
  async define(entry: SkuPricing): Promise<SkuPricing> {
    return this.#mutate((now) => this.#store.define(entry, now));
  }

  /** The SKU's authoritative catalog entry, or null when it is in no product. */
  async pricing(): Promise<SkuPricing | null> {
    return this.#store.pricing();
  }

  /** Releases a hold (no-op when it is already gone). */
  async release(holdId: string): Promise<Ok<StockLevels & { released: number }>> {
    return this.#mutate((now) => this.#store.release(holdId, now));
  }

  /** A live hold's quantity (0 when none) and the SKU's pricing: how a cart repairs a line after a crash. */
  async holdOf(holdId: string): Promise<{ quantity: number; expires_at: string | null; item: SkuPricing | null }> {
    return this.#mutate((now) => this.#store.holdOf(holdId, now));
  }

  /** Moves a live hold's expiry to `ttlSeconds` from now (never past `maxHoldSeconds` from its first reservation, when given). */
  async extend(
    holdId: string,
    ttlSeconds: number,
    maxHoldSeconds?: number,
  ): Promise<Ok<{ expires_at: string; quantity: number }> | InventoryRefusal> {
    return this.#mutate((now) => this.#store.extend(holdId, Math.round(ttlSeconds * 1000), now, maxHoldSeconds));
  }

  /** Sells the held units (on_hand and reserved both drop). Idempotent. */
  async commit(holdId: string): Promise<Ok<StockLevels & { quantity: number; duplicate: boolean }> | InventoryRefusal> {
    return this.#mutate((now) => this.#store.commit(holdId, now));
  }

  /** Stock and holds, or `unknown_sku` when the SKU was never stocked. */
  async snapshot(): Promise<Ok<{ snapshot: InventorySnapshot }> | InventoryRefusal> {
    const snapshot = await this.#mutate((now) => this.#store.snapshot(now));
    return snapshot === null ? { ok: false, reason: "unknown_sku" } : { ok: true, snapshot };
  }

  /** Recomputes on_hand, reserved and sold from the ledger and compares them with the state. */
  async verify(): Promise<LedgerCheck> {
    return this.#store.verify();
  }

  /** Rebuilds the SKU from levels Postgres saved, unless it is live and not behind (see InventoryStore.restore). */
  async restore(point: {
    pricing: SkuPricing;
    on_hand: number;
    sold: number;
    ledger_seq: number;
  }): Promise<{ outcome: "restored" } | { outcome: "skipped"; reason: string }> {
    return this.#mutate((now) => this.#store.restore(point, now));
  }

  /** The SKU's levels and ledger position (what the reconciliation cron writes to Postgres). */
  async levelReport(): Promise<LevelReport | null> {
    return this.#store.levelReport(Date.now());
  }

  /**
   * Releases every expired hold exactly once, sends a due level report to Postgres (through the
   * inventory queue), and re-arms. Safe to run twice or late.
   */
  override async alarm(): Promise<void> {
    this.#alarm.fired();
    const now = Date.now();
    this.#store.expireDue(now);
    const due = this.#store.levelReportDue();
    if (due !== null && due <= now) await this.#sendLevelReport(now);
    await this.#rearm();
  }

  async #sendLevelReport(now: number): Promise<void> {
    const report = this.#store.levelReport(now);
    if (report === null) return this.#store.markLevelReported(0);
    try {
      // To Postgres (inventory_levels) and to the webhooks consumer (low / out-of-stock crossings);
      // both keep the newest ledger position, so a report sent twice after a partial failure is harmless.
      await Promise.all([
        this.env.INVENTORY_QUEUE.send(report, { contentType: "json" }),
        this.env.WEBHOOKS_QUEUE.send(report, { contentType: "json" }),
      ]);
      this.#store.markLevelReported(report.ledger_seq);
    } catch (error) {
      log("warn", "inventory level report failed; retrying", { sku: report.sku, ...errorFields(error) });
      this.#store.markLevelReportFailed(now);
    }
  }
}
