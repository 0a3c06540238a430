/**
 * Who may read or change a cart, and the orders placed from it: the holder of the cart's token,
 * and no one else. The token (256 random bits) is shown once, when the cart is created; the cart
 * keeps only its SHA-256. A token that is not the cart's own is answered exactly as a cart that
 * does not exist (404 `not_found`), so a caller learns nothing about other carts.
 */
import { randomToken, secretsEqual, sha256Hex } from "../platform/crypto";

/** A new cart token: 256 random bits, base64url. */
export function newCartToken(): string {
  return randomToken(32);
}

/** The credential a cart request carries to the cart's object: the SHA-256 (hex) of the token. */
export function cartCredential(token: string): Promise<string> {
  return sha256Hex(token);
}

/** Whether a presented credential is the cart's own, compared in constant time. */
export function isCartHolder(presented: string, stored: string): Promise<boolean> {
  return secretsEqual(presented, stored);
}
