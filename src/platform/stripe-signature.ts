/**
 * Stripe's webhook signature (https://docs.stripe.com/webhooks#verify-manually), checked on Web
 * Crypto: `Stripe-Signature: t=<Unix seconds>,v1=<hex HMAC-SHA256>[,v1=…][,v0=…]`, where each `v1`
 * is the HMAC-SHA256 of "{t}.{raw body}" under the endpoint's signing secret (`whsec_…`, the
 * whole string is the key). The header is read as the official `stripe` package reads it (items
 * split on commas, key and value on `=`); one matching `v1` among several suffices, since Stripe
 * signs with two secrets while one is being rolled.
 *
 * This replaces the `stripe` package at run time (it was 28% of the Worker's gzip bundle, for
 * these few lines); the tests hold this verifier to the package's answers on the same inputs
 * (test/stripe-signature.test.ts). Depends only on ./crypto.
 */
import { bytesEqual, hmacSha256, toHex } from "./crypto";

/** A parsed `Stripe-Signature` header: its timestamp and its `v1` signatures. */
export interface StripeSignatureHeader {
  timestamp: number;
  signatures: string[];
}

/** Why a signature is refused (for logs and tests; the caller answers every reason alike). */
export type StripeSignatureFailure = "malformed" | "no_match" | "too_old" | "too_new";

const MAX_HEADER_LENGTH = 4096;
const encoder = new TextEncoder();

/**
 * The timestamp and `v1` signatures of a header, or null when it has no usable timestamp or no
 * `v1` signature. A timestamp is decimal digits only (the package would read `t=12ab` as 12).
 */
export function parseStripeSignature(header: string): StripeSignatureHeader | null {
  if (header.length === 0 || header.length > MAX_HEADER_LENGTH) return null;
  let timestamp: number | null = null;
  const signatures: string[] = [];
  for (const item of header.split(",")) {
    const [key, value = ""] = item.split("=");
    if (key === "t") timestamp = /^\d{1,15}$/.test(value) ? Number(value) : null;
    else if (key === "v1") signatures.push(value);
  }
  return timestamp === null || signatures.length === 0 ? null : { timestamp, signatures };
}

/**
 * Checks `header` over the raw `payload`: null when one `v1` signature matches and the timestamp
 * is within `toleranceSeconds` of `nowSeconds` either way, else the reason it is refused. Every
 * signature is compared, each in constant time.
 */
export async function checkStripeSignature(
  secret: string,
  header: string,
  payload: string,
  toleranceSeconds: number,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<StripeSignatureFailure | null> {
  const parsed = parseStripeSignature(header);
  if (parsed === null) return "malformed";
  const expected = encoder.encode(toHex(await hmacSha256(secret, `${parsed.timestamp}.${payload}`)));
  let matched = false;
  for (const signature of parsed.signatures) {
    if (bytesEqual(encoder.encode(signature), expected)) matched = true;
  }
  if (!matched) return "no_match";
  if (nowSeconds - parsed.timestamp > toleranceSeconds) return "too_old";
  if (parsed.timestamp - nowSeconds > toleranceSeconds) return "too_new";
  return null;
}
