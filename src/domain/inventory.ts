/**
 * Inventory arithmetic and outcome types, shared by the SKU object, its routes and the tests.
 * Pure: no storage, no clock.
 */

/** What every inventory answer reports. `available = on_hand − reserved`, never negative. */
export interface StockLevels {
  on_hand: number;
  reserved: number;
  available: number;
}

/** One hold as reported to callers (expires_at as RFC 3339). */
export interface HoldView {
  hold_id: string;
  owner_id: string;
  quantity: number;
  expires_at: string;
}

/** The SKU object's public state. */
export interface InventorySnapshot extends StockLevels {
  sku: string;
  holds: HoldView[];
  /** Number of live holds; `holds` lists at most {@link MAX_LISTED_HOLDS} of them, earliest expiry first. */
  holds_total: number;
}

/** Holds listed in a snapshot at most (a flash sale can have thousands). */
export const MAX_LISTED_HOLDS = 500;

/** Expected refusals, returned as data (never thrown) so their fields survive RPC. */
export type InventoryRefusal =
  | { ok: false; reason: "insufficient_stock"; available: number }
  | { ok: false; reason: "below_reserved"; reserved: number; on_hand: number }
  | { ok: false; reason: "hold_not_found" }
  | { ok: false; reason: "hold_owner_mismatch" }
  | { ok: false; reason: "hold_committed" }
  | { ok: false; reason: "unknown_sku" }
  | { ok: false; reason: "quantity_limit_exceeded"; limit: number }
  | { ok: false; reason: "currency_mismatch"; currency: string };

export type InventoryResult<T> = ({ ok: true } & T) | InventoryRefusal;

/** Builds the stock levels from on_hand and reserved. */
export function levels(onHand: number, reserved: number): StockLevels {
  return { on_hand: onHand, reserved, available: onHand - reserved };
}

/**
 * Decides a hold change: the hold goes from `current` to `wanted` units. Growth must fit in what
 * is available; shrinking always succeeds. On refusal, `available` is the most this hold could be
 * set to now (what is free plus what it already holds).
 */
export function planHold(
  stock: { on_hand: number; reserved: number },
  current: number,
  wanted: number,
): { ok: true; delta: number } | { ok: false; reason: "insufficient_stock"; available: number } {
  const delta = wanted - current;
  const free = stock.on_hand - stock.reserved;
  if (delta > free) return { ok: false, reason: "insufficient_stock", available: free + current };
  return { ok: true, delta };
}

/** Decides a change of on_hand: it may never go below what is reserved (or below 0). */
export function planOnHand(
  stock: { on_hand: number; reserved: number },
  next: number,
): { ok: true } | { ok: false; reason: "below_reserved"; reserved: number; on_hand: number } {
  if (next < stock.reserved || next < 0) return { ok: false, reason: "below_reserved", reserved: stock.reserved, on_hand: stock.on_hand };
  return { ok: true };
}
