/**
 * The back-office read API tests that write no orders in the far-future day windows: an order paid
 * through checkout now, refused list parameters, and the sales report's default range (orders paid
 * now and around the range's first day). The tests that write orders in day windows of their own
 * stay in test/reports.test.ts (those windows are disjoint only within that file).
 */
import { describe, expect, it } from "vitest";
import type { Order } from "../src/contracts";
import { reportRange } from "../src/routes/admin-reports";
import { ADMIN, call, createStockedProduct, eventually, expectProblem, newCart, sendPayment, unique } from "./helpers";
import { getJson, hex64, walk } from "./lib/reports";
import { insertPaid } from "./lib/reports-dated";

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
  it("defaults to the last 30 days, today included: the first day's orders count, the day before's do not", async () => {
    for (let attempt = 1; ; attempt++) {
      // The range as the API document states it, worked out here rather than by reportRange().
      const now = new Date();
      const to = now.toISOString().slice(0, 10);
      const from = new Date(Date.parse(to) - 29 * 86_400_000).toISOString().slice(0, 10);
      // Paid orders in the last second of the day before the range, the first second of its first
      // day, and now (written as another tool could, with ids of the Order shape: other files walk
      // every order): each boundary has a row on both sides.
      const dayBefore = new Date(Date.parse(`${from}T00:00:00Z`) - 1000).toISOString();
      await insertPaid([
        { id: `ord_${hex64()}`, at: dayBefore, amount: 100 },
        { id: `ord_${hex64()}`, at: `${from}T00:00:01Z`, amount: 100 },
        { id: `ord_${hex64()}`, at: now.toISOString(), amount: 100 },
      ]);
      const reports: Array<{ data: Array<{ day: string }> }> = [];
      for (const query of ["", `?from=${from}`, `?to=${to}`]) reports.push(await getJson(`/v1/admin/reports/sales${query}`));
      if (new Date().toISOString().slice(0, 10) !== to) {
        // The UTC day turned during the requests: the server may have used either day. Again.
        if (attempt === 2) throw new Error("the UTC day turned twice during one test");
        continue;
      }
      for (const report of reports) {
        const days = report.data.map((row) => row.day);
        expect(days.filter((day) => day < from || day > to)).toEqual([]);
        expect(days).toContain(from);
        expect(days).toContain(to);
      }
      const before = dayBefore.slice(0, 10);
      expect(
        (await getJson<{ data: Array<{ day: string }> }>(`/v1/admin/reports/sales?from=${before}&to=${before}`)).data.map((row) => row.day),
      ).toEqual([before]);
      break;
    }
    expect(reportRange({}, new Date("2031-03-01T23:59:59Z"))).toEqual({ from: "2031-01-31", to: "2031-03-01" });
    expect(reportRange({ to: "2032-03-01" }, new Date())).toEqual({ from: "2032-02-01", to: "2032-03-01" });
  });
});
