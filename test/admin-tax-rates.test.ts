// The back office's tax rates per country (issue 18) and the tax mode: CRUD in Postgres, the
// whole table published to KV (what carts read when TAX_MODE is `rates`), bad input as 400 with
// field paths, admin auth.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { TaxRate } from "../src/contracts";
import { TAX_RATES_KEY } from "../src/services/pricing-settings";
import { ADMIN, call, expectProblem } from "./helpers";

/** A user-assigned country code (Q + a letter), unlikely to meet another test's. */
function country(): string {
  return `Q${String.fromCharCode(65 + Math.floor(Math.random() * 26))}`;
}

const put = (c: string, body: unknown) => call("PUT", `/v1/admin/tax-rates/${c}`, { body, headers: ADMIN });
const get = (c: string) => call("GET", `/v1/admin/tax-rates/${c}`, { headers: ADMIN });

async function edgeTable(): Promise<Record<string, { basis_points: number; inclusive: boolean }>> {
  return ((await env.CATALOG.get(TAX_RATES_KEY, "json")) as Record<string, { basis_points: number; inclusive: boolean }> | null) ?? {};
}

describe("tax rates", () => {
  it("creates, replaces, lists and deletes a country's rate, publishing the table each time", async () => {
    const c = country();
    await call("DELETE", `/v1/admin/tax-rates/${c}`, { headers: ADMIN }); // a leftover of an earlier run
    const createdResponse = await put(c, { basis_points: 1900, inclusive: true });
    expect(createdResponse.status).toBe(201);
    expect(createdResponse.headers.get("cache-control")).toBe("no-store");
    const created = (await createdResponse.json()) as TaxRate;
    expect(created).toMatchObject({ country: c, basis_points: 1900, inclusive: true, version: 1, published_version: 1 });
    expect((await edgeTable())[c]).toEqual({ basis_points: 1900, inclusive: true });

    const replaced = await put(c, { basis_points: 700, inclusive: false });
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toMatchObject({ country: c, basis_points: 700, inclusive: false, version: 2, published_version: 2 });
    expect((await edgeTable())[c]).toEqual({ basis_points: 700, inclusive: false });
    expect(await (await get(c)).json()).toMatchObject({ country: c, basis_points: 700, version: 2 });

    const list = (await (await call("GET", "/v1/admin/tax-rates", { headers: ADMIN })).json()) as { data: TaxRate[] };
    expect(list.data.find((rate) => rate.country === c)).toMatchObject({ basis_points: 700, inclusive: false });
    const countries = list.data.map((rate) => rate.country);
    expect(countries).toEqual([...countries].sort());

    expect((await call("DELETE", `/v1/admin/tax-rates/${c}`, { headers: ADMIN })).status).toBe(204);
    await expectProblem(await get(c), 404, "not_found");
    await expectProblem(await call("DELETE", `/v1/admin/tax-rates/${c}`, { headers: ADMIN }), 404, "not_found");
    expect((await edgeTable())[c]).toBeUndefined();
  });

  it("accepts 0 and 10000 basis points", async () => {
    const c = country();
    for (const basis_points of [0, 10_000]) {
      const response = await put(c, { basis_points, inclusive: false });
      expect([200, 201]).toContain(response.status);
      expect((await edgeTable())[c]).toEqual({ basis_points, inclusive: false });
    }
  });
});

describe("bad input is a 400 naming the field", () => {
  const cases: Array<[string, string, unknown, string]> = [
    ["a lower-case country", "de", { basis_points: 1900, inclusive: true }, "path.country"],
    ["a three-letter country", "DEU", { basis_points: 1900, inclusive: true }, "path.country"],
    ["a rate over 100 %", "QA", { basis_points: 10_001, inclusive: true }, "basis_points"],
    ["a negative rate", "QA", { basis_points: -1, inclusive: true }, "basis_points"],
    ["a fractional rate", "QA", { basis_points: 19.5, inclusive: true }, "basis_points"],
    ["no inclusive", "QA", { basis_points: 1900 }, "inclusive"],
    ["inclusive as a string", "QA", { basis_points: 1900, inclusive: "yes" }, "inclusive"],
    ["an unknown field", "QA", { basis_points: 1900, inclusive: true, region: "BY" }, "region"],
  ];
  for (const [name, c, body, path] of cases) {
    it(`refuses ${name} (${path})`, async () => {
      const problem = await expectProblem(await put(c, body), 400, "invalid_request");
      expect((problem.errors as Array<{ path: string }>).map((e) => e.path)).toContain(path);
    });
  }

  it("refuses a query on the list", async () => {
    await expectProblem(await call("GET", "/v1/admin/tax-rates?limit=5", { headers: ADMIN }), 400, "invalid_request");
  });
});

describe("tax settings", () => {
  it("GET /v1/admin/settings/tax answers TAX_MODE (none unless set)", async () => {
    const response = await call("GET", "/v1/admin/settings/tax", { headers: ADMIN });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ mode: "none" });
  });
});

describe("admin auth", () => {
  it("every tax route needs the admin token, and a refused PUT writes nothing", async () => {
    const c = country();
    await call("DELETE", `/v1/admin/tax-rates/${c}`, { headers: ADMIN });
    const routes: Array<[string, string, unknown?]> = [
      ["GET", "/v1/admin/tax-rates"],
      ["GET", `/v1/admin/tax-rates/${c}`],
      ["PUT", `/v1/admin/tax-rates/${c}`, { basis_points: 1900, inclusive: true }],
      ["DELETE", `/v1/admin/tax-rates/${c}`],
      ["GET", "/v1/admin/settings/tax"],
    ];
    for (const [method, path, body] of routes) {
      for (const headers of [{}, { authorization: "Bearer not-the-token" }] as Array<Record<string, string>>) {
        await expectProblem(await call(method, path, { body, headers }), 401, "unauthorized");
      }
    }
    await expectProblem(await get(c), 404, "not_found");
  });
});
