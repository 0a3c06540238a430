/**
 * The cart's rules: what a line change must reserve, how a cart is shown, versions and If-Match.
 * Pure: money in integer minor units, time as a parameter.
 */
import type { Cart, CartStatus } from "../contracts";
import type { CartClaims } from "./cart-access";
import { cartExpiresAt, cartLapsed } from "./expiry";
import type { InventoryRefusal } from "./inventory";
import type { StoredLine } from "./lines";

/** Refusals a cart read or change answers with, as data. */
export type CartRefusal =
  | { ok: false; reason: "not_found" }
  | { ok: false; reason: "version_mismatch"; version: number }
  | { ok: false; reason: "cart_not_open"; status: string }
  | (InventoryRefusal & { sku: string });

/** A cart answer: the cart, or why not. */
export type CartResult = { ok: true; cart: Cart } | CartRefusal;

/** A cart's header row. Times are ms since epoch. */
export interface CartState {
  cart_id: string;
  status: CartStatus;
  currency: string;
  region: "eu" | null;
  version: number;
  created_at: number;
  expires_at: number;
  order_id: string | null;
  /** The cart this one was merged into (status `merged`). */
  merged_into?: string | null;
}

/**
 * A cart line as the cart keeps it: the line, when its hold in the SKU's object lapses (null: with
 * the cart), and whether that hold reached its lifetime cap (it cannot be renewed past it).
 */
export type CartLineState = StoredLine & { hold_expires_at: number | null; hold_final: boolean; category: string | null };

/**
 * A cart that was opened and never changed: nothing of it is stored anywhere, its token carries
 * all it is (docs/architecture.md "Carts that cost nothing to open").
 */
export function unwrittenCart(claims: CartClaims, holdTtlSeconds: number): CartState {
  return {
    cart_id: claims.cartId,
    status: "open",
    currency: claims.currency,
    region: claims.region,
    version: 1,
    created_at: claims.createdAt,
    expires_at: cartExpiresAt(claims.createdAt, holdTtlSeconds),
    order_id: null,
  };
}

/**
 * The cart as it stands at `now`. An open cart whose time is up has lapsed (its holds lapsed at
 * the same instant in the SKU objects): it shows as `expired`, one version later than its last
 * change, whether or not that was written yet.
 */
export function cartAt(cart: CartState, now: number): CartState {
  return cartLapsed(cart, now) ? { ...cart, status: "expired", version: cart.version + 1 } : cart;
}

/** The hold a cart keeps on a SKU: derived from both, so a retried change reuses it. */
export function holdIdFor(cartId: string, sku: string): string {
  return `cart:${cartId}:${sku}`;
}

/** A hold the change must set: the SKU and the quantity its hold must equal afterwards. */
export interface HoldTarget {
  sku: string;
  quantity: number;
}

/** What setting a line needs, or why it cannot happen. */
export type LinePlan =
  | { kind: "refused"; reason: "cart_not_open"; status: CartStatus }
  | { kind: "refused"; reason: "version_mismatch"; version: number }
  | { kind: "unchanged" }
  | { kind: "drop_lapsed"; sku: string }
  | {
      kind: "reserve";
      /** Holds to set, all or nothing. */
      targets: HoldTarget[];
      /** Lines whose holds must only move to the cart's new expiry. */
      extend: StoredLine[];
    };

/**
 * Plans setting the line for `sku` to exactly `quantity` (0 removes it). An open cart changes one
 * hold and moves the others to the new expiry; an expired cart holds nothing, so a PUT reserves
 * every line again, all or nothing, and the cart reopens. A DELETE (`remove`) never needs stock:
 * on an expired cart it only drops the line and the cart stays expired. A checked-out cart never
 * changes. `status` is the cart's status at this moment (expiry already applied).
 */
export function planLineChange(
  cart: { status: CartStatus; version: number },
  lines: readonly StoredLine[],
  sku: string,
  quantity: number,
  ifMatch: string | null,
  remove = false,
): LinePlan {
  if (cart.status === "checked_out" || cart.status === "merged") return { kind: "refused", reason: "cart_not_open", status: cart.status };
  if (!ifMatchSatisfied(ifMatch, cart.version)) return { kind: "refused", reason: "version_mismatch", version: cart.version };
  const others = lines.filter((line) => line.sku !== sku);
  if (cart.status === "expired" && remove) return others.length === lines.length ? { kind: "unchanged" } : { kind: "drop_lapsed", sku };
  if (cart.status === "expired")
    return {
      kind: "reserve",
      targets: [...others.map((line) => ({ sku: line.sku, quantity: line.quantity })), { sku, quantity }],
      extend: [],
    };
  // Removing a line the cart does not have changes nothing.
  if (quantity === 0 && others.length === lines.length) return { kind: "unchanged" };
  return { kind: "reserve", targets: [{ sku, quantity }], extend: others };
}

/**
 * Parses If-Match against a cart version: `"4"`, `W/"4"`, a list, or `*`. Returns whether the
 * version matches; a malformed header never matches.
 */
export function ifMatchSatisfied(header: string | null, version: number): boolean {
  if (header === null) return true;
  return header.split(",").some((part) => {
    const tag = part.trim();
    if (tag === "*") return true;
    const match = /^(?:W\/)?"(\d+)"$/.exec(tag);
    return match !== null && Number(match[1]) === version;
  });
}

/** The ETag of a cart version. */
export function etagOf(version: number): string {
  return `"${version}"`;
}
