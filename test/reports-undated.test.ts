/**
 * The back-office read API tests that write no dated orders: an order paid through checkout now,
 * refused list parameters, and the sales report's default range. The tests that write dated orders
 * stay in test/reports.test.ts (their day windows are disjoint only within that file).
 */
import { describe, expect, it } from "vitest";
import type { Order } from "../src/contracts";
import { reportRange } from "../src/routes/admin-reports";
import { ADMIN, call, createStockedProduct, eventually, expectProblem, newCart, sendPayment, unique } from "./helpers";
import { getJson, walk } from "./lib/reports";

describe("GET /v1/admin/orders", () => {
  it("lists an order paid through checkout and the signed webhook once the queue has archived it", async () => {
    const sku = unique("E2E");
    await createStockedProduct([sku], 10, {}, { amount: 1250 });
    const cart = await newCart();
    expect((await call("PUT", `/v1/carts/${cart.id}/items/${sku}`, { body: { quantity: 3 }, headers: cart.headers })).status).toBe(200);
    const placed = await call("POST", `/v1/carts/${cart.id}/checkout`, {
      body: { email: "e2e@example.com" },
      headers: { ...cart.headers, "idempotency-key": crypto.randomUUID() },
    });
    expect(placed.status).toBe(201);
    const order = (await placed.json()) as Order;
    expect((await sendPayment(order.id, 3750, "USD")).status).toBe(204);
    const paid = (await (await call("GET", `/v1/orders/${order.id}`, { headers: cart.headers })).json()) as Order;
    expect(paid.status).toBe("paid");

    const find = async () => (await walk("&status=paid", 100, order.created_at)).orders.find((o) => o.id === order.id);
    const listed = await eventually(find, (found) => found !== undefined);
    // The archive shows the order exactly as its cart's object does, product and title included.
    expect(listed).toEqual(paid);
    expect(listed!.lines).toEqual([
      {
        sku,
        product_id: expect.any(String),
        title: `Variant ${sku}`,
        quantity: 3,
        unit_price: { amount: 1250, currency: "USD" },
        line_total: { amount: 3750, currency: "USD" },
        discount: { amount: 0, currency: "USD" },
        tax: { amount: 0, currency: "USD" },
      },
    ]);
  });

  it("refuses a bad status, limit or cursor and unknown parameters with 400", async () => {
    for (const query of [
      "status=shipped",
      "limit=0",
      "limit=101",
      "limit=ten",
      "cursor=not-a-cursor",
      `cursor=${btoa(JSON.stringify({ t: "2031-02-30T00:00:00.000000Z", i: `ord_${"0".repeat(64)}` }))}`,
      "page=2",
      "status=paid&status=cancelled",
    ]) {
      await expectProblem(await call("GET", `/v1/admin/orders?${query}`, { headers: ADMIN }), 400, "invalid_request");
    }
  });
});

describe("GET /v1/admin/reports/sales", () => {
  it("defaults to the last 30 days, today included", async () => {
    const { from, to } = reportRange({}, new Date());
    for (const query of ["", `?from=${from}`, `?to=${to}`]) {
      const report = await getJson<{ data: Array<{ day: string }> }>(`/v1/admin/reports/sales${query}`);
      for (const row of report.data) expect(row.day >= from && row.day <= to).toBe(true);
    }
    expect(reportRange({}, new Date("2031-03-01T23:59:59Z"))).toEqual({ from: "2031-01-31", to: "2031-03-01" });
    expect(reportRange({ to: "2032-03-01" }, new Date())).toEqual({ from: "2032-02-01", to: "2032-03-01" });
  });
});
