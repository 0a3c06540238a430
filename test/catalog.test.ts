import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { withDb } from "../src/db/client";
import { catalogPublishQueue } from "../src/db/schema";
import worker from "../src/index";
import { inventoryStub } from "../src/objects/stubs";
import { productKey } from "../src/sync/catalog-cache";
import { saveProduct } from "../src/sync/catalog-publish";
import { ADMIN, call, eventually, expectProblem, productBody, unique } from "./helpers";

type ProductJson = {
  id: string;
  status: string;
  category: string | null;
  version: number;
  variants: Array<{ sku: string; price: { amount: number; currency: string } }>;
};

async function putProduct(id: string, body: unknown) {
  return call("PUT", `/v1/admin/products/${id}`, { body, headers: ADMIN });
}

async function pendingOutbox(id: string) {
  return withDb(env, (db) => db.select().from(catalogPublishQueue).where(eq(catalogPublishQueue.productId, id)));
}

/** A KV binding whose writes fail, wrapping the real one (reads still reach it). */
function refusingKv(kv: KVNamespace): KVNamespace {
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === "put" || prop === "delete") return () => Promise.reject(new Error("KV write refused"));
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

async function listAll(query: string, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const url: string = `/v1/products?limit=${limit}${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const response = await call("GET", url);
    expect(response.status).toBe(200);
    const page = (await response.json()) as { data: ProductJson[]; next_cursor: string | null };
    ids.push(...page.data.map((p) => p.id));
    cursor = page.next_cursor;
    pages++;
  } while (cursor !== null && pages < 100);
  return { ids, pages };
}

describe("admin product writes", () => {
  it("creates (201), then replaces (200) a product, bumping its version", async () => {
    const id = unique("tee");
    const sku = unique("TEE");
    const created = await putProduct(id, productBody([{ sku, amount: 1999 }], { category: "apparel", description: "Soft" }));
    expect(created.status).toBe(201);
    const body = (await created.json()) as ProductJson;
    expect(body).toMatchObject({ id, title: "Test product", description: "Soft", category: "apparel", status: "active", version: 1 });
    expect(body.variants).toEqual([{ sku, title: `Variant ${sku}`, price: { amount: 1999, currency: "USD" } }]);
    const replaced = await putProduct(id, productBody([{ sku, amount: 2499 }]));
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toMatchObject({ id, version: 2, category: null, description: null });
  });

  it("pushes a price change to the SKU object before the admin call returns", async () => {
    const id = unique("mug");
    const sku = unique("MUG");
    await putProduct(id, productBody([{ sku, amount: 1200 }]));
    expect((await inventoryStub(env, sku).pricing())?.price).toEqual({ amount: 1200, currency: "USD" });
    await putProduct(id, productBody([{ sku, amount: 1500, max_line_quantity: 3 }]));
    expect(await inventoryStub(env, sku).pricing()).toMatchObject({
      price: { amount: 1500, currency: "USD" },
      max_line_quantity: 3,
      version: 2,
      status: "active",
    });
  });

  it("refuses a SKU owned by another product with 409 sku_conflict and writes nothing", async () => {
    const sku = unique("SHARED");
    await putProduct(unique("a"), productBody([{ sku }]));
    const other = unique("b");
    const body = await expectProblem(await putProduct(other, productBody([{ sku: unique("FREE") }, { sku }])), 409, "sku_conflict");
    expect(body.skus).toEqual([sku]);
    await expectProblem(await call("GET", `/v1/products/${other}`), 404, "not_found");
  });

  it("validates products: fractional money, bad SKUs, duplicates, unknown fields", async () => {
    const cases: Array<[unknown, string[]]> = [
      [productBody([{ sku: "OK-1", amount: 19.99 }]), ["variants.0.price.amount"]],
      [productBody([{ sku: "bad sku!" }]), ["variants.0.sku"]],
      [productBody([{ sku: "OK-1", currency: "usd" }]), ["variants.0.price.currency"]],
      [productBody([{ sku: "OK-1" }, { sku: "OK-1" }]), ["variants.1.sku"]],
      [productBody([{ sku: "OK-1" }], { colour: "red" }), ["colour"]],
      [productBody([{ sku: "OK-1" }], { id: "x", updated_at: "2026-01-01T00:00:00Z" }), ["id", "updated_at"]],
      [productBody([{ sku: "OK-1", amount: -1 }]), ["variants.0.price.amount"]],
      [productBody([]), ["variants"]],
      [productBody(Array.from({ length: 101 }, (_, i) => ({ sku: `S-${i}` }))), ["variants"]],
      [{ ...productBody([{ sku: "OK-1" }]), status: "draft" }, ["status"]],
      [{ status: "active", variants: [] }, ["title", "variants"]],
    ];
    for (const [body, paths] of cases) {
      const problem = await expectProblem(await putProduct(unique("p"), body), 400, "invalid_request");
      expect((problem.errors as Array<{ path: string }>).map((e) => e.path).sort()).toEqual([...paths].sort());
    }
  });

  it("needs the admin token", async () => {
    await expectProblem(
      await call("PUT", `/v1/admin/products/${unique("p")}`, { body: productBody([{ sku: unique("S") }]) }),
      401,
      "unauthorized",
    );
    await expectProblem(await call("DELETE", `/v1/admin/products/${unique("p")}`), 401, "unauthorized");
  });

  it("archives a product: 204, no longer listed, its SKUs no longer sellable", async () => {
    const category = unique("cat").toLowerCase();
    const id = unique("arch");
    const sku = unique("ARCH");
    await putProduct(id, productBody([{ sku }], { category }));
    expect((await listAll(`&category=${category}`, 10)).ids).toEqual([id]);
    expect((await call("DELETE", `/v1/admin/products/${id}`, { headers: ADMIN })).status).toBe(204);
    expect((await listAll(`&category=${category}`, 10)).ids).toEqual([]);
    expect(await (await call("GET", `/v1/products/${id}`)).json()).toMatchObject({ id, status: "archived" });
    expect(await inventoryStub(env, sku).hold("h", "cart", 1, 900)).toEqual({ ok: false, reason: "unknown_sku" });
    await expectProblem(await call("DELETE", `/v1/admin/products/${unique("none")}`, { headers: ADMIN }), 404, "not_found");
  });

  it("retires a variant dropped by a replace", async () => {
    const id = unique("p");
    const [kept, dropped] = [unique("KEEP"), unique("DROP")];
    await putProduct(id, productBody([{ sku: kept }, { sku: dropped }]));
    const replaced = (await (await putProduct(id, productBody([{ sku: kept }]))).json()) as ProductJson;
    expect(replaced.variants.map((v) => v.sku)).toEqual([kept]);
    expect(await inventoryStub(env, dropped).pricing()).toMatchObject({ status: "archived" });
  });
});

describe("storefront catalog reads", () => {
  it("reads a written product back from the edge cache", async () => {
    const id = unique("p");
    const sku = unique("S");
    const written = await (await putProduct(id, productBody([{ sku }], { category: "home" }))).json();
    expect(await env.CATALOG.get(productKey(id), "json")).toEqual(written);
    const response = await call("GET", `/v1/products/${id}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(written);
  });

  it("reads through to Postgres on a KV miss and fills KV again", async () => {
    const id = unique("p");
    const written = await (await putProduct(id, productBody([{ sku: unique("S") }]))).json();
    await env.CATALOG.delete(productKey(id));
    const response = await call("GET", `/v1/products/${id}`);
    expect(await response.json()).toEqual(written);
    expect(
      await eventually(
        () => env.CATALOG.get(productKey(id), "json"),
        (v) => v !== null,
      ),
    ).toEqual(written);
  });

  it("treats a cache entry that fails validation as a miss", async () => {
    const id = unique("p");
    const written = await (await putProduct(id, productBody([{ sku: unique("S") }]))).json();
    await env.CATALOG.put(productKey(id), JSON.stringify({ id, title: 42 }));
    expect(await (await call("GET", `/v1/products/${id}`)).json()).toEqual(written);
    await env.CATALOG.put(productKey(id), "{not json");
    expect(await (await call("GET", `/v1/products/${id}`)).json()).toEqual(written);
  });

  it("answers 404 for an unknown product and for an invalid id 400", async () => {
    await expectProblem(await call("GET", `/v1/products/${unique("none")}`), 404, "not_found");
    await expectProblem(await call("GET", `/v1/products/${"x".repeat(65)}`), 400, "invalid_request");
  });

  it("walks every product of a category exactly once across pages", async () => {
    const category = unique("walk").toLowerCase();
    const ids = Array.from({ length: 23 }, (_, i) => `${category}-${String(i).padStart(2, "0")}`);
    for (const id of ids) await putProduct(id, productBody([{ sku: `${id}-S`.toUpperCase() }], { category }));
    const walked = await listAll(`&category=${category}`, 5);
    expect(walked.ids).toEqual(ids);
    expect(walked.pages).toBe(5);
  });

  it("serves the listing from Postgres when the edge index is empty", async () => {
    const category = unique("cold").toLowerCase();
    const ids = Array.from({ length: 7 }, (_, i) => `${category}-${i}`);
    for (const id of ids) await putProduct(id, productBody([{ sku: `${id}-S`.toUpperCase() }], { category }));
    for (const id of ids) await env.CATALOG.delete(`index:v1:category:${category}:${id}`);
    const walked = await listAll(`&category=${category}`, 3);
    expect(walked.ids).toEqual(ids);
  });

  it("rejects a tampered cursor and out-of-range limits with 400", async () => {
    await expectProblem(await call("GET", "/v1/products?cursor=not-a-cursor"), 400, "invalid_request");
    await expectProblem(await call("GET", "/v1/products?limit=0"), 400, "invalid_request");
    await expectProblem(await call("GET", "/v1/products?limit=101"), 400, "invalid_request");
    await expectProblem(await call("GET", "/v1/products?limit=abc"), 400, "invalid_request");
  });
});

describe("catalog publish retry", () => {
  it("keeps the change in the outbox when KV refuses, and the cron converges the edge", async () => {
    const id = unique("retry");
    const sku = unique("RETRY");
    const outcome = await saveProduct(
      env,
      id,
      { title: "Retry", status: "active", variants: [{ sku, title: "One", price: { amount: 700, currency: "EUR" } }] },
      refusingKv(env.CATALOG),
    );
    expect(outcome.ok).toBe(true);
    // The SKU object has the price even though KV refused.
    expect((await inventoryStub(env, sku).pricing())?.price).toEqual({ amount: 700, currency: "EUR" });
    expect(await env.CATALOG.get(productKey(id))).toBeNull();
    expect(await pendingOutbox(id)).toMatchObject([{ productId: id, version: 1, attempts: 1, lastError: "KV write refused" }]);

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(await env.CATALOG.get(productKey(id), "json")).toMatchObject({ id, version: 1 });
    expect(await pendingOutbox(id)).toEqual([]);
  });
});
