/**
 * The benchmark runs in a Worker of its own (bench/wrangler.toml, bench/worker/), never in the
 * production one: here the production Worker answers every /bench/* path exactly as it answers an
 * unknown path (404 `not_found`, never 405), whatever the method or credentials, and its OpenAPI
 * document lists none. bench/check-prod-bundle.mjs checks the deployable bundle itself for bench
 * routes and methods.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TEST_ADMIN_TOKEN } from "./secrets";

const BASE = "http://edgecart.test";
const CART = "0123456789abcdef0123456789abcdef";

/** Paths the bench Worker serves, and the ones the production Worker once served behind a flag. */
const BENCH_PATHS = [
  "/bench/noop",
  "/bench/pg/request/carts",
  "/bench/pg/pooled/carts",
  `/bench/pg/request/carts/${CART}/items/SKU-1`,
  `/bench/pg/pooled/carts/${CART}/items/SKU-1?lock=for-update`,
  "/bench/pg/stock/SKU-1",
  "/bench/inventory/SKU-1/configure",
  "/bench/inventory/SKU-1/holds",
  "/bench/inventory/SKU-1/ceiling",
  "/bench/bare/carts",
  `/bench/bare/carts/${CART}`,
  `/bench/bare/carts/${CART}/items/SKU-1`,
  "/bench/bare/stock/SKU-1",
  "/bench/pg/carts",
  `/bench/pg/carts/${CART}/items/SKU-1`,
  "/bench/archive",
];

function send(method: string, path: string): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
  let body: string | undefined;
  if (method !== "GET" && method !== "HEAD") {
    body = JSON.stringify({ quantity: 1, available: 1, count: 1, mode: "batched", callers: 1, holds: 1, rtt_ms: 0 });
    headers["content-type"] = "application/json";
  }
  return exports.default.fetch(new Request(`${BASE}${path}`, { method, headers, body }));
}

describe("the production Worker serves no bench route", () => {
  for (const path of BENCH_PATHS) {
    for (const method of ["GET", "POST", "PUT", "DELETE"]) {
      it(`answers ${method} ${path} with the 404 of an unknown path`, async () => {
        const response = await send(method, path);
        const body = (await response.json()) as { code?: string; detail?: string };
        expect({ status: response.status, code: body.code, allow: response.headers.get("allow") }).toEqual({
          status: 404,
          code: "not_found",
          allow: null,
        });
        expect(response.headers.get("content-type")).toBe("application/problem+json");
        expect(body.detail).toBe(`No route matches ${method} ${new URL(path, BASE).pathname}.`);
      });
    }
  }

  it("lists no bench path or operation in its OpenAPI document", async () => {
    const response = await exports.default.fetch(new Request(`${BASE}/v1/openapi.json`));
    const doc = (await response.json()) as { paths: Record<string, Record<string, { operationId: string; tags?: string[] }>> };
    const operations = Object.values(doc.paths).flatMap((methods) => Object.values(methods));
    expect(operations.length).toBeGreaterThan(0);
    expect(Object.keys(doc.paths).filter((path) => path.startsWith("/bench"))).toEqual([]);
    expect(operations.filter((op) => /bench/i.test(op.operationId) || (op.tags ?? []).includes("bench"))).toEqual([]);
  });
});
