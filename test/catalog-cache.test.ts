/**
 * The KV catalog under the interleavings that used to leave it stale ("The KV catalog never stays
 * stale"): real KV, real Postgres, each race driven step by step. KV wrappers only reorder or
 * refuse calls of the real binding; they never answer for it. Versions, TTLs and anonymous misses
 * here; the listing index in test/catalog-cache-index.test.ts.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { Product } from "../src/contracts";
import { withDb } from "../src/db/client";
import { catalogPublishQueue } from "../src/db/schema";
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
import { publish, pushToCache, retireProduct, settle } from "../src/sync/catalog-publish";
import { call, callSettled, eventually, productBody, unique } from "./helpers";
import { cachedVersion, insertUnpublished, keyState, kv, nowSeconds, putProduct, rebuildComplete, refusingKv } from "./lib/catalog-cache";

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

describe("anonymous misses: no KV write, Postgres at most once per window", () => {
  it("an unknown id writes no KV key, and a repeated miss does not reach Postgres", async () => {
    const id = unique("ghost");
    // Settled calls: each request's background work has finished before KV is read.
    for (let i = 0; i < 3; i++) expect((await callSettled("GET", `/v1/products/${id}`)).status).toBe(404);
    await Promise.all(Array.from({ length: 5 }, async () => expect((await callSettled("GET", `/v1/products/${id}`)).status).toBe(404)));
    const keys = (await kv().list()).keys;
    expect(keys.filter((k) => k.name.includes(id))).toEqual([]);
    // The product now exists in Postgres (a commit not published yet). The storefront keeps the
    // answer it had for the window instead of asking Postgres again on every miss.
    await insertUnpublished(id);
    expect((await callSettled("GET", `/v1/products/${id}`)).status).toBe(404);
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
