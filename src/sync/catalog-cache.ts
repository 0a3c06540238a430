/**
 * The catalog's edge cache in Workers KV (key design in docs/storage.md):
 *   product:v1:{id}                    the Product as storefronts see it, or a short-lived "missing" tombstone
 *   index:v1:all:{id}                  one empty entry per active product (listing, sorted by id)
 *   index:v1:category:{category}:{id}  the same, per category
 * Every value read back is validated; an entry that fails validation counts as a miss.
 */
import { z } from "zod";
import { Product } from "../contracts";

/** Edge cache time for reads (KV `cacheTtl`, seconds; 60 is KV's minimum and a fair lag). */
export const READ_CACHE_TTL = 60;
/** How long a "no such product" answer is cached, so misses do not hammer Postgres. */
export const MISSING_TTL = 60;

const Tombstone = z.object({ missing: z.literal(true) });
const CachedEntry = z.union([Product, Tombstone]);

export const productKey = (id: string) => `product:v1:${id}`;
export const indexPrefix = (category?: string) => (category === undefined ? "index:v1:all:" : `index:v1:category:${category}:`);
const indexKey = (id: string, category?: string) => `${indexPrefix(category)}${id}`;

/** A cached lookup: a product, a cached "missing", or nothing usable (a miss). */
export type CacheLookup = { kind: "hit"; product: Product } | { kind: "missing" } | { kind: "miss" };

function interpret(value: unknown): CacheLookup {
  if (value === null || value === undefined) return { kind: "miss" };
  const parsed = CachedEntry.safeParse(value);
  if (!parsed.success) return { kind: "miss" };
  return "missing" in parsed.data ? { kind: "missing" } : { kind: "hit", product: parsed.data };
}

/** Reads one product entry. Malformed JSON or a schema mismatch is a miss. */
export async function readProduct(kv: KVNamespace, id: string): Promise<CacheLookup> {
  const text = await kv.get(productKey(id), { type: "text", cacheTtl: READ_CACHE_TTL });
  return interpret(parseJson(text));
}

/** Reads many product entries in one bulk call (KV allows 100 keys per call). */
export async function readProducts(kv: KVNamespace, ids: string[]): Promise<Map<string, CacheLookup>> {
  const result = new Map<string, CacheLookup>();
  if (ids.length === 0) return result;
  const values = await kv.get(ids.map(productKey), { type: "text", cacheTtl: READ_CACHE_TTL });
  for (const id of ids) result.set(id, interpret(parseJson(values.get(productKey(id)) ?? null)));
  return result;
}

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Caches "no such product" briefly. */
export async function writeMissing(kv: KVNamespace, id: string): Promise<void> {
  await kv.put(productKey(id), JSON.stringify({ missing: true }), { expirationTtl: MISSING_TTL });
}

/**
 * Writes a product and its listing entries: active products are listed (under all and their
 * category), archived ones are removed; a category change removes the old category's entry.
 * `previousCategory` is what the cache listed it under before, when known.
 */
export async function writeProduct(kv: KVNamespace, product: Product, previousCategory: string | null | undefined): Promise<void> {
  const listed = product.status === "active";
  const category = product.category ?? undefined;
  const writes: Promise<unknown>[] = [kv.put(productKey(product.id), JSON.stringify(product))];
  writes.push(listed ? kv.put(indexKey(product.id), "") : kv.delete(indexKey(product.id)));
  if (category !== undefined) writes.push(listed ? kv.put(indexKey(product.id, category), "") : kv.delete(indexKey(product.id, category)));
  if (previousCategory && previousCategory !== category) writes.push(kv.delete(indexKey(product.id, previousCategory)));
  await Promise.all(writes);
}

/** Removes a stale listing entry (found pointing at a product no longer listed there). */
export async function dropIndexEntry(kv: KVNamespace, id: string, category?: string): Promise<void> {
  await kv.delete(indexKey(id, category));
}

/** One page of listed product ids from the index, with KV's continuation cursor. */
export async function listIds(kv: KVNamespace, options: { limit: number; cursor?: string; category?: string }): Promise<{ ids: string[]; cursor: string | null }> {
  const prefix = indexPrefix(options.category);
  const page = await kv.list({ prefix, limit: options.limit, ...(options.cursor !== undefined ? { cursor: options.cursor } : {}) });
  return {
    ids: page.keys.map((k) => k.name.slice(prefix.length)),
    cursor: page.list_complete ? null : page.cursor,
  };
}
