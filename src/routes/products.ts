/**
 * Storefront catalog reads, served from the KV edge cache with read-through to Postgres.
 */
import { z } from "zod";
import { Product, ProductListQuery, ProductPage, ProductParams, type Product as ProductT } from "../contracts";
import { dropIndexEntry, listIds, readProduct, readProducts, writeMissing, writeProduct } from "../sync/catalog-cache";
import { getProduct, getProducts, listActiveProducts } from "../db/catalog";
import { withDb } from "../db/client";
import { decodeCursor, encodeCursor } from "../http/cursor";
import { errorFields, log } from "../platform/log";
import { notFound } from "../http/problem";
import { defineRoute, json } from "../http/route";

/** Browsers and CDNs may keep catalog answers briefly; stock is never part of them. */
const CACHE_HEADERS = { "cache-control": "public, max-age=30" };

/** Cursor: continue the KV index listing, or (when the index was empty) the Postgres keyset. */
const Cursor = z.union([
  z.object({ s: z.literal("kv"), k: z.string().min(1).max(1024), c: z.string().optional() }),
  z.object({ s: z.literal("pg"), a: z.string().min(1).max(64), c: z.string().optional() }),
]);

/** Fills KV after a read-through without delaying the answer. */
function fill(ctx: ExecutionContext, kv: KVNamespace, product: ProductT): void {
  ctx.waitUntil(writeProduct(kv, product, undefined).catch((error: unknown) => log("warn", "KV fill failed", { product_id: product.id, ...errorFields(error) })));
}

export const getProductRoute = defineRoute({
  method: "GET",
  path: "/v1/products/{product_id}",
  operationId: "getProduct",
  summary: "One product (from the edge cache; read through to Postgres on a miss)",
  tag: "catalog",
  auth: "none",
  params: ProductParams,
  responses: {
    200: { description: "The product", schema: Product },
    400: { description: "Invalid product id" },
    404: { description: "No such product" },
  },
  async handler({ env, ctx, params }) {
    const cached = await readProduct(env.CATALOG, params.product_id);
    if (cached.kind === "hit") return json(cached.product, 200, CACHE_HEADERS);
    if (cached.kind === "missing") throw notFound("product");
    const product = await withDb(env, (db) => getProduct(db, params.product_id));
    if (product === null) {
      ctx.waitUntil(writeMissing(env.CATALOG, params.product_id).catch(() => undefined));
      throw notFound("product");
    }
    fill(ctx, env.CATALOG, product);
    return json(product, 200, CACHE_HEADERS);
  },
});

export const listProductsRoute = defineRoute({
  method: "GET",
  path: "/v1/products",
  operationId: "listProducts",
  summary: "Active products, ordered by id, cursor-paginated, optionally in one category",
  tag: "catalog",
  auth: "none",
  query: ProductListQuery,
  responses: {
    200: { description: "A page of products", schema: ProductPage },
    400: { description: "Invalid query or cursor" },
  },
  async handler({ env, ctx, query }) {
    const cursor = query.cursor === undefined ? undefined : decodeCursor(Cursor, query.cursor);
    if (cursor !== undefined && (cursor.c ?? undefined) !== query.category) {
      return json({ data: [], next_cursor: null }, 200);
    }
    if (cursor?.s !== "pg") {
      const page = await listIds(env.CATALOG, { limit: query.limit, cursor: cursor?.k, category: query.category });
      if (page.ids.length > 0 || cursor !== undefined) {
        const data = await loadListed(env, ctx, page.ids, query.category);
        const next = page.cursor === null ? null : encodeCursor({ s: "kv", k: page.cursor, ...(query.category ? { c: query.category } : {}) });
        return json({ data, next_cursor: next }, 200, CACHE_HEADERS);
      }
    }
    // The index is empty (a fresh or flushed cache): serve from Postgres, the system of record.
    const after = cursor?.s === "pg" ? cursor.a : undefined;
    const rows = await withDb(env, (db) => listActiveProducts(db, { limit: query.limit + 1, after, category: query.category }));
    const data = rows.slice(0, query.limit);
    for (const product of data) fill(ctx, env.CATALOG, product);
    const last = data[data.length - 1];
    const next = rows.length > query.limit && last ? encodeCursor({ s: "pg", a: last.id, ...(query.category ? { c: query.category } : {}) }) : null;
    return json({ data, next_cursor: next }, 200, CACHE_HEADERS);
  },
});

/**
 * Loads listed products from KV in one bulk read; entries that are missing or invalid are read
 * through from Postgres and refilled. Entries no longer listable (archived, moved category)
 * are dropped from the page and from the index.
 */
async function loadListed(env: Env, ctx: ExecutionContext, ids: string[], category: string | undefined): Promise<ProductT[]> {
  const cached = await readProducts(env.CATALOG, ids);
  const misses = ids.filter((id) => cached.get(id)?.kind !== "hit");
  const fromDb = new Map<string, ProductT>();
  if (misses.length > 0) {
    for (const product of await withDb(env, (db) => getProducts(db, misses))) {
      fromDb.set(product.id, product);
      fill(ctx, env.CATALOG, product);
    }
  }
  const page: ProductT[] = [];
  for (const id of ids) {
    const entry = cached.get(id);
    const product = entry?.kind === "hit" ? entry.product : fromDb.get(id);
    if (product && product.status === "active" && (category === undefined || product.category === category)) page.push(product);
    else ctx.waitUntil(dropIndexEntry(env.CATALOG, id, category).catch(() => undefined));
  }
  return page;
}
