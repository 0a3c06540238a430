/**
 * Server-side storefronts (docs/api.md "Server-side storefronts"): a storefront rendered on a
 * server sends every shopper from its own IP. With a storefront key the back office issued, it
 * names the shopper's IP in `Edgecart-Client-IP`, and the per-IP limits key on that IP. Without a
 * key that verifies, the header is ignored: anyone can send it, so on its own it proves nothing.
 *
 * A key is verified at the edge: its SHA-256 names its entry in KV (STOREFRONT_KEYS), published
 * by sync/storefront-keys.ts. The key itself is never stored, logged, nor part of a KV name.
 * Neither header is allowed by CORS: browsers cannot send them, and must never hold a key.
 */
import * as z from "zod";
import { ShopperIp, StorefrontKeyEntry, StorefrontSecret, storefrontKeyKvName } from "../contracts";
import { sha256Hex } from "../platform/crypto";
import { parseOrThrow } from "./input";

/** Request headers, lower-case as Headers report them. */
export const STOREFRONT_KEY_HEADER = "edgecart-storefront-key";
export const CLIENT_IP_HEADER = "edgecart-client-ip";

/** Edge cache of a key's KV entry (KV's minimum): a revocation reaches every location within it. */
export const STOREFRONT_KEY_CACHE_TTL = 60;

/** Whether the request's storefront key is one the back office issued and has not revoked. */
async function verifiedStorefront(request: Request, env: Env): Promise<boolean> {
  const key = request.headers.get(STOREFRONT_KEY_HEADER);
  if (key === null || !StorefrontSecret.safeParse(key).success) return false;
  const text = await env.STOREFRONT_KEYS.get(storefrontKeyKvName(await sha256Hex(key)), {
    type: "text",
    cacheTtl: STOREFRONT_KEY_CACHE_TTL,
  });
  if (text === null) return false;
  try {
    return StorefrontKeyEntry.safeParse(JSON.parse(text)).success;
  } catch {
    return false;
  }
}

/**
 * The shopper IP a verified storefront names, lower-cased; null when the request has no verified
 * key or names no IP (the connecting IP then counts). A verified key with a malformed IP is 400
 * `invalid_request` on `header.edgecart-client-ip`: that storefront has a bug to fix.
 */
export async function storefrontShopperIp(request: Request, env: Env): Promise<string | null> {
  const ip = request.headers.get(CLIENT_IP_HEADER);
  if (ip === null || !(await verifiedStorefront(request, env))) return null;
  return parseOrThrow(z.object({ [CLIENT_IP_HEADER]: ShopperIp }), { [CLIENT_IP_HEADER]: ip }, "header")[CLIENT_IP_HEADER].toLowerCase();
}
