/**
 * The back-office read API from Postgres: the low-stock report, and access and validation of the
 * archived order list and the three reports (test/reports.test.ts has the orders and the figures).
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { withDb } from "../src/db/client";
import { inventoryLevels, products, skus } from "../src/db/schema";
import { ADMIN, call, expectProblem } from "./helpers";
import { getJson } from "./lib/reports";
import { lowStockRows } from "./lib/reports-dated";

describe("GET /v1/admin/reports/low-stock", () => {
  /** Products and SKUs written straight to Postgres (no SKU objects, so nothing reports over them). */
  async function seedStock() {
    const base = `0low-${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    const name = (s: string) => `${base}-${s}`;
    const active = name("p-active");
    const archived = name("p-archived");
    await withDb(env, async (db) => {
      await db.insert(products).values([
        { id: active, title: "Active", status: "active" },
        { id: archived, title: "Archived", status: "archived" },
      ]);
      const sku = (id: string, productId: string, retired = false) => ({
        sku: name(id),
        productId,
        title: id,
        priceAmount: 100,
        currency: "USD",
        retiredAt: retired ? new Date() : null,
      });
      await db
        .insert(skus)
        .values([
          sku("a", active),
          sku("b", active),
          sku("c", active),
          sku("d", active),
          sku("e", active, true),
          sku("f", archived),
          sku("g", active),
        ]);
      const level = (id: string, onHand: number, reserved: number) => ({
        sku: name(id),
        onHand,
        reserved,
        available: onHand - reserved,
        sold: 0,
        // Far ahead of any real report, so none can overwrite these levels during the test.
        ledgerSeq: 1_000_000_000_000,
        reportedAt: new Date(),
      });
      // a: never reported (0/0). b: 2 of 5 available. c: exactly 5. d: 6. e: retired, f: archived
      // product (both 0, both left out). g: 1 available.
      await db
        .insert(inventoryLevels)
        .values([level("b", 5, 3), level("c", 5, 0), level("d", 9, 3), level("e", 0, 0), level("f", 0, 0), level("g", 1, 0)]);
    });
    return { base, name };
  }

  type Row = { sku: string; available: number; on_hand: number };
  async function report(query: string): Promise<Row[]> {
    const { data } = await getJson<{ data: Row[] }>(`/v1/admin/reports/low-stock${query}`);
    expect(data.length).toBeLessThanOrEqual(1000);
    for (let i = 1; i < data.length; i++) expect(data[i - 1]!.available).toBeLessThanOrEqual(data[i]!.available);
    return data;
  }

  it("lists sellable SKUs at or below the threshold, lowest first, counting a never-stocked SKU as 0", async () => {
    const { base, name } = await seedStock();
    const mine = (rows: Row[]) => rows.filter((row) => row.sku.startsWith(base));

    const byDefault = await report("");
    expect(byDefault.every((row) => row.available <= 5)).toBe(true);
    expect(mine(byDefault)).toEqual([
      { sku: name("a"), available: 0, on_hand: 0 },
      { sku: name("g"), available: 1, on_hand: 1 },
      { sku: name("b"), available: 2, on_hand: 5 },
      { sku: name("c"), available: 5, on_hand: 5 },
    ]);
    expect(mine(await report("?threshold=5"))).toEqual(mine(byDefault));
    // The back office's view in Postgres (the default threshold) lists the same SKUs in the same order.
    expect((await lowStockRows()).filter((row) => row.sku.startsWith(base))).toEqual(
      mine(byDefault).map(({ sku, available }) => ({ sku, available })),
    );
    expect(mine(await report("?threshold=0"))).toEqual([{ sku: name("a"), available: 0, on_hand: 0 }]);
    expect(mine(await report("?threshold=1"))).toEqual([
      { sku: name("a"), available: 0, on_hand: 0 },
      { sku: name("g"), available: 1, on_hand: 1 },
    ]);
    expect(mine(await report("?threshold=6")).map((row) => row.sku)).toEqual(["a", "g", "b", "c", "d"].map(name));
    expect(mine(await report("?threshold=1000000"))).toHaveLength(5);
  });
});

describe("report access and validation", () => {
  const paths = ["/v1/admin/orders", "/v1/admin/reports/sales", "/v1/admin/reports/top-skus", "/v1/admin/reports/low-stock"];

  it("answers 401 without the admin token or with a wrong one", async () => {
    for (const path of paths) {
      await expectProblem(await call("GET", path), 401, "unauthorized");
      await expectProblem(await call("GET", path, { headers: { authorization: "Bearer not-the-token" } }), 401, "unauthorized");
    }
  });

  it("refuses malformed dates, from after to, ranges over 366 days, bad limits and unknown parameters with 400", async () => {
    const invalid: Array<[string, string]> = [
      ["from=2031-02-30&to=2031-03-01", "query.from"],
      ["from=2031-1-5&to=2031-01-10", "query.from"],
      ["from=yesterday&to=2031-01-10", "query.from"],
      ["from=2031-01-01&to=2031-01-01T00:00:00Z", "query.to"],
      ["from=0000-01-01&to=2031-01-02", "query.from"],
      ["from=2031-03-02&to=2031-03-01", "query.from"],
      ["from=2031-01-01&to=2032-01-02", "query.to"],
      ["to=2031-01-01&from=2029-12-31", "query.to"],
      ["from=2031-01-01&to=2031-01-02&region=eu", "query.region"],
      ["from=2031-01-01&from=2031-01-02", "query.from"],
    ];
    for (const route of ["sales", "top-skus"]) {
      for (const [query, path] of invalid) {
        const problem = await expectProblem(
          await call("GET", `/v1/admin/reports/${route}?${query}`, { headers: ADMIN }),
          400,
          "invalid_request",
        );
        expect(problem.errors, `${route}?${query}`).toEqual([expect.objectContaining({ path })]);
      }
    }
    // 366 days inclusive is the most a range may span (a leap year).
    expect((await call("GET", "/v1/admin/reports/sales?from=2032-01-01&to=2032-12-31", { headers: ADMIN })).status).toBe(200);
    for (const limit of ["0", "101", "-1", "2.5", "x"]) {
      const problem = await expectProblem(
        await call("GET", `/v1/admin/reports/top-skus?limit=${limit}`, { headers: ADMIN }),
        400,
        "invalid_request",
      );
      expect(problem.errors).toEqual([expect.objectContaining({ path: "query.limit" })]);
    }
    for (const threshold of ["-1", "abc", "1.5", "1000000001"]) {
      const problem = await expectProblem(
        await call("GET", `/v1/admin/reports/low-stock?threshold=${threshold}`, { headers: ADMIN }),
        400,
        "invalid_request",
      );
      expect(problem.errors).toEqual([expect.objectContaining({ path: "query.threshold" })]);
    }
    await expectProblem(await call("GET", "/v1/admin/reports/low-stock?limit=5", { headers: ADMIN }), 400, "invalid_request");
  });

  it("documents every report route in the OpenAPI document", async () => {
    const doc = (await (await call("GET", "/v1/openapi.json")).json()) as {
      paths: Record<string, { get?: { security?: unknown; parameters: Array<{ name: string; description?: string }> } }>;
    };
    for (const path of paths) expect(doc.paths[path]?.get?.security, path).toEqual([{ adminToken: [] }]);
    const topSkus = doc.paths["/v1/admin/reports/top-skus"]!.get!.parameters;
    expect(topSkus.map((p) => p.name).sort()).toEqual(["from", "limit", "to"]);
    expect(topSkus.find((p) => p.name === "from")?.description).toContain("30 days");
  });
});
