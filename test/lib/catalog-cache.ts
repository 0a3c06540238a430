/**
 * Helpers of the KV catalog tests (test/catalog-cache.test.ts, test/catalog-cache-index.test.ts):
 * real KV, real Postgres. The KV wrappers only reorder or refuse calls of the real binding; they
 * never answer for it.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { expect } from "vitest";
import type { Product } from "../../src/contracts";
import { withDb } from "../../src/db/client";
import { catalogPublishQueue, products } from "../../src/db/schema";
import { productKey } from "../../src/sync/catalog-cache";
import { rebuildCatalogIndex } from "../../src/sync/catalog-publish";
import { ADMIN, call } from "../helpers";

export const kv = () => env.CATALOG;

export async function putProduct(id: string, body: unknown): Promise<Product> {
  const response = await call("PUT", `/v1/admin/products/${id}`, { body, headers: ADMIN });
  expect([200, 201]).toContain(response.status);
  return (await response.json()) as Product;
}

/** A key as `list()` describes it (expiration in seconds, metadata), or undefined. */
export async function keyState(key: string): Promise<{ expiration?: number; metadata?: unknown } | undefined> {
  const page = await kv().list({ prefix: key });
  return page.keys.find((k) => k.name === key);
}

export async function cachedVersion(id: string): Promise<number | null> {
  const { value, metadata } = await kv().getWithMetadata<Product, { v: number }>(productKey(id), "json");
  if (value === null) return null;
  expect(metadata?.v).toBe(value.version);
  return value.version;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Rebuilds until it marks the index complete (another test file's failing publish may hold it back for a moment). */
export async function rebuildComplete() {
  let report = await rebuildCatalogIndex(env, kv(), { maxChanges: 100_000 });
  for (let i = 0; i < 20 && !report.complete; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    report = await rebuildCatalogIndex(env, kv(), { maxChanges: 100_000 });
  }
  expect(report.complete).toBe(true);
  return report;
}

export async function listAll(query: string, limit: number, between?: (page: number) => Promise<void>): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const response = await call("GET", `/v1/products?limit=${limit}${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    expect(response.status).toBe(200);
    const page = (await response.json()) as { data: Product[]; next_cursor: string | null };
    ids.push(...page.data.map((p) => p.id));
    cursor = page.next_cursor;
    pages++;
    if (cursor !== null) await between?.(pages);
  } while (cursor !== null && pages < 100);
  return ids;
}

/** Writes a product row straight into Postgres, as a commit whose publish has not run (yet). */
export async function insertUnpublished(id: string, category: string | null = null): Promise<void> {
  await withDb(env, (db) => db.insert(products).values({ id, title: "Unpublished", category, status: "active", version: 1 }));
}

/** Removes a product's publish outbox row (a failure this test caused on purpose and does not want retried). */
export async function dropOutboxRow(id: string): Promise<void> {
  await withDb(env, (db) => db.delete(catalogPublishQueue).where(eq(catalogPublishQueue.productId, id)));
}

/**
 * A KV binding whose writes fail (only those to keys containing `only`, when given), wrapping the
 * real one: reads and other writes reach it.
 */
export function refusingKv(inner: KVNamespace, only?: string): KVNamespace {
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === "put" || prop === "delete") {
        return (key: string, ...rest: unknown[]) =>
          only === undefined || key.includes(only)
            ? Promise.reject(new Error("KV write refused"))
            : (Reflect.get(target, prop) as (...args: unknown[]) => Promise<unknown>).call(target, key, ...rest);
      }
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The real KV binding, running `hook` once right after the first `list()` of `prefix` returns. */
export function kvWithHookAfterList(inner: KVNamespace, prefix: string, hook: () => Promise<void>): KVNamespace {
  let fired = false;
  return new Proxy(inner, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (prop === "list") {
        return async (options?: KVNamespaceListOptions) => {
          const page = await target.list(options);
          if (!fired && options?.prefix === prefix) {
            fired = true;
            await hook();
          }
          return page;
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
