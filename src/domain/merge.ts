/**
 * Cart merge at sign-in (issue 18), as a pure rule: a guest cart (the source) folds into the
 * signed-in shopper's cart (the target). Pure: no storage, no clock; limits are parameters.
 *
 * The rule, per SKU:
 * - `merge`: a SKU in both carts gets the LARGER of the two quantities (never their sum); a SKU
 *   only in the source is added; a SKU only in the target is left alone (its hold is not touched).
 * - `replace`: the target's lines become the source's lines; a SKU only in the target is
 *   dropped and its hold released.
 * - Every resulting quantity is clamped to the SKU's line limit.
 *
 * Holds move, they are not taken again: for each SKU of the source (and, in `replace`, each SKU
 * only in the target) the SKU's object sets the target's hold to exactly the result, using the
 * source hold's units first and returning what both held beyond the result to stock
 * (`InventoryObject.moveHold`). The result never exceeds what one of the two carts held, so while
 * both carts' holds are live a move needs no new stock and cannot fail on stock. Only when a hold
 * lapsed does the move take units from stock; it may then be refused, and {@link retryMove} says
 * what to try next (always less, ending at 0, which cannot be refused for stock).
 *
 * The report ({@link mergeReport}) has one entry per SKU of the SOURCE, nothing else:
 * - `merged`: the target's line now has what the rule asked (`quantity === requested`). In
 *   `merge`, that includes a SKU whose target quantity was already the larger one.
 * - `reduced`: the line has fewer units than the rule asked, but at least one: cut by the line
 *   limit, or by stock, the client's cap or the SKU's status when a lapsed hold had to be taken
 *   again (`reason` says which, the last cut applied).
 * - `dropped`: the line could not be kept at all (0 units); `reason` as for `reduced`.
 * SKUs only in the target are never reported: `merge` leaves them unchanged, and `replace`
 * drops them because it was asked to (the resulting cart shows it; it is not a shortfall).
 */

/** How the source's lines combine with the target's. */
export type MergeMode = "merge" | "replace";

/** A cart line as the merge sees it: the SKU and the quantity its cart shows. */
export interface MergeLine {
  sku: string;
  quantity: number;
}

/** The line limit: one for every SKU, or per SKU (the SKU's own limit when the caller knows it). */
export type LineLimit = number | ((sku: string) => number);

/** Why a line ended with fewer units than the rule asked. */
export type MergeCut = "line_limit" | "insufficient_stock" | "client_hold_limit" | "unavailable";

/** One SKU's hold move: the target's hold becomes `quantity`, the source's hold goes away. */
export interface HoldMove {
  sku: string;
  /** The source cart's quantity of the SKU (0: not in the source). */
  source: number;
  /** The target cart's quantity of the SKU (0: not in the target). */
  target: number;
  /** What the rule asks: `merge` max(source, target), `replace` source. */
  requested: number;
  /** What the target's hold is set to: `requested` within the line limit, or less after a refusal. 0 releases it. */
  quantity: number;
  /** Why `quantity` is below `requested` (absent when it is not). */
  cut?: MergeCut;
  /** Whether the SKU is in the report (it is in the source). */
  reported: boolean;
}

/** The merge of two carts, before any hold moved. */
export interface MergePlan {
  mode: MergeMode;
  /** One move per SKU whose hold changes, in SKU order. */
  moves: HoldMove[];
  /** The target's lines that stay as they are (`merge`: SKUs only in the target). */
  unchanged: MergeLine[];
  /** The target's lines afterwards if every move succeeds as planned, in SKU order (no 0 lines). */
  lines: MergeLine[];
}

/** One report entry: a SKU of the source and what became of it. */
export interface MergeReportEntry {
  sku: string;
  outcome: "merged" | "reduced" | "dropped";
  /** What the rule asked. */
  requested: number;
  /** What the target's line has now. */
  quantity: number;
  /** Why less than asked (`reduced`, `dropped`). */
  reason?: MergeCut;
}

function byUniqueSku(lines: readonly MergeLine[], which: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of lines) {
    if (!Number.isSafeInteger(line.quantity) || line.quantity <= 0)
      throw new RangeError(`${which} line ${line.sku}: quantity must be a positive integer`);
    if (map.has(line.sku)) throw new RangeError(`${which} has two lines for ${line.sku}`);
    map.set(line.sku, line.quantity);
  }
  return map;
}

function limitOf(limit: LineLimit, sku: string): number {
  const value = typeof limit === "number" ? limit : limit(sku);
  return Math.max(0, Math.floor(value));
}

/**
 * Plans merging `source` into `target`. Each cart has at most one line per SKU, each with a
 * positive quantity (a RangeError otherwise: carts never hold anything else).
 */
export function planMerge(
  target: readonly MergeLine[],
  source: readonly MergeLine[],
  mode: MergeMode,
  maxLineQuantity: LineLimit,
): MergePlan {
  const targets = byUniqueSku(target, "target");
  const sources = byUniqueSku(source, "source");
  const skus = [...new Set([...targets.keys(), ...sources.keys()])].sort();
  const moves: HoldMove[] = [];
  const unchanged: MergeLine[] = [];
  for (const sku of skus) {
    const from = sources.get(sku) ?? 0;
    const to = targets.get(sku) ?? 0;
    if (from === 0 && mode === "merge") {
      unchanged.push({ sku, quantity: to });
      continue;
    }
    const requested = mode === "merge" ? Math.max(from, to) : from;
    const quantity = Math.min(requested, limitOf(maxLineQuantity, sku));
    const move: HoldMove = { sku, source: from, target: to, requested, quantity, reported: from > 0 };
    if (quantity < requested) move.cut = "line_limit";
    moves.push(move);
  }
  const lines = [...unchanged, ...moves.filter((move) => move.quantity > 0).map((move) => ({ sku: move.sku, quantity: move.quantity }))];
  return { mode, moves, unchanged, lines: lines.sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0)) };
}

/** A refused move as the SKU's object answers it (the fields a retry needs). */
export interface MoveRefusalLike {
  reason: string;
  available?: number;
  limit?: number;
  held?: number;
}

/**
 * After the SKU's object refused `move`, what to try next: the same move with fewer units and
 * the reason, or null when the refusal is not about how many units (the target's hold was sold
 * or is another owner's, the merge id was used for another move, the move was undone): then the
 * merge cannot go on for this SKU. Every retry asks for strictly fewer units, and 0 is never
 * refused for stock, so retrying ends.
 *
 * - `insufficient_stock`: the most the target's hold can be now (`available`).
 * - `quantity_limit_exceeded`: the SKU's own limit.
 * - `client_hold_limit`: what the client's cap leaves.
 * - `unknown_sku`, `currency_mismatch`, `amount_too_large` (the SKU cannot be taken now): only
 *   what the target line had, which needs no new units when its hold is live; else nothing.
 */
export function retryMove(move: HoldMove, refusal: MoveRefusalLike): HoldMove | null {
  const less = (quantity: number, cut: MergeCut): HoldMove => ({
    ...move,
    quantity: Math.max(0, Math.min(move.quantity - 1, quantity)),
    cut,
  });
  if (move.quantity === 0) return null;
  switch (refusal.reason) {
    case "insufficient_stock":
      return less(refusal.available ?? 0, "insufficient_stock");
    case "quantity_limit_exceeded":
      return less(refusal.limit ?? 0, "line_limit");
    case "client_hold_limit":
      return less((refusal.limit ?? 0) - (refusal.held ?? 0), "client_hold_limit");
    case "unknown_sku":
    case "currency_mismatch":
    case "amount_too_large":
      return less(move.target, "unavailable");
    default:
      return null;
  }
}

/** The report entry of a settled move (its `quantity` is what the target's hold was set to). */
export function reportEntry(move: HoldMove): MergeReportEntry {
  if (move.quantity >= move.requested) return { sku: move.sku, outcome: "merged", requested: move.requested, quantity: move.quantity };
  const entry: MergeReportEntry = {
    sku: move.sku,
    outcome: move.quantity === 0 ? "dropped" : "reduced",
    requested: move.requested,
    quantity: move.quantity,
  };
  if (move.cut !== undefined) entry.reason = move.cut;
  return entry;
}

/** The merge report: one entry per SKU of the source, in SKU order (see the module's header). */
export function mergeReport(moves: readonly HoldMove[]): MergeReportEntry[] {
  return moves.filter((move) => move.reported).map(reportEntry);
}
