/**
 * Who may read or change a cart, and the orders placed from it: the holder of the cart's token,
 * and no one else. A token that is not the cart's own is answered exactly as a cart that does not
 * exist (404 `not_found`), so a caller learns nothing about other carts.
 *
 * A token is self-contained so that opening a cart writes nothing: it carries what an unwritten
 * cart must know (currency, region, creation time) and an HMAC-SHA256 over those and the cart's
 * id under the Worker's `CART_TOKEN_SECRET`:
 *
 *     ct2.<cart id, base64url>.<currency>.<region or ->.<created ms, base36>.<base64url HMAC, 256 bits>
 *
 * The token names its cart, so a token alone identifies it (a cart merge takes the source cart's
 * token and nothing else). Tokens minted before that (`ct1.<currency>.<region>.<created>.<HMAC>`)
 * are still verified against the cart id of the request; they just cannot name their cart.
 *
 * The Worker checks the MAC (constant time) before any object is touched, so a wrong token costs
 * no object at all; the token is never stored anywhere. `CART_TOKEN_SECRET` may list several
 * secrets separated by commas: the first signs, every one verifies (rotation).
 *
 * Carts created before tokens carried their claims have a random token whose SHA-256 the cart
 * object stores; such a token is checked by the object itself ({@link legacyCredential}).
 */
import { base64UrlDecode, base64UrlEncode, bytesEqual, fromHex, hmacSha256, secretsEqual, sha256Hex, toHex } from "../platform/crypto";

/** What a token proves about its cart. */
export interface CartClaims {
  cartId: string;
  currency: string;
  region: "eu" | null;
  /** When the cart was opened (ms). */
  createdAt: number;
}

/** How a request proves it may use a cart: verified claims, or an old-style token's hash for the object to check. */
export type CartAccess = { kind: "claims"; claims: CartClaims } | { kind: "legacy"; credential: string };

const VERSION = "ct2";
const TOKEN_V2 = /^ct2\.([A-Za-z0-9_-]{43})\.([A-Z]{3})\.(eu|-)\.([0-9a-z]{1,11})\.([A-Za-z0-9_-]{43})$/;
const TOKEN_V1 = /^ct1\.([A-Z]{3})\.(eu|-)\.([0-9a-z]{1,11})\.([A-Za-z0-9_-]{43})$/;

function macInput(version: "ct1" | "ct2", claims: CartClaims): string {
  return [version, claims.cartId, claims.currency, claims.region ?? "-", claims.createdAt.toString(36)].join("\n");
}

/** Mints the token of a new cart. Throws when no secret is configured (a deployment error). */
export async function mintCartToken(secrets: readonly string[], claims: CartClaims): Promise<string> {
  const secret = secrets[0];
  if (secret === undefined) throw new Error("CART_TOKEN_SECRET is not set");
  const mac = base64UrlEncode(await hmacSha256(secret, macInput(VERSION, claims)));
  const id = base64UrlEncode(fromHex(claims.cartId));
  return [VERSION, id, claims.currency, claims.region ?? "-", claims.createdAt.toString(36), mac].join(".");
}

/** The cart a token names (64 lowercase hex), or null when it names none (an older token). Not a check: verify with `cartAccess`. */
export function cartIdOfToken(token: string): string | null {
  const match = TOKEN_V2.exec(token);
  if (match === null) return null;
  try {
    const bytes = base64UrlDecode(match[1]!);
    return bytes.length === 32 ? toHex(bytes) : null;
  } catch {
    return null;
  }
}

/**
 * What `token` proves about cart `cartId`: its claims when the MAC verifies under one of the
 * secrets, an old-style credential when the token is not of this format, or null (not this
 * cart's token).
 */
export async function cartAccess(secrets: readonly string[], cartId: string, token: string): Promise<CartAccess | null> {
  const v2 = TOKEN_V2.exec(token);
  const match = v2 === null ? TOKEN_V1.exec(token) : v2.slice(1);
  if (match === null) return /^ct\d\./.test(token) ? null : { kind: "legacy", credential: await legacyCredential(token) };
  // A token that names a cart proves nothing about another.
  if (v2 !== null && cartIdOfToken(token) !== cartId) return null;
  const [, currency, region, created, mac] = match;
  const version = v2 === null ? "ct1" : "ct2";
  const claims: CartClaims = {
    cartId,
    currency: currency!,
    region: region === "eu" ? "eu" : null,
    createdAt: Number.parseInt(created!, 36),
  };
  let presented: Uint8Array;
  try {
    presented = base64UrlDecode(mac!);
  } catch {
    return null;
  }
  for (const secret of secrets) {
    if (bytesEqual(presented, await hmacSha256(secret, macInput(version, claims)))) return { kind: "claims", claims };
  }
  return null;
}

/** The SHA-256 (hex) of an old-style token: what a cart created before claims stores and compares. */
export function legacyCredential(token: string): Promise<string> {
  return sha256Hex(token);
}

/** Whether an old-style credential is the one a cart stored, compared in constant time. */
export function legacyHolderMatches(presented: string, stored: string): Promise<boolean> {
  return secretsEqual(presented, stored);
}
