// The inventory admin routes and SKU availability over HTTP; the InventoryObject itself is in test/inventory.test.ts.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { inventoryStub } from "../src/objects/stubs";
import { ADMIN, call, createStockedProduct, expectProblem, unique } from "./helpers";
import { levels } from "./lib/inventory";

describe("inventory HTTP routes", () => {
  it("stocks, adjusts and reports a SKU through the admin API", async () => {
    const sku = unique("SKU");
    await createStockedProduct([sku], 0);
    const put = await call("PUT", `/v1/admin/inventory/${sku}`, { body: { on_hand: 100 }, headers: ADMIN });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ sku, on_hand: 100, reserved: 0, available: 100, holds: [], holds_total: 0 });
    const adjusted = await call("POST", `/v1/admin/inventory/${sku}/adjustments`, {
      body: { delta: -3, reason: "damaged" },
      headers: ADMIN,
    });
    expect(adjusted.status).toBe(200);
    expect(await adjusted.json()).toMatchObject({ sku, on_hand: 97, reserved: 0, available: 97 });
    await inventoryStub(env, sku).hold("h1", "cart-1", 7, 900);
    const get = await call("GET", `/v1/admin/inventory/${sku}`, { headers: ADMIN });
    const body = (await get.json()) as { holds: unknown[] };
    expect(body).toMatchObject({ sku, on_hand: 97, reserved: 7, available: 90, holds_total: 1 });
    expect(body.holds).toEqual([{ hold_id: "h1", owner_id: "cart-1", quantity: 7, expires_at: expect.stringMatching(/Z$/) }]);
    const availability = await call("GET", `/v1/skus/${sku}/availability`);
    expect(availability.headers.get("cache-control")).toBe("no-store");
    expect(await availability.json()).toEqual({ sku, available: 90 });
  });

  it("answers 409 below_reserved and leaves on_hand as it was", async () => {
    const sku = unique("SKU");
    await createStockedProduct([sku], 0);
    await call("PUT", `/v1/admin/inventory/${sku}`, { body: { on_hand: 10 }, headers: ADMIN });
    await inventoryStub(env, sku).hold("h1", "cart-1", 8, 900);
    const body = await expectProblem(
      await call("PUT", `/v1/admin/inventory/${sku}`, { body: { on_hand: 7 }, headers: ADMIN }),
      409,
      "below_reserved",
    );
    expect(body).toMatchObject({ reserved: 8, on_hand: 10 });
    await expectProblem(
      await call("POST", `/v1/admin/inventory/${sku}/adjustments`, { body: { delta: -3, reason: "x" }, headers: ADMIN }),
      409,
      "below_reserved",
    );
    expect(await levels(inventoryStub(env, sku))).toMatchObject({ on_hand: 10, reserved: 8 });
  });

  it("replays an adjustment retried with the same Idempotency-Key only once", async () => {
    const sku = unique("SKU");
    await createStockedProduct([sku], 0);
    await call("PUT", `/v1/admin/inventory/${sku}`, { body: { on_hand: 10 }, headers: ADMIN });
    // Admin keys share one scope (the admin token): a key of this test's own.
    const headers = { ...ADMIN, "idempotency-key": unique("adj-once") };
    const adjust = () => call("POST", `/v1/admin/inventory/${sku}/adjustments`, { body: { delta: 5, reason: "restock" }, headers });
    expect((await adjust()).status).toBe(200);
    expect((await adjust()).status).toBe(200);
    expect(await levels(inventoryStub(env, sku))).toMatchObject({ on_hand: 15 });
  });

  it("validates bodies: negative, fractional, zero deltas, unknown fields", async () => {
    const sku = unique("SKU");
    const bad: Array<[string, unknown, string]> = [
      ["PUT", { on_hand: -1 }, "on_hand"],
      ["PUT", { on_hand: 2.5 }, "on_hand"],
      ["PUT", { on_hand: "5" }, "on_hand"],
      ["PUT", {}, "on_hand"],
      ["POST", { delta: 0, reason: "x" }, "delta"],
      ["POST", { delta: 1.5, reason: "x" }, "delta"],
      ["POST", { delta: 1 }, "reason"],
      ["POST", { delta: 1, reason: "x", by: "me" }, "by"],
    ];
    for (const [method, body, path] of bad) {
      const target = method === "PUT" ? `/v1/admin/inventory/${sku}` : `/v1/admin/inventory/${sku}/adjustments`;
      const problem = await expectProblem(await call(method, target, { body, headers: ADMIN }), 400, "invalid_request");
      expect((problem.errors as Array<{ path: string }>).map((e) => e.path)).toContain(path);
    }
    await expectProblem(await call("GET", `/v1/admin/inventory/${sku}`, { headers: ADMIN }), 404, "not_found");
  });

  it("answers 404 for the availability of a SKU in no product, 0 for one defined but not stocked", async () => {
    await expectProblem(await call("GET", `/v1/skus/${unique("SKU")}/availability`), 404, "not_found");
    const sku = unique("SKU");
    await createStockedProduct([sku], 0);
    expect(await (await call("GET", `/v1/skus/${sku}/availability`)).json()).toEqual({ sku, available: 0 });
  });

  it("refuses to stock a SKU that is in no product with 404", async () => {
    const sku = unique("SKU");
    await expectProblem(await call("PUT", `/v1/admin/inventory/${sku}`, { body: { on_hand: 5 }, headers: ADMIN }), 404, "not_found");
    await expectProblem(
      await call("POST", `/v1/admin/inventory/${sku}/adjustments`, { body: { delta: 5, reason: "x" }, headers: ADMIN }),
      404,
      "not_found",
    );
  });
});
