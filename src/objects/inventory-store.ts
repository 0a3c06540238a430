/**
 * The SKU object's operations (InventoryObject calls them): each one decides with
 * src/domain/inventory.ts and changes the state in one statement (a hold's change) or one
 * transaction. The state, its memory copy and both ways of writing are in inventory-state.ts;
 * hold moves (cart merge) in inventory-moves.ts.
 * Time is a parameter (`now`, ms since epoch).
 */
import { type Hold, type InventorySnapshot, MAX_LISTED_HOLDS, type SkuPricing, type StockLevels } from "../contracts";
import { decideHold, type HoldLimits, holdExpiry, type InventoryRefusal, type Ok, planOnHand } from "../domain/inventory";
import { InventoryMoves } from "./inventory-moves";
import { type HoldOutcome, type HoldRow, iso } from "./inventory-state";

export type { MoveOutcome, UndoOutcome } from "./inventory-moves";
export { type HoldOutcome, LEVEL_REPORT_BACKOFF, LEVEL_REPORT_DELAY_MS, type LevelReport } from "./inventory-state";

/** State access for one SKU (hold moves in inventory-moves.ts, state and ledger in inventory-state.ts). */
export class InventoryStore extends InventoryMoves {
  /**
   * Stores the SKU's catalog entry unless a newer version is already here (publishes may race or
   * be retried). Defining a SKU makes it exist with 0 on hand. Returns the entry now in force.
   */
  define(entry: SkuPricing, now: number): SkuPricing {
    if (this.item !== null && this.item.version > entry.version) return this.item;
    this.commitChange(this.stock ?? { on_hand: 0, reserved: 0, sold: 0 }, now, null, {}, () => {
      this.sql.exec(
        `INSERT INTO catalog (id, product_id, title, price_amount, currency, status, max_line_quantity, version, category)
         VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET product_id = excluded.product_id, title = excluded.title,
           price_amount = excluded.price_amount, currency = excluded.currency, status = excluded.status,
           max_line_quantity = excluded.max_line_quantity, version = excluded.version, category = excluded.category`,
        entry.product_id,
        entry.title,
        entry.price.amount,
        entry.price.currency,
        entry.status,
        entry.max_line_quantity,
        entry.version,
        entry.category ?? null,
      );
    });
    this.item = { ...entry, sku: this.sku };
    return this.item;
  }

  /** Sets on_hand to exactly `onHand`; refused below what is reserved or for a SKU in no product. Idempotent. */
  setOnHand(onHand: number, now: number): Ok<StockLevels> | InventoryRefusal {
    this.expireDue(now);
    if (this.item === null) return { ok: false, reason: "unknown_sku" };
    const stock = this.stock ?? { on_hand: 0, reserved: 0, sold: 0 };
    const plan = planOnHand(stock, onHand);
    if (!plan.ok) return plan;
    if (onHand !== stock.on_hand) this.commitChange({ ...stock, on_hand: onHand }, now, "set", {}, () => undefined);
    return { ok: true, ...this.currentLevels() };
  }

  /**
   * Changes on_hand by `delta` with a reason; refused below what is reserved. `operationId`
   * makes a retried call a no-op (the second call reports the current levels).
   */
  adjust(delta: number, reason: string, operationId: string, now: number): Ok<StockLevels & { duplicate: boolean }> | InventoryRefusal {
    this.expireDue(now);
    if (this.item === null) return { ok: false, reason: "unknown_sku" };
    if (this.sql.exec("SELECT 1 FROM ledger WHERE operation_id = ?", operationId).toArray().length > 0)
      return { ok: true, duplicate: true, ...this.currentLevels() };
    const stock = this.stock ?? { on_hand: 0, reserved: 0, sold: 0 };
    const plan = planOnHand(stock, stock.on_hand + delta);
    if (!plan.ok) return plan;
    this.commitChange({ ...stock, on_hand: stock.on_hand + delta }, now, "adjust", { operationId, reason }, () => undefined);
    return { ok: true, duplicate: false, ...this.currentLevels() };
  }

  /**
   * Sets hold `holdId` to exactly `quantity` units (create, grow, shrink; 0 releases it), expiring
   * `ttlMs` from `now`. All or nothing: a refusal changes nothing. A retried call with the same
   * quantity changes no stock (it only refreshes the expiry).
   */
  hold(
    holdId: string,
    ownerId: string,
    quantity: number,
    ttlMs: number,
    now: number,
    limits: HoldLimits = {},
  ): HoldOutcome | InventoryRefusal {
    if (!Number.isSafeInteger(quantity) || quantity < 0) throw new RangeError("quantity must be a non-negative integer");
    this.expireDue(now);
    const existing = this.holds.get(holdId) ?? null;
    const client = limits.client ?? existing?.client ?? null;
    const state = {
      stock: this.stock ?? { on_hand: 0, reserved: 0 },
      item: this.item,
      existing,
      committed: false,
      clientHeld: this.holds.unitsOf(client, holdId),
    };
    let decision = decideHold(state, ownerId, quantity, limits);
    // A live hold was never sold (commit removes it), so only a new id may be a sold one. Asking
    // costs a query: where this call writes a new hold, the write itself refuses a sold id (see
    // changeHold); every other answer for a new id asks first, so a sold id always gets hold_committed.
    if (existing === null && (!decision.ok || quantity === 0) && this.isCommitted(holdId))
      decision = decideHold({ ...state, committed: true }, ownerId, quantity, limits);
    if (!decision.ok) return decision;
    if (quantity === 0) {
      if (existing) this.removeHold(existing, "release", now);
      return { ok: true, quantity: 0, expires_at: null, item: this.item, capped: false, ...this.currentLevels() };
    }
    const heldSince = existing?.held_since ?? now;
    const expiresAt = holdExpiry(now, ttlMs, heldSince, limits.maxHoldSeconds);
    const hold: HoldRow = { hold_id: holdId, owner_id: ownerId, quantity, expires_at: expiresAt, held_since: heldSince, client };
    if (!this.changeHold("hold", existing, hold, now)) return { ok: false, reason: "hold_committed" };
    return { ok: true, quantity, expires_at: iso(expiresAt), item: this.item, capped: expiresAt < now + ttlMs, ...this.currentLevels() };
  }

  /** Releases a hold; releasing one that is gone is a no-op. */
  release(holdId: string, now: number): Ok<StockLevels & { released: number }> {
    this.expireDue(now);
    const existing = this.holds.get(holdId);
    if (existing) this.removeHold(existing, "release", now);
    return { ok: true, released: existing?.quantity ?? 0, ...this.currentLevels() };
  }

  /** A live hold's quantity (0 when there is none) with the SKU's pricing, for reconciliation. */
  holdOf(holdId: string, now: number): { quantity: number; expires_at: string | null; item: SkuPricing | null } {
    this.expireDue(now);
    const hold = this.holds.get(holdId);
    return { quantity: hold?.quantity ?? 0, expires_at: hold ? iso(hold.expires_at) : null, item: this.item };
  }

  /** Moves a live hold's expiry to `now + ttlMs`, never past its lifetime cap when one is given. */
  extend(
    holdId: string,
    ttlMs: number,
    now: number,
    maxHoldSeconds?: number,
  ): Ok<{ expires_at: string; quantity: number }> | InventoryRefusal {
    this.expireDue(now);
    const existing = this.holds.get(holdId);
    if (!existing) return { ok: false, reason: this.isCommitted(holdId) ? "hold_committed" : "hold_not_found" };
    const hold = { ...existing, expires_at: holdExpiry(now, ttlMs, existing.held_since ?? now, maxHoldSeconds) };
    this.changeHold("hold", existing, hold, now);
    return { ok: true, quantity: hold.quantity, expires_at: iso(hold.expires_at) };
  }

  /**
   * Sells the held units: on_hand and reserved both drop by the hold's quantity. Idempotent: a
   * retried commit reports the same quantity and changes nothing.
   */
  commit(holdId: string, now: number): Ok<StockLevels & { quantity: number; duplicate: boolean }> | InventoryRefusal {
    this.expireDue(now);
    const existing = this.holds.get(holdId);
    if (!existing) {
      const done = this.ready
        ? this.sql.exec<{ quantity: number }>("SELECT quantity FROM committed_holds WHERE hold_id = ?", holdId).toArray()[0]
        : undefined;
      return done
        ? { ok: true, quantity: done.quantity, duplicate: true, ...this.currentLevels() }
        : { ok: false, reason: "hold_not_found" };
    }
    this.changeHold("commit", existing, null, now);
    return { ok: true, quantity: existing.quantity, duplicate: false, ...this.currentLevels() };
  }

  /** The SKU's stock and live holds (earliest expiry first), or null if it was never stocked. */
  snapshot(now: number): InventorySnapshot | null {
    this.expireDue(now);
    if (this.stock === null) return null;
    const holds = this.sql
      .exec<HoldRow>("SELECT hold_id, owner_id, quantity, expires_at FROM holds ORDER BY expires_at, hold_id LIMIT ?", MAX_LISTED_HOLDS)
      .toArray()
      .map((h): Hold => ({ hold_id: h.hold_id, owner_id: h.owner_id, quantity: h.quantity, expires_at: iso(h.expires_at) }));
    return { sku: this.sku, ...this.currentLevels(), holds, holds_total: this.holds.size };
  }

  /**
   * Rebuilds this SKU from the levels Postgres saved, unless that would rewind it: an object
   * whose ledger is at or past the saved position is live and ahead of Postgres, and is left
   * alone. Otherwise (its state was lost, or it is behind) it takes the catalog entry and the
   * saved on_hand, and its ledger continues after the saved position, so its next level reports
   * are newer than what Postgres has. Units sold before are kept for reporting (`sold_base`).
   */
  restore(
    point: { pricing: SkuPricing; on_hand: number; sold: number; ledger_seq: number },
    now: number,
  ): { outcome: "restored" } | { outcome: "skipped"; reason: string } {
    this.expireDue(now);
    if (this.stock !== null && this.lastSeq >= point.ledger_seq)
      return { outcome: "skipped", reason: "live: its ledger is at or past the saved position" };
    const stock = this.stock ?? { on_hand: 0, reserved: 0, sold: 0 };
    if (planOnHand(stock, point.on_hand).ok === false) return { outcome: "skipped", reason: "it reserves more than the saved on_hand" };
    this.define(point.pricing, now);
    const soldBase = Math.max(0, point.sold - stock.sold);
    this.commitChange({ ...stock, on_hand: point.on_hand }, now, "set", { reason: "restore", seq: point.ledger_seq }, () => {
      this.sql.exec("UPDATE level_reports SET sold_base = ? WHERE id = 1", soldBase);
    });
    this.soldBase = soldBase;
    return { outcome: "restored" };
  }
}
