/**
 * GET /v1/admin/products (every product in Postgres, active and archived, by id, with the cursor)
 * and GET /v1/admin/products/{product_id}.
 */
import { describe, expect, it } from "vitest";
import type { Product } from "../src/contracts";
import { encodeCursor } from "../src/http/cursor";
import { ADMIN, call, expectProblem, productBody, unique } from "./helpers";

type Page = { data: Product[]; next_cursor: string | null };

async function page(query: string): Promise<Page> {
  const response = await call("GET", `/v1/admin/products?${query}`, { headers: ADMIN });
  expect(response.status, await response.clone().text()).toBe(200);
  expect(response.headers.get("cache-control")).toBe("no-store");
  return (await response.json()) as Page;
}

/**
 * Walks the list through the ids that start with `prefix`, page by page, checking page sizes and
 * the id order. It starts from a cursor just before `prefix` (the cursor is the last listed id),
 * not from the top: the other test files share this database, and walking all their products a
 * page of one at a time made this test's time grow with the suite (it once ran past 30 s).
 */
async function walk(query: string, limit: number, prefix: string): Promise<Product[]> {
  const seen: Product[] = [];
  let cursor: string | null = encodeCursor({ a: prefix });
  do {
    const current: Page = await page(`limit=${limit}${query}&cursor=${cursor}`);
    expect(current.data.length).toBeLessThanOrEqual(limit);
    if (current.next_cursor !== null) expect(current.data).toHaveLength(limit);
    seen.push(...current.data);
    cursor = current.data.every((product) => product.id.startsWith(prefix)) ? current.next_cursor : null;
  } while (cursor !== null);
  for (let i = 1; i < seen.length; i++) expect(seen[i - 1]!.id < seen[i]!.id, `${seen[i - 1]!.id} before ${seen[i]!.id}`).toBe(true);
  return seen;
}

async function put(id: string, body: Record<string, unknown>, status: number): Promise<Product> {
  const response = await call("PUT", `/v1/admin/products/${id}`, { body, headers: ADMIN });
  expect(response.status, await response.clone().text()).toBe(status);
  return (await response.json()) as Product;
}

describe("GET /v1/admin/products", () => {
  it("lists every product, archived ones too, by id, exactly as PUT answered, across pages", async () => {
    const prefix = unique("catalog");
    const ids = [`${prefix}-b`, `${prefix}-a`, `${prefix}-c`];
    const saved = new Map<string, Product>();
    for (const [i, id] of ids.entries()) {
      const body = productBody(
        [
          { sku: unique("LIST"), amount: 1000 + i, currency: i === 2 ? "JPY" : "USD" },
          { sku: unique("LIST"), amount: 2000 + i, max_line_quantity: 3 },
        ],
        { title: `Product ${i}`, category: "tests" },
      );
      if (i === 2) body.variants[1]!.price.currency = "JPY";
      saved.set(id, await put(id, body, 201));
    }
    expect((await call("DELETE", `/v1/admin/products/${ids[0]}`, { headers: ADMIN })).status).toBe(204);
    const archived = { ...saved.get(ids[0]!)!, status: "archived" as const };

    for (const limit of [1, 2, 100]) {
      const listed = (await walk("", limit, prefix)).filter((product) => product.id.startsWith(prefix));
      expect(listed.map((p) => p.id)).toEqual([...ids].sort());
      const [a, b, c] = listed;
      expect(a).toEqual(saved.get(ids[1]!));
      expect(b).toMatchObject({ ...archived, version: archived.version + 1, updated_at: expect.any(String) });
      expect(c).toEqual(saved.get(ids[2]!));
    }
  });

  it("filters by status across pages", async () => {
    const prefix = unique("status");
    await put(`${prefix}-active`, productBody([{ sku: unique("ST") }]), 201);
    await put(`${prefix}-archived`, productBody([{ sku: unique("ST") }], { status: "archived" }), 201);

    const archived = await walk("&status=archived", 3, prefix);
    expect(archived.every((p) => p.status === "archived")).toBe(true);
    expect(archived.filter((p) => p.id.startsWith(prefix)).map((p) => p.id)).toEqual([`${prefix}-archived`]);
    const active = await walk("&status=active", 3, prefix);
    expect(active.every((p) => p.status === "active")).toBe(true);
    expect(active.filter((p) => p.id.startsWith(prefix)).map((p) => p.id)).toEqual([`${prefix}-active`]);
  });

  it("shows a new price and title as soon as PUT returns (read from Postgres, not the edge cache)", async () => {
    const prefix = unique("reprice");
    const id = `${prefix}-p`;
    const sku = unique("RP");
    await put(id, productBody([{ sku, amount: 1500 }]), 201);
    const changed = await put(id, productBody([{ sku, amount: 1750 }], { title: "Renamed" }), 200);
    const listed = (await walk("", 100, prefix)).find((p) => p.id === id);
    expect(listed).toEqual(changed);
    expect(listed).toMatchObject({ title: "Renamed", variants: [{ sku, price: { amount: 1750, currency: "USD" } }] });
  });

  it("reads one product from Postgres in any status, and 404s an unknown one", async () => {
    const id = unique("one");
    const sku = unique("ONE");
    const saved = await put(id, productBody([{ sku, amount: 990, currency: "JPY" }], { description: "d", category: "tests" }), 201);
    const read = async () => {
      const response = await call("GET", `/v1/admin/products/${id}`, { headers: ADMIN });
      expect(response.status).toBe(200);
      expect(response.headers.get("cache-control")).toBe("no-store");
      return (await response.json()) as Product;
    };
    expect(await read()).toEqual(saved);
    expect((await call("DELETE", `/v1/admin/products/${id}`, { headers: ADMIN })).status).toBe(204);
    expect(await read()).toMatchObject({ id, status: "archived", version: saved.version + 1, variants: saved.variants });
    await expectProblem(await call("GET", `/v1/admin/products/${unique("missing")}`, { headers: ADMIN }), 404, "not_found");
    await expectProblem(await call("GET", `/v1/admin/products/${id}`), 401, "unauthorized");
  });

  it("refuses a bad limit, status or cursor and unknown parameters with 400, and a missing token with 401", async () => {
    const cases: Array<[string, string]> = [
      ["limit=0", "query.limit"],
      ["limit=101", "query.limit"],
      ["status=deleted", "query.status"],
      ["cursor=not-a-cursor", "query.cursor"],
      ["category=apparel", "query.category"],
    ];
    for (const [query, path] of cases) {
      const body = await expectProblem(await call("GET", `/v1/admin/products?${query}`, { headers: ADMIN }), 400, "invalid_request");
      expect(
        (body.errors as Array<{ path: string }>).map((e) => e.path),
        query,
      ).toContain(path);
    }
    await expectProblem(await call("GET", "/v1/admin/products"), 401, "unauthorized");
  });
});
