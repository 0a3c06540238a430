/**
 * Tax rules: exact integer rounding, tax contained in (inclusive) or added to (exclusive) an amount
 * at a rate in basis points (1 bp = 0.01 %), and what the external tax service is asked. Pure:
 * money in integer minor units, rates in integer basis points, never a float in between.
 */
import { sha256Hex } from "../platform/crypto";
import { canonicalJson } from "./idempotency";

/** 100 % in basis points. */
export const BASIS_POINTS = 10_000;

/**
 * How a cart is taxed: not at all; at one rate, contained in the prices (`inclusive`, e.g. EU VAT)
 * or added to them; or by the external service, which answered each line's tax (added to the
 * price) for exactly the body `taxRequest` built.
 */
export type TaxQuote =
  | { mode: "none" }
  | { mode: "rates"; basis_points: number; inclusive: boolean }
  | { mode: "external"; lines: Array<{ sku: string; tax: number }> };

/** Where the goods go, as the tax service needs it. */
export interface TaxDestination {
  country: string;
  region: string | null;
  postal_code: string | null;
}

/** A line as the tax service sees it: what is charged for it after every discount. */
export interface TaxableLine {
  sku: string;
  product_id: string;
  category: string | null;
  quantity: number;
  taxable: number;
}

/** The lines to tax and their currency (a `PricedCart` is one). */
export interface TaxableCart {
  currency: string;
  lines: readonly TaxableLine[];
}

/** The version of the body `taxRequest` builds; part of every cache key, so a new shape never reads an old answer. */
export const TAX_REQUEST_VERSION = 1;

/**
 * `numerator / denominator` rounded to the nearest integer, a tie to the even neighbour (banker's
 * rounding: no bias up or down over many lines). Exact for any size; `denominator` must be positive.
 */
export function roundHalfEven(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new RangeError("denominator must be positive");
  let quotient = numerator / denominator;
  let remainder = numerator % denominator;
  // BigInt division truncates toward zero: make it floor, so 0 <= remainder < denominator.
  if (remainder < 0n) {
    quotient -= 1n;
    remainder += denominator;
  }
  const twice = remainder * 2n;
  if (twice > denominator || (twice === denominator && quotient % 2n !== 0n)) return quotient + 1n;
  return quotient;
}

/** Refuses anything that is not a non-negative safe integer (an amount, a quantity, a rate). */
export function checkAmount(value: number, what = "amount"): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} must be a non-negative safe integer`);
  return value;
}

/**
 * The tax contained in `gross` at `basisPoints`: gross × r / (1 + r), i.e.
 * gross × bp / (10000 + bp), rounded half-even, computed exactly in integers.
 */
export function inclusiveTax(gross: number, basisPoints: number): number {
  const bp = BigInt(checkAmount(basisPoints, "rate"));
  return Number(roundHalfEven(BigInt(checkAmount(gross)) * bp, BigInt(BASIS_POINTS) + bp));
}

/** The tax added to `net` at `basisPoints`: net × bp / 10000, rounded half-even. */
export function exclusiveTax(net: number, basisPoints: number): number {
  const tax = Number(roundHalfEven(BigInt(checkAmount(net)) * BigInt(checkAmount(basisPoints, "rate")), BigInt(BASIS_POINTS)));
  return checkAmount(tax, "tax");
}

/** A destination spelled one way: trimmed, upper case, empty parts as null (so equal places share a cache entry). */
export function normalizeDestination(destination: TaxDestination): TaxDestination {
  const clean = (text: string | null) => {
    const value = text?.trim().replace(/\s+/g, " ").toUpperCase() ?? "";
    return value === "" ? null : value;
  };
  return { country: clean(destination.country) ?? "", region: clean(destination.region), postal_code: clean(destination.postal_code) };
}

/**
 * The body the external tax service receives for these lines (after every discount): canonical
 * JSON (sorted keys, lines in SKU order, destination normalized), versioned. The same cart always
 * gives the same bytes, so its answer can be cached and replayed.
 */
export function taxRequest(cart: TaxableCart, destination: TaxDestination): string {
  const sorted = [...cart.lines].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
  return canonicalJson({
    version: TAX_REQUEST_VERSION,
    currency: cart.currency,
    destination: normalizeDestination(destination),
    lines: sorted.map((line) => ({
      sku: line.sku,
      product_id: line.product_id,
      category: line.category,
      quantity: checkAmount(line.quantity, "quantity"),
      amount: checkAmount(line.taxable),
    })),
  });
}

/**
 * The key under which one cart's tax answer is cached: the cart's version plus a hash of the exact
 * request body, so any change of lines, discounts, currency or destination misses. Scope it to the
 * cart (its own storage, or prefix the cart id): a version alone is not unique across carts.
 */
export async function taxCacheKey(cartVersion: number, destination: TaxDestination, cart: TaxableCart): Promise<string> {
  const body = taxRequest(cart, destination);
  return `tax:v${TAX_REQUEST_VERSION}:${checkAmount(cartVersion, "cart version")}:${await sha256Hex(body)}`;
}
