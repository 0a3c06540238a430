/**
 * The KV catalog's listing index under the interleavings that used to leave it stale ("The KV
 * catalog never stays stale"): real KV, real Postgres, each race driven step by step. KV wrappers
 * only reorder or refuse calls of the real binding; they never answer for it. (Versions, TTLs and
 * anonymous misses: test/catalog-cache.test.ts.)
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Product } from "../src/contracts";
import { indexKey, MARKER_KEY, PUBLISH_TTL, productKey } from "../src/sync/catalog-cache";
import { publish, rebuildCatalogIndex, retireProduct, saveProduct } from "../src/sync/catalog-publish";
import { callSettled, productBody, unique } from "./helpers";
import {
  dropOutboxRow,
  insertUnpublished,
  kv,
  kvWithHookAfterList,
  listAll,
  putProduct,
  rebuildComplete,
  refusingKv,
} from "./lib/catalog-cache";

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
    // Settled: the request's background work (its KV fills and repairs) has finished when the
    // index is read back.
    const response = await callSettled("GET", `/v1/products?category=${category}`);
    expect(response.status).toBe(200);
    const listed = (await response.json()) as { data: Product[] };
    expect(listed.data).toEqual([active]);
    // The background work ran: it put the active copy back in KV, and left both entries in place.
    expect(await kv().get(productKey(id), "json")).toEqual(active);
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
