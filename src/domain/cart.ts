/**
 * Cart arithmetic and views. Pure: money in integer minor units, time as a parameter.
 */
import type { Cart } from "../contracts";

export type CartStatus = "open" | "checked_out" | "expired";

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
}

/** One line: what the shopper holds and the unit price it was added at. */
export interface CartLineState {
  sku: string;
  product_id: string;
  title: string;
  quantity: number;
  unit_amount: number;
}

/** Multiplies money, refusing results beyond safe integers (never silently wrong). */
export function multiply(amount: number, quantity: number): number {
  const total = amount * quantity;
  if (!Number.isSafeInteger(total)) throw new RangeError("money overflow");
  return total;
}

/** The cart as the API shows it: line totals and subtotal computed in minor units. */
export function cartView(cart: CartState, lines: readonly CartLineState[]): Cart {
  const items = lines.map((line) => ({
    sku: line.sku,
    product_id: line.product_id,
    title: line.title,
    quantity: line.quantity,
    unit_price: { amount: line.unit_amount, currency: cart.currency },
    line_total: { amount: multiply(line.unit_amount, line.quantity), currency: cart.currency },
  }));
  const subtotal = items.reduce((sum, item) => sum + item.line_total.amount, 0);
  if (!Number.isSafeInteger(subtotal)) throw new RangeError("money overflow");
  return {
    id: cart.cart_id,
    status: cart.status,
    currency: cart.currency,
    region: cart.region,
    version: cart.version,
    items,
    subtotal: { amount: subtotal, currency: cart.currency },
    expires_at: new Date(cart.expires_at).toISOString(),
    created_at: new Date(cart.created_at).toISOString(),
    order_id: cart.order_id,
  };
}

/** The hold a cart keeps on a SKU: derived from both, so a retried change reuses it. */
export function holdIdFor(cartId: string, sku: string): string {
  return `cart:${cartId}:${sku}`;
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
