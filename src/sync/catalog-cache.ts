/**
 * The catalog's edge caches: Workers KV (every data center) and a short read-through memo (one
 * data center, one isolate; sync/catalog-memo.ts, re-exported here). Keys and invariants:
 * docs/storage.md "Workers KV".
 *
 *   product:v1:{id}                    the Product as storefronts see it; metadata {v: version}
 *   index:v1:all:{id}                  "" per active product; metadata {v: version} (listing, sorted by id)
 *   index:v1:category:{category}:{id}  the same, per category
 *   index:v1:complete                  the marker: a full rebuild found the index complete (short TTL)
 *
 * KV has no compare-and-set, a Worker cannot read it uncached (the shortest `cacheTtl` is 30 s)
 * and a write takes up to 60 s to be seen everywhere. So "a write never replaces a newer version"
 * rests on three things, not on one read:
 *   1. Every entry carries its product `version` in its metadata (`list()` shows it too).
 *   2. A read-through fill writes only the product entry, only when KV does not show the same or a
 *      newer version, and with the shortest TTL KV allows (60 s), stamped with that lapse time so
 *      that no data center's read cache serves it longer: a fill that raced a publish and landed
 *      after it is gone a minute later. Listing also ignores a product entry older than its index
 *      entry (see `judgeListed`).
 *   3. Publishes and the rebuild write with a day's TTL, then confirm against Postgres and write
 *      again while Postgres has a newer version (sync/catalog-settle.ts `settle`): whichever
 *      write lands last was followed by a Postgres read that saw no newer version.
 * Nothing an anonymous request does deletes a KV entry or writes a listing entry; only a miss of
 * a product that exists writes (one fill per id per memo window and data center).
 *
 * The rules (which write may replace which version, what a rebuild must change) are pure, in
 * src/domain/catalog-cache.ts; this module does the I/O. Every value read back is validated; an
 * entry that fails validation counts as a miss.
 */
import * as z from "zod";
import { Product } from "../contracts";
import { type EdgeState, type KeyState, listedIn, mayWrite } from "../domain/catalog-cache";

/** Edge cache time for storefront reads (KV `cacheTtl`, seconds): the documented lag. */
export const READ_CACHE_TTL = 60;
/** The freshest read a Worker can ask of KV (its minimum `cacheTtl`): the version check before a write. */
export const CHECK_CACHE_TTL = 30;
/** TTL of a read-through fill (KV's minimum `expirationTtl`): a stale fill outlives a publish by at most this. */
export const FILL_TTL = 60;
/** TTL of what publishes and the rebuild write: a safety net; the rebuild renews entries of listed products. */
export const PUBLISH_TTL = 86_400;
/** TTL of the completeness marker: listing falls back to Postgres this long after rebuilds stop. */
export const MARKER_TTL = 300;

export const MARKER_KEY = "index:v1:complete";
export const PRODUCT_PREFIX = "product:v1:";
export const productKey = (id: string) => `${PRODUCT_PREFIX}${id}`;
export const indexPrefix = (category?: string) => (category === undefined ? "index:v1:all:" : `index:v1:category:${category}:`);
export const indexKey = (id: string, category?: string) => `${indexPrefix(category)}${id}`;
const CATEGORY_INDEX_PREFIX = "index:v1:category:";

/** Entry metadata: the product version; a fill also stamps when it lapses (ms since the epoch). */
const EntryMeta = z.object({ v: z.number().int().positive(), until: z.number().optional() });
const Marker = z.object({ generation: z.string(), at: z.string() });
export type Marker = z.infer<typeof Marker>;

export {
  type EdgeState,
  type IndexChange,
  judgeListed,
  type KeyState,
  listedIn,
  mayWrite,
  type Placement,
  planRebuild,
  REFRESH_MARGIN,
  type RebuildPlan,
} from "../domain/catalog-cache";
export { MEMO_WINDOW_MS, ReadThroughMemo, readThroughMemo } from "./catalog-memo";

// ---------------------------------------------------------------------------------------------
// KV reads

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A cached product entry, or null when there is none usable (absent, malformed, or an old "missing" tombstone). */
function interpret(text: string | null): Product | null {
  const parsed = Product.safeParse(parseJson(text));
  return parsed.success ? parsed.data : null;
}

function versionOf(metadata: unknown): number | null {
  const parsed = EntryMeta.safeParse(metadata);
  return parsed.success ? parsed.data.v : null;
}

/**
 * A product entry as a storefront may use it: a fill past its own lapse time is a miss even
 * where a data center's read cache still holds it, so a fill that lost a race with a publish is
 * served for at most `FILL_TTL` after it was written.
 */
function usable(result: { value: string | null; metadata: unknown } | null | undefined, now: number): Product | null {
  if (!result) return null;
  const meta = EntryMeta.safeParse(result.metadata);
  if (meta.success && meta.data.until !== undefined && meta.data.until <= now) return null;
  return interpret(result.value);
}

/** Reads one product entry (storefront read, `cacheTtl` 60). */
export async function readProduct(kv: KVNamespace, id: string): Promise<Product | null> {
  return usable(await kv.getWithMetadata(productKey(id), { type: "text", cacheTtl: READ_CACHE_TTL }), Date.now());
}

/** Reads many product entries in one bulk call (KV allows 100 keys per call). */
export async function readProducts(kv: KVNamespace, ids: string[]): Promise<Map<string, Product | null>> {
  const result = new Map<string, Product | null>();
  if (ids.length === 0) return result;
  const now = Date.now();
  const values = await kv.getWithMetadata(ids.map(productKey), { type: "text", cacheTtl: READ_CACHE_TTL });
  for (const id of ids) result.set(id, usable(values.get(productKey(id)), now));
  return result;
}

/**
 * What KV holds for a product, as fresh as a Worker can read it: its version (metadata, or the
 * value's own for entries written before metadata) and category. Null when there is nothing usable.
 */
export async function readHeld(kv: KVNamespace, id: string): Promise<{ version: number; category: string | null } | null> {
  const { value, metadata } = await kv.getWithMetadata(productKey(id), { type: "text", cacheTtl: CHECK_CACHE_TTL });
  const product = interpret(value);
  if (product === null) return null;
  return { version: versionOf(metadata) ?? product.version, category: product.category };
}

/** The completeness marker, or null (storefront read, `cacheTtl` 60). */
export async function readMarker(kv: KVNamespace): Promise<Marker | null> {
  const parsed = Marker.safeParse(parseJson(await kv.get(MARKER_KEY, { type: "text", cacheTtl: READ_CACHE_TTL })));
  return parsed.success ? parsed.data : null;
}

/** A listed id with its index entry's version. */
export interface ListedId {
  id: string;
  version: number | null;
}

/** One page of listed ids from the index, with KV's continuation cursor. */
export async function listIds(
  kv: KVNamespace,
  options: { limit: number; cursor?: string; category?: string },
): Promise<{ ids: ListedId[]; cursor: string | null }> {
  const prefix = indexPrefix(options.category);
  const page = await kv.list({ prefix, limit: options.limit, ...(options.cursor !== undefined ? { cursor: options.cursor } : {}) });
  return {
    ids: page.keys.map((k) => ({ id: k.name.slice(prefix.length), version: versionOf(k.metadata) })),
    cursor: page.list_complete ? null : page.cursor,
  };
}

async function listAll(kv: KVNamespace, prefix: string, visit: (name: string, key: KeyState) => void): Promise<void> {
  let cursor: string | undefined;
  do {
    const page = await kv.list({ prefix, limit: 1000, ...(cursor !== undefined ? { cursor } : {}) });
    for (const key of page.keys)
      visit(key.name.slice(prefix.length), { version: versionOf(key.metadata), expiration: key.expiration ?? null });
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor !== undefined);
}

/** Lists every catalog key with its version and expiry (the rebuild's view of KV). */
export async function readEdgeState(kv: KVNamespace): Promise<EdgeState> {
  const edge: EdgeState = { products: new Map(), all: new Map(), categories: new Map() };
  await listAll(kv, PRODUCT_PREFIX, (id, key) => edge.products.set(id, key));
  await listAll(kv, indexPrefix(), (id, key) => edge.all.set(id, key));
  await listAll(kv, CATEGORY_INDEX_PREFIX, (rest, key) => {
    const split = rest.indexOf(":");
    if (split <= 0) return;
    const category = rest.slice(0, split);
    const ids = edge.categories.get(category) ?? new Map<string, KeyState>();
    edge.categories.set(category, ids);
    ids.set(rest.slice(split + 1), key);
  });
  return edge;
}

// ---------------------------------------------------------------------------------------------
// KV writes

/**
 * Read-through fill: writes the product entry only (never listing entries), with the short
 * `FILL_TTL`, and only when KV does not already show the same or a newer version. Returns
 * whether it wrote.
 */
export async function fillProduct(kv: KVNamespace, product: Product): Promise<boolean> {
  const held = await readHeld(kv, product.id);
  if (!mayWrite(held?.version ?? null, product.version, "fill")) return false;
  await kv.put(productKey(product.id), JSON.stringify(product), {
    expirationTtl: FILL_TTL,
    metadata: { v: product.version, until: Date.now() + FILL_TTL * 1000 },
  });
  return true;
}

/** Writes a product entry as Postgres has it (long TTL, its version in the metadata). */
export async function putProductEntry(kv: KVNamespace, product: Product): Promise<void> {
  await kv.put(productKey(product.id), JSON.stringify(product), { expirationTtl: PUBLISH_TTL, metadata: { v: product.version } });
}

/** Writes one index entry of a listed product (long TTL, its version in the metadata). */
export async function putIndexEntry(kv: KVNamespace, id: string, version: number, category?: string): Promise<void> {
  await kv.put(indexKey(id, category), "", { expirationTtl: PUBLISH_TTL, metadata: { v: version } });
}

/** Removes one index entry. Only publishers and the rebuild call this, after Postgres said so. */
export async function dropIndexEntry(kv: KVNamespace, id: string, category?: string): Promise<void> {
  await kv.delete(indexKey(id, category));
}

/**
 * Publish write of a product as Postgres has it: the product entry and its listing entries with
 * the long TTL; active products are listed (under all and their category), archived ones are
 * removed; a category change removes the entry under `previousCategory` (what KV listed it under
 * before, when known). The caller checks versions (`mayWrite`) and confirms against Postgres.
 */
export async function writeProduct(kv: KVNamespace, product: Product, previousCategory: string | null | undefined): Promise<void> {
  const listed = listedIn(product);
  const category = product.category ?? undefined;
  const writes: Promise<unknown>[] = [putProductEntry(kv, product)];
  writes.push(listed ? putIndexEntry(kv, product.id, product.version) : dropIndexEntry(kv, product.id));
  if (category !== undefined)
    writes.push(listed ? putIndexEntry(kv, product.id, product.version, category) : dropIndexEntry(kv, product.id, category));
  if (previousCategory && previousCategory !== category) writes.push(dropIndexEntry(kv, product.id, previousCategory));
  await Promise.all(writes);
}

/** Marks the index complete (only a rebuild that found and left it complete does this). */
export async function writeMarker(kv: KVNamespace, generation: string, at: Date): Promise<void> {
  await kv.put(MARKER_KEY, JSON.stringify({ generation, at: at.toISOString() }), { expirationTtl: MARKER_TTL });
}

/** Withdraws the marker: listing is served from Postgres until a rebuild finds the index complete. */
export async function clearMarker(kv: KVNamespace): Promise<void> {
  await kv.delete(MARKER_KEY);
}
