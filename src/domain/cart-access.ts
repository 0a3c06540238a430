/**
 * Who may read or change a cart, and the orders placed from it: the holder of the cart's token,
 * and no one else. A token that is not the cart's own is answered exactly as a cart that does not
 * exist (404 `not_found`), so a caller learns nothing about other carts.
 *
 * A token is self-contained so that opening a cart writes nothing: it carries what an unwritten
 * cart must know (currency, region, creation time) and an HMAC-SHA256 over those and the cart's
 * id under the Worker's `CART_TOKEN_SECRET`:
 *
 *     ct1.<currency>.<region or ->.<created ms, base36>.<base64url HMAC, 256 bits>
 *
 * The Worker checks the MAC (constant time) before any object is touched, so a wrong token costs
 * no object at all; the token is never stored anywhere. `CART_TOKEN_SECRET` may list several
 * secrets separated by commas: the first signs, every one verifies (rotation).
 *
 * Carts created before tokens carried their claims have a random token whose SHA-256 the cart
 * object stores; such a token is checked by the object itself ({@link legacyCredential}).
 */
import { base64UrlDecode, base64UrlEncode, bytesEqual, hmacSha256, secretsEqual, sha256Hex } from "../platform/crypto";

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

const VERSION = "ct1";
const TOKEN = /^ct1\.([A-Z]{3})\.(eu|-)\.([0-9a-z]{1,11})\.([A-Za-z0-9_-]{43})$/;

function macInput(claims: CartClaims): string {
  return [VERSION, claims.cartId, claims.currency, claims.region ?? "-", claims.createdAt.toString(36)].join("\n");
}

/** Mints the token of a new cart. Throws when no secret is configured (a deployment error). */
export async function mintCartToken(secrets: readonly string[], claims: CartClaims): Promise<string> {
  const secret = secrets[0];
  if (secret === undefined) throw new Error("CART_TOKEN_SECRET is not set");
  const mac = base64UrlEncode(await hmacSha256(secret, macInput(claims)));
  return [VERSION, claims.currency, claims.region ?? "-", claims.createdAt.toString(36), mac].join(".");
}

/**
 * What `token` proves about cart `cartId`: its claims when the MAC verifies under one of the
 * secrets, an old-style credential when the token is not of this format, or null (not this
 * cart's token).
 */
export async function cartAccess(secrets: readonly string[], cartId: string, token: string): Promise<CartAccess | null> {
  const match = TOKEN.exec(token);
  if (match === null) return token.startsWith(`${VERSION}.`) ? null : { kind: "legacy", credential: await legacyCredential(token) };
  const [, currency, region, created, mac] = match;
  const claims: CartClaims = { cartId, currency: currency!, region: region === "eu" ? "eu" : null, createdAt: Number.parseInt(created!, 36) };
  let presented: Uint8Array;
  try {
    presented = base64UrlDecode(mac!);
  } catch {
    return null;
  }
  for (const secret of secrets) {
    if (bytesEqual(presented, await hmacSha256(secret, macInput(claims)))) return { kind: "claims", claims };
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
