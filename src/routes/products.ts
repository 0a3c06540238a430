/**
 * Storefront catalog reads: the KV edge cache first, Postgres (the system of record) behind it.
 *
 * - One product: a KV hit is answered as is. A miss asks the read-through memo, then Postgres (one
 *   query per id per isolate at a time, and per memo window per data center); a product found
 *   there is filled into KV with a short TTL; an unknown id writes nothing to KV.
 * - The listing is served from the KV index only while the completeness marker (written by a
 *   full rebuild from Postgres) is present; otherwise from Postgres. An index entry is shown,
 *   hidden or read through by `judgeListed`; this path never deletes or writes listing entries.
 * The rules, the keys and the lag they allow: src/sync/catalog-cache.ts, docs/storage.md.
 */
import * as z from "zod";
import { Product, ProductListQuery, ProductPage, ProductParams, type Product as ProductT } from "../contracts";
import { getProducts, listActiveProducts } from "../db/catalog";
import { withDb } from "../db/client";
import { decodeCursor, encodeCursor } from "../http/cursor";
import { notFound } from "../http/problem";
import { defineRoute, json } from "../http/route";
import { errorFields, log } from "../platform/log";
import {
  fillProduct,
  judgeListed,
  type ListedId,
  listedIn,
  listIds,
  readMarker,
  readProduct,
  readProducts,
  readThroughMemo,
} from "../sync/catalog-cache";

/** Browsers and CDNs may keep catalog answers briefly; stock is never part of them. */
const CACHE_HEADERS = { "cache-control": "public, max-age=30" };

/**
 * Cursor: continue the KV index (`k`: KV's cursor; `a`: the last id the index showed, "" before
 * any, so the walk can continue in Postgres if the index stops being complete), or the Postgres
 * keyset (`a`: the last id served). The switch assumes both order ids bytewise (docs/storage.md).
 * A "kv" cursor without `a` was issued before the marker existed and continues in KV.
 */
const Cursor = z.union([
  z.object({ s: z.literal("kv"), k: z.string().min(1).max(1024), a: z.string().max(64).optional(), c: z.string().optional() }),
  z.object({ s: z.literal("pg"), a: z.string().min(1).max(64), c: z.string().optional() }),
]);

/** Postgres reads in flight in this isolate, by product id: concurrent misses of one id share one query. */
const inFlight = new Map<string, Promise<ProductT | null>>();

/**
 * Reads products that KV could not answer: the memo first, then Postgres for the rest (ids
 * already being read by another request of this isolate wait for that read). What this request
 * read from Postgres is remembered, and what exists is filled into KV, after the answer.
 * `atLeast` (from a listing entry) is a version Postgres is known to have reached: a remembered
 * answer older than that is not used.
 */
async function readThrough(
  request: Request,
  env: Env,
  ctx: ExecutionContext,
  ids: string[],
  atLeast: Map<string, number> = new Map(),
): Promise<Map<string, ProductT | null>> {
  const origin = new URL(request.url).origin;
  const result = new Map<string, ProductT | null>();
  const remembered = await Promise.all(ids.map((id) => readThroughMemo.get(origin, id)));
  const joined: Array<[string, Promise<ProductT | null>]> = [];
  const mine: string[] = [];
  ids.forEach((id, i) => {
    const memo = remembered[i];
    const floor = atLeast.get(id);
    const running = inFlight.get(id);
    const usable = memo !== undefined && (floor === undefined || (memo.product?.version ?? 0) >= floor);
    if (usable) result.set(id, memo.product);
    else if (running !== undefined && floor === undefined) joined.push([id, running]);
    else mine.push(id);
  });
  if (mine.length > 0) {
    const query = withDb(env, (db) => getProducts(db, mine)).then((rows) => new Map(rows.map((p) => [p.id, p])));
    for (const id of mine) {
      const one = query.then((rows) => rows.get(id) ?? null);
      one.catch(() => undefined); // the request that started the read reports its failure
      inFlight.set(id, one);
    }
    try {
      const rows = await query;
      for (const id of mine) {
        const product = rows.get(id) ?? null;
        result.set(id, product);
        ctx.waitUntil(readThroughMemo.remember(origin, id, product));
        if (product !== null) {
          ctx.waitUntil(
            fillProduct(env.CATALOG, product).catch((error: unknown) =>
              log("warn", "KV fill failed", { product_id: id, ...errorFields(error) }),
            ),
          );
        }
      }
    } finally {
      for (const id of mine) inFlight.delete(id);
    }
  }
  for (const [id, running] of joined) result.set(id, await running);
  return result;
}

export const getProductRoute = defineRoute({
  method: "GET",
  path: "/v1/products/{product_id}",
  operationId: "getProduct",
  database: true,
  summary: "One product (from the edge cache; read through to Postgres on a miss)",
  tag: "catalog",
  auth: "none",
  params: ProductParams,
  responses: {
    200: { description: "The product", schema: Product },
    400: { description: "Invalid product id" },
    404: { description: "No such product" },
  },
  async handler({ request, env, ctx, params }) {
    const cached = await readProduct(env.CATALOG, params.product_id);
    if (cached !== null) return json(cached, 200, CACHE_HEADERS);
    const product = (await readThrough(request, env, ctx, [params.product_id])).get(params.product_id) ?? null;
    if (product === null) throw notFound("product");
    return json(product, 200, CACHE_HEADERS);
  },
});

export const listProductsRoute = defineRoute({
  method: "GET",
  path: "/v1/products",
  operationId: "listProducts",
  database: true,
  summary: "Active products, ordered by id, cursor-paginated, optionally in one category",
  tag: "catalog",
  auth: "none",
  query: ProductListQuery,
  responses: {
    200: { description: "A page of products", schema: ProductPage },
    400: { description: "Invalid query or cursor" },
  },
  async handler({ request, env, ctx, query }) {
    const cursor = query.cursor === undefined ? undefined : decodeCursor(Cursor, query.cursor);
    if (cursor !== undefined && (cursor.c ?? undefined) !== query.category) {
      return json({ data: [], next_cursor: null }, 200);
    }
    const scope = query.category ? { c: query.category } : {};
    if (cursor?.s !== "pg") {
      const legacy = cursor !== undefined && cursor.a === undefined;
      if (legacy || (await readMarker(env.CATALOG)) !== null) {
        const page = await listIds(env.CATALOG, { limit: query.limit, cursor: cursor?.k, category: query.category });
        const data = await loadListed(request, env, ctx, page.ids, query.category);
        const seen = page.ids.at(-1)?.id ?? cursor?.a ?? "";
        const next = page.cursor === null ? null : encodeCursor({ s: "kv", k: page.cursor, a: seen, ...scope });
        return json({ data, next_cursor: next }, 200, CACHE_HEADERS);
      }
    }
    // No complete index (a cold or flushed cache, a failed publish, rebuilds not running): serve
    // from Postgres, continuing after the last id the client saw from either source.
    const after = cursor?.a ? cursor.a : undefined;
    const rows = await withDb(env, (db) => listActiveProducts(db, { limit: query.limit + 1, after, category: query.category }));
    const data = rows.slice(0, query.limit);
    const last = data[data.length - 1];
    const next = rows.length > query.limit && last ? encodeCursor({ s: "pg", a: last.id, ...scope }) : null;
    return json({ data, next_cursor: next }, 200, CACHE_HEADERS);
  },
});

/**
 * Loads listed products from KV in one bulk read. An entry whose cached product is missing or
 * older than the index entry is read through (memo, then Postgres); one that is not listable
 * here is left out of the page — and left in the index for the rebuild, which asks Postgres.
 */
async function loadListed(
  request: Request,
  env: Env,
  ctx: ExecutionContext,
  listed: ListedId[],
  category: string | undefined,
): Promise<ProductT[]> {
  const cached = await readProducts(
    env.CATALOG,
    listed.map((entry) => entry.id),
  );
  const fates = listed.map((entry) => judgeListed(entry.version, cached.get(entry.id) ?? null, category));
  const toRead = listed.filter((_, i) => fates[i] === "read");
  const floors = new Map(toRead.flatMap((entry): Array<[string, number]> => (entry.version === null ? [] : [[entry.id, entry.version]])));
  const fresh =
    toRead.length > 0
      ? await readThrough(
          request,
          env,
          ctx,
          toRead.map((entry) => entry.id),
          floors,
        )
      : new Map<string, ProductT | null>();
  const page: ProductT[] = [];
  listed.forEach((entry, i) => {
    const product = fates[i] === "show" ? cached.get(entry.id) : fates[i] === "read" ? fresh.get(entry.id) : null;
    if (product && listedIn(product, category)) page.push(product);
  });
  return page;
}
