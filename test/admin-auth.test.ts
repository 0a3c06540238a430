import { describe, expect, it } from "vitest";
import { secretsEqual } from "../src/platform/crypto";
import { call, defineSku, expectProblem, unique } from "./helpers";
import { TEST_ADMIN_TOKEN } from "./secrets";

describe("admin bearer auth", () => {
  /** An inventory path of a SKU that exists (0 on hand), so an accepted PUT would change it. */
  const path = async () => {
    const sku = unique("SKU");
    await defineSku(sku);
    return `/v1/admin/inventory/${sku}`;
  };
  const cases: Array<[string, Record<string, string>]> = [
    ["no Authorization header", {}],
    ["an empty bearer", { authorization: "Bearer " }],
    ["a wrong token", { authorization: "Bearer not-the-token" }],
    ["a truncated token", { authorization: `Bearer ${TEST_ADMIN_TOKEN.slice(0, -1)}` }],
    ["a padded token", { authorization: `Bearer ${TEST_ADMIN_TOKEN}x` }],
    ["another scheme", { authorization: `Basic ${TEST_ADMIN_TOKEN}` }],
    ["the token without a scheme", { authorization: TEST_ADMIN_TOKEN }],
  ];
  for (const [name, headers] of cases) {
    it(`refuses ${name} with 401 and changes nothing`, async () => {
      const target = await path();
      const response = await call("PUT", target, { body: { on_hand: 5 }, headers });
      expect(response.headers.get("www-authenticate")).toContain("Bearer");
      await expectProblem(response, 401, "unauthorized");
      const after = await call("GET", target, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
      expect(await after.json()).toMatchObject({ on_hand: 0 });
    });
  }

  it("accepts the exact token, with any case of the scheme", async () => {
    const response = await call("PUT", await path(), { body: { on_hand: 5 }, headers: { authorization: `bearer ${TEST_ADMIN_TOKEN}` } });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ on_hand: 5 });
  });

  it("compares secrets by content", async () => {
    expect(await secretsEqual("abc", "abc")).toBe(true);
    expect(await secretsEqual("abc", "abd")).toBe(false);
    expect(await secretsEqual("abc", "abcd")).toBe(false);
  });
});
