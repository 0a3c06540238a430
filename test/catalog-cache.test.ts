/**
 * The KV catalog under the interleavings that used to leave it stale ("The KV catalog never stays
 * stale"): real KV, real Postgres, each race driven step by step. KV wrappers only reorder or
 * refuse calls of the real binding; they never answer for it.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { Product } from "../src/contracts";
import { withDb } from "../src/db/client";
import { catalogPublishQueue, products } from "../src/db/schema";
import {
  FILL_TTL,
  fillProduct,
  indexKey,
  judgeListed,
  MARKER_KEY,
  MARKER_TTL,
  mayWrite,
  PUBLISH_TTL,
  productKey,
  ReadThroughMemo,
  writeProduct,
} from "../src/sync/catalog-cache";
import { publish, pushToCache, rebuildCatalogIndex, retireProduct, saveProduct, settle } from "../src/sync/catalog-publish";
import { ADMIN, call, eventually, productBody, unique } from "./helpers";

const kv = () => env.CATALOG;

async function putProduct(id: string, body: unknown): Promise<Product> {
  const response = await call("PUT", `/v1/admin/products/${id}`, { body, headers: ADMIN });
  expect([200, 201]).toContain(response.status);
  return (await response.json()) as Product;
}

/** A key as `list()` describes it (expiration in seconds, metadata), or undefined. */
async function keyState(key: string): Promise<{ expiration?: number; metadata?: unknown } | undefined> {
  const page = await kv().list({ prefix: key });
  return page.keys.find((k) => k.name === key);
}

async function cachedVersion(id: string): Promise<number | null> {
  const { value, metadata } = await kv().getWithMetadata<Product, { v: number }>(productKey(id), "json");
  if (value === null) return null;
  expect(metadata?.v).toBe(value.version);
  return value.version;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Rebuilds until it marks the index complete (another test file's failing publish may hold it back for a moment). */
async function rebuildComplete() {
  let report = await rebuildCatalogIndex(env, kv(), { maxChanges: 100_000 });
  for (let i = 0; i < 20 && !report.complete; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    report = await rebuildCatalogIndex(env, kv(), { maxChanges: 100_000 });
  }
  expect(report.complete).toBe(true);
  return report;
}

async function listAll(query: string, limit: number, between?: (page: number) => Promise<void>): Promise<string[]> {
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
async function insertUnpublished(id: string, category: string | null = null): Promise<void> {
  await withDb(env, (db) => db.insert(products).values({ id, title: "Unpublished", category, status: "active", version: 1 }));
}

/** Removes a product's publish outbox row (a failure this test caused on purpose and does not want retried). */
async function dropOutboxRow(id: string): Promise<void> {
  await withDb(env, (db) => db.delete(catalogPublishQueue).where(eq(catalogPublishQueue.productId, id)));
}

/**
 * A KV binding whose writes fail (only those to keys containing `only`, when given), wrapping the
 * real one: reads and other writes reach it.
 */
function refusingKv(inner: KVNamespace, only?: string): KVNamespace {
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
function kvWithHookAfterList(inner: KVNamespace, prefix: string, hook: () => Promise<void>): KVNamespace {
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

describe("versions: a write never replaces a newer version", () => {
  it("a stale read-through fill racing a newer publish never wins", async () => {
    const id = unique("race");
    const v1 = await putProduct(id, productBody([{ sku: unique("RACE"), amount: 1000 }]));
    // A storefront miss read v1 from Postgres; before its fill lands, the back office publishes v2.
    const v2 = await putProduct(id, productBody([{ sku: unique("RACE"), amount: 2000 }]));
    expect(v2.version).toBe(2);
    expect(await fillProduct(kv(), v1)).toBe(false);
    expect(await kv().get(productKey(id), "json")).toEqual(v2);
    expect(await cachedVersion(id)).toBe(2);
    // The same version is not rewritten either (it would shorten a publish's TTL to a fill's).
    expect(await fillProduct(kv(), v2)).toBe(false);
    expect((await keyState(productKey(id)))?.expiration).toBeGreaterThan(nowSeconds() + PUBLISH_TTL - 120);
    expect(await (await call("GET", `/v1/products/${id}`)).json()).toEqual(v2);
  });

  it("a fill that lands after a publish anyway lives one fill TTL, and listing reads past it", async () => {
    const category = unique("fillrace").toLowerCase();
    const id = `${category}-a`;
    const v1 = await putProduct(id, productBody([{ sku: unique("FR") }], { category }));
    const v2 = await putProduct(id, productBody([{ sku: unique("FR") }], { category, title: "Renamed" }));
    await rebuildComplete();
    // The worst case KV allows: the fill checked before the publish and wrote after it.
    const lapse = Date.now() + FILL_TTL * 1000;
    await kv().put(productKey(id), JSON.stringify(v1), { expirationTtl: FILL_TTL, metadata: { v: v1.version, until: lapse } });
    expect((await keyState(productKey(id)))?.expiration).toBeLessThanOrEqual(nowSeconds() + FILL_TTL + 1);
    // Reading the product by id may show it for the fill's TTL, never longer: a data center that
    // still caches the entry after its lapse time reads through instead.
    expect(await (await call("GET", `/v1/products/${id}`)).json()).toEqual(v1);
    await kv().put(productKey(id), JSON.stringify(v1), { expirationTtl: FILL_TTL, metadata: { v: v1.version, until: Date.now() - 1 } });
    expect(await (await call("GET", `/v1/products/${id}`)).json()).toEqual(v2);
    await kv().put(productKey(id), JSON.stringify(v1), { expirationTtl: FILL_TTL, metadata: { v: v1.version, until: lapse } });
    // The listing entry (version 2) is newer than the product entry: the listing asks Postgres.
    const response = await call("GET", `/v1/products?category=${category}`);
    expect(((await response.json()) as { data: Product[] }).data).toEqual([v2]);
    // That read filled v2 (short TTL) after the answer; the next rebuild renews it with the long TTL.
    await eventually(
      () => cachedVersion(id),
      (v) => v === 2,
    );
    await rebuildComplete();
    expect(await cachedVersion(id)).toBe(2);
    expect((await keyState(productKey(id)))?.expiration).toBeGreaterThan(nowSeconds() + PUBLISH_TTL - 120);
  });

  it("listing never takes a remembered Postgres answer older than its listing entry", async () => {
    const category = unique("memo").toLowerCase();
    const id = `${category}-a`;
    const v1 = await putProduct(id, productBody([{ sku: unique("MM") }], { category }));
    await kv().delete(productKey(id));
    expect(await (await call("GET", `/v1/products/${id}`)).json()).toEqual(v1); // read through: v1 remembered for the window
    await eventually(
      () => cachedVersion(id),
      (v) => v === 1,
    );
    const v2 = await putProduct(id, productBody([{ sku: unique("MM") }], { category, title: "Second" }));
    await rebuildComplete();
    await kv().put(productKey(id), JSON.stringify(v1), { expirationTtl: FILL_TTL, metadata: { v: 1 } }); // a late fill
    const listed = (await (await call("GET", `/v1/products?category=${category}`)).json()) as { data: Product[] };
    expect(listed.data).toEqual([v2]);
  });

  it("an older publish finishing after a newer one leaves the newer version", async () => {
    const id = unique("pub");
    const sku = unique("PUB");
    const v1 = await putProduct(id, productBody([{ sku, amount: 100 }]));
    const v2 = await putProduct(id, productBody([{ sku, amount: 200 }]));
    // The version check sees v2 and leaves it.
    expect(await pushToCache(kv(), v1)).toBe(2);
    expect(await cachedVersion(id)).toBe(2);
    // Past the check (KV reads may be 30 s old): v1 lands over v2; the confirmation against
    // Postgres that follows every publish write puts v2 back.
    await writeProduct(kv(), v1, undefined);
    expect(await cachedVersion(id)).toBe(1);
    const settled = await settle(env, kv(), new Map([[id, 1]]));
    expect(settled).toEqual({ applied: new Map([[id, 2]]), unsettled: [] });
    expect(await kv().get(productKey(id), "json")).toEqual(v2);
    // The whole publish of the older version, end to end.
    expect(await publish(env, { product: v1, pricing: [] })).toEqual({ cached: true });
    expect(await kv().get(productKey(id), "json")).toEqual(v2);
  });

  it("an archive racing a reactivation ends listed, as Postgres has it", async () => {
    const category = unique("flip").toLowerCase();
    const id = `${category}-a`;
    const body = productBody([{ sku: unique("FLIP") }], { category });
    await putProduct(id, body);
    const archived = (await retireProduct(env, id, refusingKv(kv())))!; // Postgres: v2 archived; KV refused
    const active = await putProduct(id, body); // v3 active, published
    // The archive's retry lands late, after v3: it must neither replace v3 nor drop its entries.
    expect(await publish(env, { product: archived, pricing: [] })).toEqual({ cached: true });
    expect(await kv().get(productKey(id), "json")).toEqual(active);
    expect(await kv().get(indexKey(id))).toBe("");
    expect(await kv().get(indexKey(id, category))).toBe("");
    expect(await withDb(env, (db) => db.select().from(catalogPublishQueue).where(eq(catalogPublishQueue.productId, id)))).toEqual([]);
  });

  it("version rules", () => {
    expect(mayWrite(null, 1, "fill")).toBe(true);
    expect(mayWrite(2, 1, "fill")).toBe(false);
    expect(mayWrite(2, 2, "fill")).toBe(false);
    expect(mayWrite(2, 3, "fill")).toBe(true);
    expect(mayWrite(2, 2, "publish")).toBe(true);
    expect(mayWrite(3, 2, "publish")).toBe(false);
    const product = {
      id: "p",
      title: "t",
      description: null,
      category: "c",
      status: "active",
      variants: [],
      version: 2,
      updated_at: "2026-01-01T00:00:00.000Z",
    } as Product;
    expect(judgeListed(2, product, "c")).toBe("show");
    expect(judgeListed(null, product, "c")).toBe("show");
    expect(judgeListed(3, product, "c")).toBe("read");
    expect(judgeListed(2, null, "c")).toBe("read");
    expect(judgeListed(2, product, "other")).toBe("hide");
    expect(judgeListed(1, { ...product, status: "archived" })).toBe("hide");
  });
});

describe("TTLs: every entry expires unless renewed", () => {
  it("publishes write the product and its listing entries with the long TTL and their version", async () => {
    const category = unique("ttl").toLowerCase();
    const id = `${category}-a`;
    await putProduct(id, productBody([{ sku: unique("TTL") }], { category }));
    for (const key of [productKey(id), indexKey(id), indexKey(id, category)]) {
      const state = await keyState(key);
      expect(state?.metadata).toEqual({ v: 1 });
      expect(state?.expiration).toBeGreaterThan(nowSeconds() + PUBLISH_TTL - 120);
      expect(state?.expiration).toBeLessThanOrEqual(nowSeconds() + PUBLISH_TTL + 120);
    }
  });

  it("a read-through fill writes the product entry alone, with the short TTL", async () => {
    const category = unique("fill").toLowerCase();
    const id = `${category}-a`;
    const written = await putProduct(id, productBody([{ sku: unique("FILL") }], { category }));
    await kv().delete(productKey(id));
    await kv().delete(indexKey(id, category));
    expect(await (await call("GET", `/v1/products/${id}`)).json()).toEqual(written);
    const state = await eventually(
      () => keyState(productKey(id)),
      (s) => s !== undefined,
    );
    expect(state?.metadata).toMatchObject({ v: 1 });
    expect(state?.expiration).toBeLessThanOrEqual(nowSeconds() + FILL_TTL + 5);
    // Stamped with its lapse time, so no data center's read cache serves it longer than its TTL.
    expect((state?.metadata as { until?: number } | undefined)?.until).toBeLessThanOrEqual(Date.now() + FILL_TTL * 1000 + 5_000);
    expect(await kv().get(indexKey(id, category))).toBeNull(); // fills never write listing entries
  });

  it("the rebuild renews short-lived and legacy entries, and marks the index with a short TTL", async () => {
    const id = unique("renew");
    const written = await putProduct(id, productBody([{ sku: unique("RENEW") }]));
    await kv().put(productKey(id), JSON.stringify(written), { expirationTtl: FILL_TTL, metadata: { v: 1 } });
    await kv().put(indexKey(id), ""); // as written before TTLs and versions
    await rebuildComplete();
    for (const key of [productKey(id), indexKey(id)]) {
      const state = await keyState(key);
      expect(state?.metadata).toEqual({ v: 1 });
      expect(state?.expiration).toBeGreaterThan(nowSeconds() + PUBLISH_TTL - 120);
    }
    expect((await keyState(MARKER_KEY))?.expiration).toBeLessThanOrEqual(nowSeconds() + MARKER_TTL + 5);
  });
});

describe("index repair: only Postgres drops a listing entry", () => {
  it("reading a stale archived copy never drops the entry of a product Postgres lists", async () => {
    const category = unique("stale").toLowerCase();
    const id = `${category}-a`;
    const body = productBody([{ sku: unique("ST") }], { category });
    await putProduct(id, body);
    const archived = (await retireProduct(env, id))!;
    const active = await putProduct(id, body);
    await rebuildComplete();
    // A data center still reads the archived copy (KV reads may be 60 s old).
    await kv().put(productKey(id), JSON.stringify(archived), { expirationTtl: PUBLISH_TTL, metadata: { v: archived.version } });
    const listed = (await (await call("GET", `/v1/products?category=${category}`)).json()) as { data: Product[] };
    expect(listed.data).toEqual([active]);
    await new Promise((resolve) => setTimeout(resolve, 50)); // let the request's background work run
    expect(await kv().get(indexKey(id, category))).toBe("");
    expect(await kv().get(indexKey(id))).toBe("");
  });

  it("the rebuild keeps an entry that Postgres lists again by the time it would drop it", async () => {
    const category = unique("repair").toLowerCase();
    const id = `${category}-a`;
    const body = productBody([{ sku: unique("REP") }], { category });
    await putProduct(id, body);
    await rebuildComplete();
    await retireProduct(env, id, refusingKv(kv())); // Postgres: archived; KV still lists it
    await dropOutboxRow(id);
    // The rebuild reads Postgres (archived) and lists KV (the entry); right then the product is
    // reactivated and published. The rebuild must keep the fresh entry.
    const racing = kvWithHookAfterList(kv(), "index:v1:all:", async () => {
      await putProduct(id, body);
    });
    const report = await rebuildCatalogIndex(env, racing, { maxChanges: 100_000 });
    expect(report.failed).toBe(0);
    expect(await kv().get(indexKey(id))).toBe("");
    expect(await kv().get(indexKey(id, category))).toBe("");
    expect(await listAll(`&category=${category}`, 10)).toEqual([id]);
  });

  it("the rebuild drops entries of products Postgres no longer lists, and adds missing ones", async () => {
    const category = unique("tidy").toLowerCase();
    const [gone, moved, missing] = [`${category}-a`, `${category}-b`, `${category}-c`];
    for (const id of [gone, moved, missing]) await putProduct(id, productBody([{ sku: unique("T") }], { category }));
    await retireProduct(env, gone, refusingKv(kv())); // Postgres: archived; KV still lists it
    await dropOutboxRow(gone);
    await putProduct(moved, productBody([{ sku: unique("T") }], { category: `${category}-x` }));
    await kv().put(indexKey(moved, category), "", { metadata: { v: 1 } }); // a category change whose old entry stayed
    await kv().delete(indexKey(missing, category));
    await kv().delete(indexKey(missing));
    await rebuildComplete();
    expect(await kv().get(indexKey(gone))).toBeNull();
    expect(await kv().get(indexKey(gone, category))).toBeNull();
    expect(await kv().get(indexKey(moved, category))).toBeNull();
    expect(await kv().get(indexKey(moved, `${category}-x`))).toBe("");
    expect(await kv().get(indexKey(missing, category))).toBe("");
    expect(await listAll(`&category=${category}`, 10)).toEqual([missing]);
    expect(await kv().get(productKey(gone), "json")).toMatchObject({ status: "archived" });
  });
});

describe("completeness: a partial index is never served as the full list", () => {
  it("serves the index only while the rebuild's marker is there, Postgres otherwise", async () => {
    const category = unique("part").toLowerCase();
    const ids = Array.from({ length: 5 }, (_, i) => `${category}-${i}`);
    for (const id of ids) await putProduct(id, productBody([{ sku: unique("P") }], { category }));
    await rebuildComplete();
    expect(await listAll(`&category=${category}`, 2)).toEqual(ids);
    // A commit whose publish has not run yet: the index (marker present) does not show it yet.
    const late = `${category}-9`;
    await insertUnpublished(late, category);
    expect(await listAll(`&category=${category}`, 2)).toEqual(ids);
    // Entries lost (eviction, a flush) and the marker gone with them: every product, from Postgres.
    await kv().delete(indexKey(ids[1]!, category));
    await kv().delete(indexKey(ids[3]!, category));
    await kv().delete(MARKER_KEY);
    expect(await listAll(`&category=${category}`, 2)).toEqual([...ids, late]);
    // The next rebuild restores the entries and the marker.
    await rebuildComplete();
    expect(await kv().get(indexKey(ids[1]!, category))).toBe("");
    expect(await kv().get(MARKER_KEY)).not.toBeNull();
    expect(await listAll(`&category=${category}`, 2)).toEqual([...ids, late]);
  });

  it("a failed publish withdraws the marker, so the product it could not index is still listed", async () => {
    // KV refuses this product's keys (e.g. more than one write per second to a key); the marker's delete goes through.
    const category = unique("fail").toLowerCase();
    const first = `${category}-a`;
    await putProduct(first, productBody([{ sku: unique("F") }], { category }));
    await rebuildComplete();
    const second = `${category}-b`;
    const outcome = await saveProduct(
      env,
      second,
      {
        title: "Refused",
        category,
        status: "active",
        variants: [{ sku: unique("F"), title: "One", price: { amount: 5, currency: "USD" } }],
      },
      refusingKv(kv(), second),
    );
    expect(outcome.ok).toBe(true);
    expect(await kv().get(MARKER_KEY)).toBeNull();
    expect(await listAll(`&category=${category}`, 10)).toEqual([first, second]);
    // While the publish is failing, a rebuild does not mark the index complete.
    expect((await rebuildCatalogIndex(env, kv(), { maxChanges: 100_000 })).complete).toBe(false);
    expect(await kv().get(MARKER_KEY)).toBeNull();
    // Its retry (the cron's, here for this product only) clears the failure.
    if (outcome.ok) expect(await publish(env, { product: outcome.product, pricing: [] })).toEqual({ cached: true });
    await rebuildComplete();
    expect(await listAll(`&category=${category}`, 10)).toEqual([first, second]);
  });

  it("a rebuild that cannot write every missing entry in one run leaves the marker off", async () => {
    await rebuildComplete();
    const category = unique("cap").toLowerCase();
    for (const id of [`${category}-a`, `${category}-b`]) await insertUnpublished(id, category);
    const report = await rebuildCatalogIndex(env, kv(), { maxChanges: 1 });
    expect(report).toMatchObject({ complete: false });
    expect(report.deferred).toBeGreaterThan(0);
    expect(await kv().get(MARKER_KEY)).toBeNull();
    expect(await listAll(`&category=${category}`, 10)).toEqual([`${category}-a`, `${category}-b`]);
  });

  it("walks every product exactly once when the source changes between pages", async () => {
    const category = unique("switch").toLowerCase();
    const ids = Array.from({ length: 7 }, (_, i) => `${category}-${i}`);
    for (const id of ids) await putProduct(id, productBody([{ sku: unique("SW") }], { category }));
    // Index → Postgres: the marker disappears after the first page.
    await rebuildComplete();
    expect(
      await listAll(`&category=${category}`, 3, async (page) => {
        if (page === 1) await kv().delete(MARKER_KEY);
      }),
    ).toEqual(ids);
    // Postgres → index: the marker appears after the first page; the walk stays on Postgres.
    expect(
      await listAll(`&category=${category}`, 3, async (page) => {
        if (page === 1) await rebuildComplete();
      }),
    ).toEqual(ids);
    // Index all the way.
    expect(await listAll(`&category=${category}`, 2)).toEqual(ids);
  });
});

describe("anonymous misses: no KV write, Postgres at most once per window", () => {
  it("an unknown id writes no KV key, and a repeated miss does not reach Postgres", async () => {
    const id = unique("ghost");
    for (let i = 0; i < 3; i++) expect((await call("GET", `/v1/products/${id}`)).status).toBe(404);
    await Promise.all(Array.from({ length: 5 }, async () => expect((await call("GET", `/v1/products/${id}`)).status).toBe(404)));
    const keys = (await kv().list()).keys;
    expect(keys.filter((k) => k.name.includes(id))).toEqual([]);
    // The product now exists in Postgres (a commit not published yet). The storefront keeps the
    // answer it had for the window instead of asking Postgres again on every miss.
    await insertUnpublished(id);
    expect((await call("GET", `/v1/products/${id}`)).status).toBe(404);
    expect(await kv().get(productKey(id))).toBeNull();
  });

  it("remembers an answer for one window, in memory and in the Cache API", async () => {
    let now = 1_000_000;
    const memo = new ReadThroughMemo({ windowMs: 10_000, now: () => now });
    const origin = "http://edgecart.test";
    const id = unique("memo");
    expect(await memo.get(origin, id)).toBeUndefined();
    await memo.remember(origin, id, null);
    expect(await memo.get(origin, id)).toEqual({ product: null });
    // Another isolate of the data center (its own memory, the same Cache API) finds it too.
    const other = new ReadThroughMemo({ windowMs: 10_000, now: () => now });
    expect(await other.get(origin, id)).toEqual({ product: null });
    now += 10_001;
    expect(await memo.get(origin, id)).toBeUndefined();
    expect(await other.get(origin, id)).toBeUndefined();
    const cached = await caches.open("edgecart:catalog-memo");
    expect(await cached.match(ReadThroughMemo.key(origin, id))).toBeDefined();
    expect(ReadThroughMemo.key(origin, "a/../b?c").url).toBe(`${origin}/__edgecart/catalog-memo/v1/products/a%2F..%2Fb%3Fc`);
  });

  it("a product missing from KV is read through once and filled", async () => {
    const id = unique("cold");
    await insertUnpublished(id);
    const response = await call("GET", `/v1/products/${id}`);
    expect(response.status).toBe(200);
    const product = (await response.json()) as Product;
    expect(product).toMatchObject({ id, version: 1, status: "active" });
    expect(
      await eventually(
        () => kv().get(productKey(id), "json"),
        (v) => v !== null,
      ),
    ).toEqual(product);
  });
});
