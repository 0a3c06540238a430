/**
 * The bench-only routes (src/routes/bench.ts) exist only under `npm run bench`, which sets
 * BENCH_ROUTES=on. Here, as in production, BENCH_ROUTES keeps wrangler.toml's "off".
 */
import { env } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ApiError } from "../src/http/problem";
import { inventoryStub } from "../src/objects/stubs";
import { route } from "../src/router";
import { benchRoutes } from "../src/routes/bench";
import { ADMIN, call, createStockedProduct, expectProblem, unique } from "./helpers";

/** A request path for a route's path template. */
function concrete(template: string): string {
  return template.replace("{sku}", "SKU-1").replace("{cart_id}", "0123456789abcdef0123456789abcdef");
}

describe("bench routes while BENCH_ROUTES is not on", () => {
  it("runs with BENCH_ROUTES off, as production does", () => {
    expect(env.BENCH_ROUTES).toBe("off");
  });

  for (const spec of benchRoutes) {
    it(`answers ${spec.method} ${spec.path} with the 404 of an unknown path`, async () => {
      const path = concrete(spec.path);
      const response = await call(spec.method, path, { headers: ADMIN, body: spec.method === "GET" ? undefined : {} });
      const body = await expectProblem(response, 404, "not_found");
      expect(body.detail).toBe(`No route matches ${spec.method} ${path}.`);
    });
  }

  it("answers another method on a bench path 404 too, never 405 with an Allow header", async () => {
    const response = await call("DELETE", "/bench/noop");
    expect(response.headers.get("allow")).toBeNull();
    await expectProblem(response, 404, "not_found");
  });

  it("leaves them out of the OpenAPI document", async () => {
    const doc = (await (await call("GET", "/v1/openapi.json")).json()) as { paths: Record<string, Record<string, { operationId: string; tags: string[] }>> };
    const operations = Object.values(doc.paths).flatMap((methods) => Object.values(methods));
    expect(Object.keys(doc.paths).filter((path) => path.startsWith("/bench"))).toEqual([]);
    expect(operations.filter((op) => benchRoutes.some((spec) => spec.operationId === op.operationId))).toEqual([]);
    expect(operations.filter((op) => op.tags.includes("bench"))).toEqual([]);
    expect(operations.length).toBeGreaterThan(0);
  });

  it("has the SKU object refuse a bench run and change nothing", async () => {
    const sku = unique("SKU");
    await createStockedProduct([sku], 10);
    expect(await inventoryStub(env, sku).benchHolds(5, false)).toEqual({ ok: false, reason: "bench_disabled" });
    const inventory = (await (await call("GET", `/v1/admin/inventory/${sku}`, { headers: ADMIN })).json()) as { reserved: number; holds: unknown[] };
    expect({ reserved: inventory.reserved, holds: inventory.holds }).toEqual({ reserved: 0, holds: [] });
  });
});

describe("bench routes with BENCH_ROUTES on", () => {
  const on = { ...env, BENCH_ROUTES: "on" } as Env;

  it("serves them: the noop answers 204", async () => {
    const response = await route(new Request("http://edgecart.test/bench/noop", { method: "POST" }), on, createExecutionContext(), "bench-gate-test");
    expect(response.status).toBe(204);
  });

  it("answers a wrong method on a bench path 405, as for any route", async () => {
    const answer = route(new Request("http://edgecart.test/bench/noop", { method: "DELETE" }), on, createExecutionContext(), "bench-gate-test");
    await expect(answer).rejects.toBeInstanceOf(ApiError);
    await expect(answer).rejects.toMatchObject({ status: 405, headers: { allow: "POST, PUT" } });
  });
});
