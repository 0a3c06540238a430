/**
 * Hold moves, for cart merge at sign-in (src/domain/merge.ts plans them; the cart calls one per
 * SKU): a guest cart's hold on this SKU moves into the signed-in shopper's hold, in one
 * transaction, idempotently by merge id, and can be undone once if the merge is abandoned.
 *
 * `moveHold` sets the target hold to exactly `quantity` units, the source hold's units first: the
 * source hold disappears, units the two held beyond `quantity` return to stock, and only units
 * beyond what they held need free stock (all or nothing: `insufficient_stock`). With both holds
 * live and `quantity` at most their sum, available never falls: it stays as it was, or rises by
 * exactly what is returned; a source hold that lapsed makes the move an ordinary hold of
 * `quantity` (re-reserving). A successful move is recorded under its merge id with both holds as
 * they were, so a replay (same holds, same owner, same quantity) changes nothing and answers
 * exactly what the first call answered; anything else under that id is `merge_id_reused`. A
 * refused move changes and records nothing: a later call with the same id is decided afresh.
 *
 * `undoMove` guarantees, all or nothing, in one transaction: if the move happened and the holds
 * are still as it left them (the target holds exactly the moved quantity for the same owner, the
 * source id is not held again; a target that lapsed or was released since counts as changed,
 * unless the move had set it to 0), both holds are restored as they were before the move (quantity,
 * owner, expiry, first reservation, client), except a hold whose own expiry has passed since,
 * which stays gone as it would have; the units this needs beyond what the target holds must be
 * free (`insufficient_stock` otherwise, with `available`: the most the two could hold together
 * now). The holds having changed since answers `move_superseded` (or `hold_committed` when the
 * target was sold) and changes nothing; a refused undo leaves the move done (retry it later, or
 * finish the merge: a replayed move still answers as before). An undo of a merge id this SKU never
 * moved records the id as undone. Once undone, a move under that id is refused (`move_undone`)
 * forever, and the undo replays its first answer.
 *
 * The ledger gets one `move_out`/`move_in` row per hold whose units changed (reason
 * `merge:<id>`, or `undo:<id>`), so every hold's rows still sum to its quantity. Moves are rare,
 * so their records are read from SQLite (not kept in memory); they are never pruned.
 */
import type { SkuPricing, StockLevels } from "../contracts";
import { decideMove, type HoldLimits, holdExpiry, levels, type MoveRefusal, type Ok } from "../domain/inventory";
import type { LedgerEntry } from "./inventory-ledger";
import { type HoldRow, InventoryState, iso } from "./inventory-state";

/**
 * A move's answer: the target hold's quantity, its expiry (null when it was set to 0) and whether
 * the lifetime cap shortened it, the units the source and target holds had before (`source_units`
 * 0: the source had lapsed), the units taken from stock and returned to it, the SKU's pricing, and
 * the levels after the move.
 */
export type MoveOutcome = Ok<
  StockLevels & {
    quantity: number;
    expires_at: string | null;
    capped: boolean;
    source_units: number;
    target_units: number;
    taken: number;
    released: number;
    item: SkuPricing | null;
  }
>;

/** An undo's answer: whether a move was undone, the units each hold got back, and the levels after. */
export type UndoOutcome = Ok<StockLevels & { undone: boolean; source_units: number; target_units: number }>;

interface MoveRecord extends Record<string, SqlStorageValue> {
  merge_id: string;
  from_hold_id: string | null;
  to_hold_id: string | null;
  to_owner_id: string | null;
  quantity: number | null;
  from_before: string | null;
  to_before: string | null;
  answer: string | null;
  undo_answer: string | null;
}

/** Hold moves of one SKU; the rest of the store is in InventoryState and InventoryStore. */
export class InventoryMoves extends InventoryState {
  protected moveRecord(mergeId: string): MoveRecord | null {
    return this.ready ? (this.sql.exec<MoveRecord>("SELECT * FROM hold_moves WHERE merge_id = ?", mergeId).toArray()[0] ?? null) : null;
  }

  /** Moves hold `fromHoldId` into hold `toHoldId` (see the module's header). */
  moveHold(
    mergeId: string,
    fromHoldId: string,
    toHoldId: string,
    toOwnerId: string,
    quantity: number,
    ttlMs: number,
    now: number,
    limits: HoldLimits = {},
  ): MoveOutcome | MoveRefusal {
    if (fromHoldId === toHoldId) throw new RangeError("a hold cannot move into itself");
    if (!Number.isSafeInteger(quantity) || quantity < 0) throw new RangeError("quantity must be a non-negative integer");
    this.expireDue(now);
    if (this.stock === null) return { ok: false, reason: "unknown_sku" };
    const record = this.moveRecord(mergeId);
    if (record !== null) {
      if (record.undo_answer !== null) return { ok: false, reason: "move_undone" };
      const same =
        record.from_hold_id === fromHoldId &&
        record.to_hold_id === toHoldId &&
        record.to_owner_id === toOwnerId &&
        record.quantity === quantity;
      return same ? (JSON.parse(record.answer ?? "null") as MoveOutcome) : { ok: false, reason: "merge_id_reused" };
    }
    const from = this.holds.get(fromHoldId) ?? null;
    const to = this.holds.get(toHoldId) ?? null;
    const client = limits.client ?? to?.client ?? from?.client ?? null;
    const clientHeld =
      this.holds.unitsOf(client, toHoldId) - (client !== null && from !== null && from.client === client ? from.quantity : 0);
    const state = { stock: this.stock, item: this.item, from, to, clientHeld };
    const decision = decideMove(
      { ...state, fromCommitted: from === null && this.isCommitted(fromHoldId), toCommitted: to === null && this.isCommitted(toHoldId) },
      toOwnerId,
      quantity,
      limits,
    );
    if (!decision.ok) return decision;

    const fromUnits = from?.quantity ?? 0;
    const toUnits = to?.quantity ?? 0;
    // The merged hold keeps the earlier first reservation of the two: a merge never resets the lifetime cap.
    const heldSince = Math.min(now, ...[from, to].flatMap((hold) => (hold === null ? [] : [hold.held_since ?? now])));
    const expiresAt = holdExpiry(now, ttlMs, heldSince, limits.maxHoldSeconds);
    const next: HoldRow | null =
      quantity > 0 ? { hold_id: toHoldId, owner_id: toOwnerId, quantity, expires_at: expiresAt, held_since: heldSince, client } : null;
    const reason = `merge:${mergeId}`;
    const rows: LedgerEntry[] = [];
    if (fromUnits > 0) rows.push({ kind: "move_out", holdId: fromHoldId, reason, onHandDelta: 0, reservedDelta: -fromUnits });
    if (quantity !== toUnits)
      rows.push({
        kind: quantity > toUnits ? "move_in" : "move_out",
        holdId: toHoldId,
        reason,
        onHandDelta: 0,
        reservedDelta: quantity - toUnits,
      });
    const stock = { ...this.stock, reserved: this.stock.reserved + quantity - fromUnits - toUnits };
    const answer: MoveOutcome = {
      ok: true,
      quantity,
      expires_at: next === null ? null : iso(expiresAt),
      capped: next !== null && expiresAt < now + ttlMs,
      source_units: fromUnits,
      target_units: toUnits,
      taken: decision.taken,
      released: decision.released,
      item: this.item,
      ...levels(stock.on_hand, stock.reserved),
    };
    this.commitRows(stock, now, rows, () => {
      if (from !== null) this.sql.exec("DELETE FROM holds WHERE hold_id = ?", fromHoldId);
      this.writeHold(toHoldId, next, to !== null);
      this.sql.exec(
        "INSERT INTO hold_moves (merge_id, from_hold_id, to_hold_id, to_owner_id, quantity, from_before, to_before, answer, moved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        mergeId,
        fromHoldId,
        toHoldId,
        toOwnerId,
        quantity,
        from === null ? null : JSON.stringify(from),
        to === null ? null : JSON.stringify(to),
        JSON.stringify(answer),
        now,
      );
    });
    this.holds.delete(fromHoldId);
    this.placeInMemory(toHoldId, next);
    return answer;
  }

  /** Undoes the move recorded under `mergeId` (see the module's header). */
  undoMove(mergeId: string, now: number): UndoOutcome | MoveRefusal {
    this.expireDue(now);
    if (this.stock === null) return { ok: false, reason: "unknown_sku" };
    const record = this.moveRecord(mergeId);
    if (record !== null && record.undo_answer !== null) return JSON.parse(record.undo_answer) as UndoOutcome;
    const stock = this.stock;
    if (record === null) {
      // Nothing moved here under this id: record it as undone, so a late move under it is refused.
      const answer: UndoOutcome = { ok: true, undone: false, source_units: 0, target_units: 0, ...levels(stock.on_hand, stock.reserved) };
      this.commitRows(stock, now, [], () => {
        this.sql.exec("INSERT INTO hold_moves (merge_id, undo_answer, undone_at) VALUES (?, ?, ?)", mergeId, JSON.stringify(answer), now);
      });
      return answer;
    }
    const fromId = record.from_hold_id ?? "";
    const toId = record.to_hold_id ?? "";
    const current = this.holds.get(toId) ?? null;
    if ((current === null && this.isCommitted(toId)) || this.isCommitted(fromId)) return { ok: false, reason: "hold_committed" };
    if (
      (current?.quantity ?? 0) !== record.quantity ||
      (current !== null && current.owner_id !== record.to_owner_id) ||
      this.holds.has(fromId)
    ) {
      return { ok: false, reason: "move_superseded" };
    }
    const live = (json: string | null): HoldRow | null => {
      const hold = json === null ? null : (JSON.parse(json) as HoldRow);
      return hold !== null && hold.expires_at > now ? hold : null;
    };
    const from = live(record.from_before);
    const to = live(record.to_before);
    const currentUnits = current?.quantity ?? 0;
    const fromUnits = from?.quantity ?? 0;
    const toUnits = to?.quantity ?? 0;
    const free = stock.on_hand - stock.reserved;
    if (fromUnits + toUnits - currentUnits > free) return { ok: false, reason: "insufficient_stock", available: free + currentUnits };

    const reason = `undo:${mergeId}`;
    const rows: LedgerEntry[] = [];
    if (toUnits !== currentUnits)
      rows.push({
        kind: toUnits > currentUnits ? "move_in" : "move_out",
        holdId: toId,
        reason,
        onHandDelta: 0,
        reservedDelta: toUnits - currentUnits,
      });
    if (fromUnits > 0) rows.push({ kind: "move_in", holdId: fromId, reason, onHandDelta: 0, reservedDelta: fromUnits });
    const next = { ...stock, reserved: stock.reserved + fromUnits + toUnits - currentUnits };
    const answer: UndoOutcome = {
      ok: true,
      undone: true,
      source_units: fromUnits,
      target_units: toUnits,
      ...levels(next.on_hand, next.reserved),
    };
    this.commitRows(next, now, rows, () => {
      this.writeHold(toId, to, current !== null);
      this.writeHold(fromId, from, false);
      this.sql.exec("UPDATE hold_moves SET undo_answer = ?, undone_at = ? WHERE merge_id = ?", JSON.stringify(answer), now, mergeId);
    });
    this.placeInMemory(toId, to);
    this.placeInMemory(fromId, from);
    return answer;
  }

  /** Writes hold `holdId` as `hold` (null: deletes it); `exists` says whether its row is there now. */
  private writeHold(holdId: string, hold: HoldRow | null, exists: boolean): void {
    if (hold === null) {
      if (exists) this.sql.exec("DELETE FROM holds WHERE hold_id = ?", holdId);
      return;
    }
    if (exists) {
      this.sql.exec(
        "UPDATE holds SET owner_id = ?, quantity = ?, expires_at = ?, held_since = ?, client = ? WHERE hold_id = ?",
        hold.owner_id,
        hold.quantity,
        hold.expires_at,
        hold.held_since,
        hold.client,
        holdId,
      );
    } else {
      this.sql.exec(
        "INSERT INTO holds (hold_id, owner_id, quantity, expires_at, held_since, client) VALUES (?, ?, ?, ?, ?, ?)",
        holdId,
        hold.owner_id,
        hold.quantity,
        hold.expires_at,
        hold.held_since,
        hold.client,
      );
    }
  }

  /** Puts hold `holdId` in memory as `hold` (null: removes it), keeping the earliest expiry exact. */
  private placeInMemory(holdId: string, hold: HoldRow | null): void {
    if (hold === null) this.holds.delete(holdId);
    else this.holds.set(holdId, hold);
    this.earliest = this.earliestExpiry();
  }
}
