/**
 * Storefront keys, Postgres → edge. Postgres keeps every key issued (its SHA-256 only); KV
 * (STOREFRONT_KEYS) holds one entry per live key, named by that hash, which is all the edge needs
 * to verify a key (src/http/storefront.ts) without a database round trip.
 *
 * Issue: the row first, then the KV entry; if KV refuses, the row is revoked and the call fails,
 * so no key exists that works but cannot be listed, nor one listed as live that cannot work.
 * Revoke: the row first, then the KV delete; if KV refuses, the call fails and revoking again
 * finishes it. Edge reads cache for 60 s, so a revoked key stops working within about a minute.
 */
import { type IssuedStorefrontKey, type StorefrontKeyEntry, storefrontKeyKvName } from "../contracts";
import { withDb } from "../db/client";
import { insertStorefrontKey, revokeStorefrontKey, revokeUnpublished } from "../db/storefront-keys";
import { randomToken, sha256Hex, toHex } from "../platform/crypto";
import { errorFields, log } from "../platform/log";

/** Issues a key: the only time its secret exists outside the caller's hands is in this answer. */
export async function issueStorefrontKey(env: Env, name: string): Promise<IssuedStorefrontKey> {
  const id = `sfk_${toHex(crypto.getRandomValues(new Uint8Array(16)))}`;
  const key = `ecsk_${randomToken(32)}`;
  const keyHash = await sha256Hex(key);
  const record = await withDb(env, (db) => insertStorefrontKey(db, { id, name, keyHash, createdAt: new Date() }));
  const entry: StorefrontKeyEntry = { id, name };
  try {
    await env.STOREFRONT_KEYS.put(storefrontKeyKvName(keyHash), JSON.stringify(entry));
  } catch (error) {
    log("error", "storefront key not published; revoking it", { key_id: id, ...errorFields(error) });
    await withDb(env, (db) => revokeUnpublished(db, id, new Date()));
    throw error;
  }
  return { ...record, key };
}

/** Revokes a key: false when no key has this id. */
export async function revokeStorefrontKeyEverywhere(env: Env, id: string): Promise<boolean> {
  const revoked = await withDb(env, (db) => revokeStorefrontKey(db, id, new Date()));
  if (revoked === null) return false;
  await env.STOREFRONT_KEYS.delete(storefrontKeyKvName(revoked.keyHash));
  return true;
}
