/**
 * The stock rules of one SKU: what a hold may take, how far on_hand may move, and what the ledger
 * must agree with. Pure: no storage, no clock. The SKU object loads the state, asks here, and
 * persists the decision in one transaction.
 */
import type { SkuPricing, StockLevels } from "../contracts";

/** `{ ok: true }` plus the fields of a successful answer. */
export type Ok<T = object> = { ok: true } & T;

/** Expected refusals, returned as data (never thrown) so their fields survive RPC. */
export type InventoryRefusal =
  | { ok: false; reason: "insufficient_stock"; available: number }
  | { ok: false; reason: "below_reserved"; reserved: number; on_hand: number }
  | { ok: false; reason: "hold_not_found" }
  | { ok: false; reason: "hold_owner_mismatch" }
  | { ok: false; reason: "hold_committed" }
  | { ok: false; reason: "unknown_sku" }
  | { ok: false; reason: "quantity_limit_exceeded"; limit: number }
  | { ok: false; reason: "client_hold_limit"; limit: number; held: number }
  | { ok: false; reason: "amount_too_large" }
  | { ok: false; reason: "currency_mismatch"; currency: string };

/** Builds the stock levels from on_hand and reserved. */
export function levels(onHand: number, reserved: number): StockLevels {
  return { on_hand: onHand, reserved, available: onHand - reserved };
}

/** Limits a caller (the cart) applies to a hold; the SKU's own max_line_quantity wins. */
export interface HoldLimits {
  /** Default per-line limit (MAX_LINE_QUANTITY). */
  maxLineQuantity?: number;
  /** The cart's currency: a SKU priced in another is refused. */
  currency?: string;
  /** Who asks (a hash of the shopper's address): units one client holds across its carts are capped. */
  client?: string;
  /** The cap on `client`'s units of this SKU, across all its holds. */
  clientLimit?: number;
  /** How long a hold may live from its first reservation, whatever renews it (checkout passes none). */
  maxHoldSeconds?: number;
}

/** Everything a hold decision depends on, as the SKU object holds it. */
export interface HoldState {
  stock: { on_hand: number; reserved: number };
  /** The SKU's catalog entry, null when it is in no product. */
  item: SkuPricing | null;
  /** The live hold under this id, if any. */
  existing: { owner_id: string; quantity: number } | null;
  /** Whether this hold id was already sold (committed): it can never be held again. */
  committed: boolean;
  /** Units the asking client holds in this SKU's other holds. */
  clientHeld?: number;
}

/** What to do with a hold: set it to `quantity` (0 removes it), moving `delta` units of reserve. */
export type HoldDecision = Ok<{ quantity: number; delta: number }> | InventoryRefusal;

/**
 * Decides a request to set a hold to exactly `quantity` units for `ownerId`. A sold hold id is
 * final; another owner's hold is untouchable; shrinking or releasing always succeeds; taking more
 * needs a sellable SKU (in a product, active, in the cart's currency), the line limit, a line total
 * that stays a safe integer, the client's cap across its carts, and the units to be free. On
 * shortage, `available` is the most this hold could be set to now.
 */
export function decideHold(state: HoldState, ownerId: string, quantity: number, limits: HoldLimits = {}): HoldDecision {
  if (state.committed) return { ok: false, reason: "hold_committed" };
  if (state.existing !== null && state.existing.owner_id !== ownerId) return { ok: false, reason: "hold_owner_mismatch" };
  const current = state.existing?.quantity ?? 0;
  if (quantity > current) {
    const { item } = state;
    if (item === null || item.status !== "active") return { ok: false, reason: "unknown_sku" };
    if (limits.currency !== undefined && item.price.currency !== limits.currency)
      return { ok: false, reason: "currency_mismatch", currency: item.price.currency };
    const limit = item.max_line_quantity ?? limits.maxLineQuantity;
    if (limit !== undefined && quantity > limit) return { ok: false, reason: "quantity_limit_exceeded", limit };
    if (!Number.isSafeInteger(item.price.amount * quantity)) return { ok: false, reason: "amount_too_large" };
    const held = state.clientHeld ?? 0;
    if (limits.clientLimit !== undefined && held + quantity > limits.clientLimit)
      return { ok: false, reason: "client_hold_limit", limit: limits.clientLimit, held };
    const free = state.stock.on_hand - state.stock.reserved;
    if (quantity - current > free) return { ok: false, reason: "insufficient_stock", available: free + current };
  }
  return { ok: true, quantity, delta: quantity - current };
}

/** Refusals of a hold move or its undo, besides the hold refusals. */
export type MoveRefusal =
  | InventoryRefusal
  /** The merge id already moved other holds, or another quantity, in this SKU. */
  | { ok: false; reason: "merge_id_reused" }
  /** The move was undone (or its undo came first): it never happens again under this merge id. */
  | { ok: false; reason: "move_undone" }
  /** Undo only: the holds changed since the move (the target's quantity or owner, or the source id is held again). */
  | { ok: false; reason: "move_superseded" };

/** Everything a hold move depends on, as the SKU object holds it. */
export interface MoveState {
  stock: { on_hand: number; reserved: number };
  item: SkuPricing | null;
  /** The live source hold (null: lapsed, released, or never taken). */
  from: { owner_id: string; quantity: number } | null;
  /** Whether the source hold id was sold. */
  fromCommitted: boolean;
  /** The live target hold, if any. */
  to: { owner_id: string; quantity: number } | null;
  /** Whether the target hold id was sold. */
  toCommitted: boolean;
  /** Units the asking client holds in this SKU's other holds (neither source nor target). */
  clientHeld?: number;
}

/** What a move does: the target's hold becomes `quantity`, `taken` units come from stock, `released` go back. */
export type MoveDecision = Ok<{ quantity: number; taken: number; released: number }> | InventoryRefusal;

/**
 * Decides moving the source hold into the target hold (owned by `toOwnerId`) so that the target
 * holds exactly `quantity`: the two holds' live units are one pool, the source's going first;
 * what the pool has beyond `quantity` returns to stock, and only units beyond the pool are new.
 * New units need everything {@link decideHold} asks of a hold that grows (sellable SKU, line
 * limit, the client's cap, free stock: `insufficient_stock` with `available`, the most the target
 * could hold now); a move within the pool needs nothing, so it cannot fail on stock. A sold source
 * or target is refused (`hold_committed`: a sold hold never moves or comes back), and so is a
 * target held by another owner.
 */
export function decideMove(state: MoveState, toOwnerId: string, quantity: number, limits: HoldLimits = {}): MoveDecision {
  if (state.fromCommitted || state.toCommitted) return { ok: false, reason: "hold_committed" };
  if (state.to !== null && state.to.owner_id !== toOwnerId) return { ok: false, reason: "hold_owner_mismatch" };
  const pool = (state.from?.quantity ?? 0) + (state.to?.quantity ?? 0);
  const pooled: HoldState = {
    stock: state.stock,
    item: state.item,
    existing: { owner_id: toOwnerId, quantity: pool },
    committed: false,
    clientHeld: state.clientHeld ?? 0,
  };
  const decision = decideHold(pooled, toOwnerId, quantity, limits);
  if (!decision.ok) return decision;
  return { ok: true, quantity, taken: Math.max(0, decision.delta), released: Math.max(0, -decision.delta) };
}

/** Decides a change of on_hand: it may never go below what is reserved (or below 0). */
export function planOnHand(
  stock: { on_hand: number; reserved: number },
  next: number,
): Ok | Extract<InventoryRefusal, { reason: "below_reserved" }> {
  if (next < stock.reserved || next < 0) return { ok: false, reason: "below_reserved", reserved: stock.reserved, on_hand: stock.on_hand };
  return { ok: true };
}

/** The state of a SKU against its ledger: what {@link ledgerAgrees} checks. */
export interface LedgerCheck {
  ok: boolean;
  on_hand: number;
  reserved: number;
  sold: number;
  ledger_on_hand: number;
  ledger_reserved: number;
  holds_reserved: number;
  ledger_sold: number;
  /** Holds whose own ledger rows do not sum to their live quantity (0 for a hold that is gone). */
  hold_mismatches: number;
}

/**
 * The SKU's invariants: on_hand, reserved and sold equal the ledger's sums, reserved equals the
 * live holds, each hold's ledger rows sum to its quantity, and 0 ≤ reserved ≤ on_hand (so
 * available is never negative).
 */
export function ledgerAgrees(check: Omit<LedgerCheck, "ok">): boolean {
  return (
    check.on_hand === check.ledger_on_hand &&
    check.reserved === check.ledger_reserved &&
    check.reserved === check.holds_reserved &&
    check.sold === check.ledger_sold &&
    check.hold_mismatches === 0 &&
    check.reserved <= check.on_hand &&
    check.reserved >= 0
  );
}

/**
 * When a hold set at `now` for `ttlMs` lapses: never later than `maxHoldSeconds` after it was
 * first taken (`heldSince`), so renewals cannot keep stock off sale forever; without a cap (checkout
 * moving the hold into the payment window), exactly `now + ttlMs`.
 */
export function holdExpiry(now: number, ttlMs: number, heldSince: number, maxHoldSeconds: number | undefined): number {
  const wanted = now + ttlMs;
  return maxHoldSeconds === undefined ? wanted : Math.min(wanted, heldSince + maxHoldSeconds * 1000);
}
