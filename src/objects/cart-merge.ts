/**
 * Cart merge at sign-in, carried out by the TARGET cart's object (the rule: domain/merge.ts).
 *
 * The steps, each recorded in the target's `merges` table before the next, so that an interruption
 * anywhere is finished (or, when it cannot be, undone) by the target's alarm or by the request's
 * retry:
 *   1. `locking`: the intent is recorded; then the source cart is locked: it becomes `merged` (it
 *      refuses writes from then on) and hands over its lines. A lock that never happened is
 *      aborted: nothing moved.
 *   2. `moving`: the plan is recorded; then each SKU's object moves the source's hold into the
 *      target's (InventoryObject.moveHold, idempotent by merge id; only lapsed units re-reserve),
 *      each settled quantity recorded as it lands.
 *   3. `done`: the target's lines are written with the report, in one transaction.
 *   4. The source drops its lines and gives back its codes' redemptions (`source_settled`).
 * A move refused for a reason that is not about units (a sold hold) undoes every move and reopens
 * the source: the carts are as before the merge. Holds are moved, never taken twice: while both
 * carts are open, a merge needs no stock at all and `available` does not change.
 */
import { settings } from "../config";
import { type CartState, holdIdFor } from "../domain/cart";
import type { CartAccess } from "../domain/cart-access";
import { cartExpiryAfter } from "../domain/expiry";
import { type HoldMove, type MergeMode, type MergeReportEntry, mergeReport, planMerge, retryMove } from "../domain/merge";
import { errorFields, log } from "../platform/log";
import type { CartStore, LineWrite, MergeRecord, StoredCart } from "./cart-store";
import type { MoveOutcome } from "./inventory-moves";
import { cartStub, inventoryStub } from "./stubs";

/** What the source answers when asked to lock for a merge. */
export type MergeLock =
  | { ok: true; lines: Array<{ sku: string; quantity: number }> }
  | { ok: false; reason: "not_found" }
  | { ok: false; reason: "carts_incompatible"; field: "currency" | "region" | "same_cart" }
  | { ok: false; reason: "cart_not_open"; status: string };

export type MergeResult =
  | { ok: true; report: MergeReportEntry[] }
  | Exclude<MergeLock, { ok: true }>
  | { ok: false; reason: "hold_conflict"; sku: string };

/** A merge's id: one per pair of carts (a source merges into a target once). */
export const mergeIdOf = (targetId: string, sourceId: string) => `${targetId}:${sourceId}`;

/** The id the SKU objects see: one per attempt, so an undone attempt never blocks the next. */
const skuMergeId = (record: MergeRecord) => `${record.merge_id}:${record.attempt}`;

export class CartMerger {
  constructor(
    private readonly env: Env,
    private readonly carts: CartStore,
    private readonly arm: (at: number) => Promise<void>,
  ) {}

  /**
   * Merges the source cart into this (open) target. `sourceAccess` is what the source's token
   * proved (null when resuming: the source is then only asked whether it is locked for us).
   */
  async run(
    stored: StoredCart,
    cart: CartState,
    sourceId: string,
    sourceAccess: CartAccess | null,
    mode: MergeMode,
    now: number,
  ): Promise<MergeResult> {
    const mergeId = mergeIdOf(cart.cart_id, sourceId);
    let record = this.carts.mergeRecord(mergeId);
    if (record?.state === "done") return this.#settleSource(record, now);
    // An aborted attempt is final for the alarm; a new request (with the source's token) tries again.
    if (record?.state === "aborted" && sourceAccess === null) return record.refusal as MergeResult;
    if (record === null || record.state === "aborted") {
      const attempt = record === null ? 0 : record.attempt + 1;
      record = {
        merge_id: mergeId,
        source_id: sourceId,
        mode,
        state: "locking",
        moves: null,
        report: null,
        refusal: null,
        source_settled: false,
        attempt,
      };
      this.carts.write(stored, [], { status: cart.status, expires_at: cart.expires_at, version: cart.version }, now, () =>
        this.carts.saveMerge(record!, now),
      );
      await this.arm(now + 5000);
    }
    const source = cartStub(this.env, sourceId);
    if (source === null) return this.#abort(record, { ok: false, reason: "not_found" }, now);
    if (record.state === "locking") {
      const lock =
        sourceAccess === null
          ? await source.mergeLockState(cart.cart_id)
          : await source.lockForMerge(sourceAccess, cart.cart_id, cart.currency, cart.region);
      if (!lock.ok) return this.#abort(record, lock, now);
      const { maxLineQuantity } = settings(this.env);
      record = { ...record, state: "moving", moves: planMerge(this.carts.lines(), lock.lines, record.mode, maxLineQuantity).moves };
      this.carts.saveMerge(record, now);
    }
    return this.#move(stored, cart, record, now);
  }

  /** Finishes (or undoes) whatever merge an interruption left; the alarm and every change of the cart call this. */
  async resume(stored: StoredCart | null, cart: CartState | null, now: number): Promise<void> {
    for (const record of this.carts.pendingMerges()) {
      try {
        if (record.state === "done") await this.#settleSource(record, now);
        else if (stored !== null && cart !== null) await this.run(stored, cart, record.source_id, null, record.mode, now);
      } catch (error) {
        log("warn", "resuming a cart merge failed; the alarm retries", { merge_id: record.merge_id, ...errorFields(error) });
        await this.arm(now + 5000);
      }
    }
  }

  /** Whether any merge still owes work (for the alarm). */
  pending(): boolean {
    return this.carts.pendingMerges().length > 0;
  }

  async #move(stored: StoredCart, cart: CartState, record: MergeRecord, now: number): Promise<MergeResult> {
    const { holdTtlSeconds, maxLineQuantity, maxHoldSeconds } = settings(this.env);
    const moves = [...record.moves!];
    const outcomes = new Map<string, MoveOutcome>();
    for (const [i, planned] of moves.entries()) {
      let move: HoldMove = planned;
      for (;;) {
        const answer = await inventoryStub(this.env, move.sku).moveHold(
          skuMergeId(record),
          holdIdFor(record.source_id, move.sku),
          holdIdFor(cart.cart_id, move.sku),
          cart.cart_id,
          move.quantity,
          holdTtlSeconds,
          { currency: cart.currency, maxLineQuantity, maxHoldSeconds },
        );
        if (answer.ok) {
          outcomes.set(move.sku, answer);
          break;
        }
        const next = retryMove(move, answer);
        if (next === null) return this.#undo(record, moves.slice(0, i), { ok: false, reason: "hold_conflict", sku: move.sku }, now);
        move = next;
      }
      // Each settled quantity is recorded, so a replay asks the SKU's object for exactly what it stored.
      moves[i] = { ...move, done: true };
      this.carts.saveMerge({ ...record, moves }, now);
    }
    const lines: LineWrite[] = moves.map((move) => {
      const outcome = outcomes.get(move.sku)!;
      if (move.quantity === 0 || outcome.expires_at === null) return { sku: move.sku, quantity: 0 };
      const item = outcome.item;
      return {
        sku: move.sku,
        quantity: move.quantity,
        hold_expires_at: Date.parse(outcome.expires_at),
        hold_final: outcome.capped,
        ...(item
          ? { product_id: item.product_id, title: item.title, unit_amount: item.price.amount, category: item.category ?? null }
          : {}),
      };
    });
    const kept = this.carts.lines().filter((line) => !moves.some((move) => move.sku === line.sku));
    const after = [
      ...kept.map((l) => ({ hold_expires_at: l.hold_expires_at, hold_final: l.hold_final })),
      ...lines
        .filter((l) => l.quantity > 0)
        .map((l) => ({ hold_expires_at: l.hold_expires_at ?? null, hold_final: l.hold_final ?? false })),
    ];
    const report = mergeReport(moves);
    const done: MergeRecord = { ...record, state: "done", moves, report };
    this.carts.write(
      stored,
      lines,
      { status: "open", expires_at: cartExpiryAfter(now, holdTtlSeconds, after), version: cart.version + 1 },
      now,
      () => this.carts.saveMerge(done, now),
    );
    return this.#settleSource(done, now);
  }

  /** Tells the source its lines moved (it drops them and its codes' redemptions). */
  async #settleSource(record: MergeRecord, now: number): Promise<MergeResult> {
    if (!record.source_settled) {
      try {
        await cartStub(this.env, record.source_id)?.finishMerge(record.merge_id.split(":")[0]!);
        this.carts.saveMerge({ ...record, source_settled: true }, now);
      } catch (error) {
        log("warn", "telling a merged cart failed; the alarm retries", { merge_id: record.merge_id, ...errorFields(error) });
        await this.arm(now + 5000);
      }
    }
    return { ok: true, report: record.report ?? [] };
  }

  /** Undoes the moves made, reopens the source, and records the merge as aborted with `refusal`. */
  async #undo(record: MergeRecord, made: readonly HoldMove[], refusal: MergeResult & { ok: false }, now: number): Promise<MergeResult> {
    for (const move of made) {
      const undone = await inventoryStub(this.env, move.sku).undoMove(skuMergeId(record));
      if (!undone.ok)
        log("warn", "a merge's hold move could not be undone; the source keeps fewer units", {
          merge_id: record.merge_id,
          sku: move.sku,
          reason: undone.reason,
        });
    }
    // The SKUs not reached yet are marked undone too, so no late replay moves them.
    const reached = new Set(made.map((m) => m.sku));
    await Promise.all(
      (record.moves ?? []).filter((m) => !reached.has(m.sku)).map((m) => inventoryStub(this.env, m.sku).undoMove(skuMergeId(record))),
    );
    return this.#abort(record, refusal, now);
  }

  async #abort(record: MergeRecord, refusal: Exclude<MergeResult, { ok: true }>, now: number): Promise<MergeResult> {
    await cartStub(this.env, record.source_id)?.abortMerge(record.merge_id.split(":")[0]!);
    this.carts.saveMerge({ ...record, state: "aborted", refusal, source_settled: true }, now);
    return refusal;
  }
}
