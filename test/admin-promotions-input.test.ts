// The back office's promotion routes refuse bad input with 400 naming each field (never a 500,
// nothing written), and every one of them needs the admin token.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { promotionStub } from "../src/objects/stubs";
import { ADMIN, call, expectProblem, unique } from "./helpers";

const percentOff = (extra: Record<string, unknown> = {}) => ({ value: { kind: "percent", basis_points: 1000 }, ...extra });
const put = (id: string, body: unknown) => call("PUT", `/v1/admin/promotions/${id}`, { body, headers: ADMIN });
const get = (id: string) => call("GET", `/v1/admin/promotions/${id}`, { headers: ADMIN });

describe("bad input is a 400 naming the field, never a 500", () => {
  const cases: Array<[string, unknown, string]> = [
    ["no value", {}, "value"],
    ["a percentage of 0", { value: { kind: "percent", basis_points: 0 } }, "value.basis_points"],
    ["a percentage over 100 %", { value: { kind: "percent", basis_points: 10_001 } }, "value.basis_points"],
    ["an unknown value kind", { value: { kind: "bogo" } }, "value.kind"],
    ["fixed amounts in no currency", { value: { kind: "fixed", amounts: {} } }, "value.amounts"],
    ["a fixed amount in a bad currency", { value: { kind: "fixed", amounts: { usd: 5 } } }, "value.amounts.usd"],
    ["a negative amount", { value: { kind: "fixed", amounts: { USD: -1 } } }, "value.amounts.USD"],
    ["an empty SKU target", percentOff({ target: { kind: "skus", skus: [] } }), "target.skus"],
    ["a bad SKU", percentOff({ target: { kind: "skus", skus: [".."] } }), "target.skus.0"],
    ["a minimum subtotal in no currency", percentOff({ conditions: { min_subtotal: {} } }), "conditions.min_subtotal"],
    ["a minimum quantity of 0", percentOff({ conditions: { min_quantity: 0 } }), "conditions.min_quantity"],
    ["an unknown condition", percentOff({ conditions: { first_order: true } }), "conditions.first_order"],
    ["a code with a space", percentOff({ code: "TEN OFF" }), "code"],
    ["a code of 41 characters", percentOff({ code: "A".repeat(41) }), "code"],
    ["a start that is no time", percentOff({ starts_at: "next monday" }), "starts_at"],
    ["a start without a UTC offset", percentOff({ starts_at: "2026-01-01T00:00:00" }), "starts_at"],
    ["a start before 1970", percentOff({ starts_at: "1969-12-31T23:59:59Z" }), "starts_at"],
    ["an end before the start", percentOff({ starts_at: "2026-02-01T00:00:00Z", ends_at: "2026-01-01T00:00:00Z" }), "ends_at"],
    ["an end equal to the start", percentOff({ starts_at: "2026-02-01T00:00:00Z", ends_at: "2026-02-01T01:00:00+01:00" }), "ends_at"],
    ["a usage limit of 0", percentOff({ usage_limit: 0 }), "usage_limit"],
    ["a fractional priority", percentOff({ priority: 1.5 }), "priority"],
    ["a priority too high", percentOff({ priority: 1001 }), "priority"],
    ["an unknown status", percentOff({ status: "deleted" }), "status"],
    ["a server-owned field", percentOff({ version: 7 }), "version"],
  ];
  for (const [name, body, path] of cases) {
    it(`refuses ${name} (${path})`, async () => {
      const id = unique("bad");
      const problem = await expectProblem(await put(id, body), 400, "invalid_request");
      expect((problem.errors as Array<{ path: string }>).map((e) => e.path)).toContain(path);
      await expectProblem(await get(id), 404, "not_found");
    });
  }

  it("refuses bad ids, queries and cursors", async () => {
    const badId = await expectProblem(await put("a%20b", percentOff()), 400, "invalid_request");
    expect(badId.errors).toEqual([expect.objectContaining({ path: "path.promotion_id" })]);
    for (const query of ["status=deleted", "code=A%20B", "limit=0", "cursor=garbage", "kind=auto"]) {
      await expectProblem(await call("GET", `/v1/admin/promotions?${query}`, { headers: ADMIN }), 400, "invalid_request");
    }
    await expectProblem(
      await call("PUT", `/v1/admin/promotions/${unique("p")}`, { body: "{", headers: { ...ADMIN, "content-type": "application/json" } }),
      400,
      "invalid_request",
    );
    await expectProblem(
      await call("PUT", `/v1/admin/promotions/${unique("p")}`, { body: "x", headers: { ...ADMIN, "content-type": "text/plain" } }),
      415,
      "unsupported_media_type",
    );
  });
});

describe("admin auth", () => {
  it("every promotion route needs the admin token, and a refused PUT writes nothing", async () => {
    const id = unique("promo");
    const routes: Array<[string, string, unknown?]> = [
      ["GET", "/v1/admin/promotions"],
      ["GET", `/v1/admin/promotions/${id}`],
      ["PUT", `/v1/admin/promotions/${id}`, percentOff()],
      ["DELETE", `/v1/admin/promotions/${id}`],
    ];
    for (const [method, path, body] of routes) {
      for (const headers of [{}, { authorization: "Bearer not-the-token" }] as Array<Record<string, string>>) {
        await expectProblem(await call(method, path, { body, headers }), 401, "unauthorized");
      }
    }
    await expectProblem(await get(id), 404, "not_found");
    expect(await promotionStub(env, `auto:${id}`).lookup()).toBeNull();
  });
});
