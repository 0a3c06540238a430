/**
 * The back-office read API from Postgres: the archived order list, the sales and top-SKU reports
 * and the reporting views, from dated orders (test/reports-undated.test.ts has the tests that write
 * none; test/reports-stock-access.test.ts has the low-stock report, access and validation).
 *
 * The database is shared by every test file of a run, so each test writes its own orders with
 * unique SKUs, far in the future (2031 on) and in a day window of its own (`days()`), through
 * archiveOrders — the queue consumer's own code path — and then expects exact figures. Every test
 * that writes dated orders stays in this file: the windows are disjoint only within one file.
 */
import { describe, expect, it } from "vitest";
import { unique } from "./helpers";
import { archive, getJson, hex64, insertOrder, newestFirst, orderOf, type Page, paidMessage, walk } from "./lib/reports";
import { dayWindows, insertExpired, viewRows } from "./lib/reports-dated";

/** `count` consecutive UTC days no other test of this file uses (test/lib/reports-dated.ts). */
const days = dayWindows();

describe("GET /v1/admin/orders", () => {
  it("walks every archived order exactly once, newest first with id as tiebreak, in the Order shape", async () => {
    const { at } = days(3);
    const sku = unique("LIST");
    const messages = [
      paidMessage({ createdAt: at(0, "08:00:00.000"), paidAt: at(0, "08:01:00.000"), lines: [{ sku, quantity: 1, unit: 100 }] }),
      paidMessage({ createdAt: at(0, "09:00:00.000"), paidAt: at(0, "09:02:00.000"), lines: [{ sku, quantity: 2, unit: 100 }] }),
      // Three orders created in the same millisecond: the id breaks the tie.
      paidMessage({ createdAt: at(1, "10:00:00.000"), paidAt: at(1, "10:01:00.000"), lines: [{ sku, quantity: 3, unit: 100 }] }),
      paidMessage({ createdAt: at(1, "10:00:00.000"), paidAt: at(1, "10:01:00.000"), lines: [{ sku, quantity: 4, unit: 100 }] }),
      paidMessage({ createdAt: at(1, "10:00:00.000"), paidAt: at(1, "10:01:00.000"), lines: [{ sku, quantity: 5, unit: 100 }] }),
      paidMessage({ createdAt: at(2, "23:59:59.999"), paidAt: at(2, "23:59:59.999"), lines: [{ sku, quantity: 6, unit: 100 }] }),
      // Lines are listed in the order's own order (not by SKU), each with product and title.
      paidMessage({
        createdAt: at(2, "12:00:00.000"),
        paidAt: at(2, "12:00:30.000"),
        lines: [
          { sku: `${sku}-z`, quantity: 1, unit: 700 },
          { sku: `${sku}-a`, quantity: 2, unit: 350 },
        ],
      }),
    ];
    await archive(messages);
    const expected = messages.map(orderOf).sort(newestFirst);

    for (const limit of [1, 2, 3, 100]) {
      const { orders: listed } = await walk("", limit, expected[expected.length - 1]!.created_at);
      const mine = listed.filter((order) => messages.some((m) => m.order.id === order.id));
      expect(mine).toEqual(expected);
    }
  });

  it("pages orders apart by microseconds without skipping or repeating any", async () => {
    const { at } = days(1);
    const moment = at(0, "10:00:00.000").slice(0, -1);
    // Written by another tool with microsecond times inside one millisecond, ids in the opposite
    // order: a position cut to milliseconds would skip or repeat them.
    const prefix = hex64().slice(0, 63);
    const rows = [1, 2, 3].map((micro) => ({ id: `ord_${prefix}${4 - micro}`, at: `${moment}00${micro}Z` }));
    await insertExpired(rows);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Page = await getJson<Page>(`/v1/admin/orders?status=expired&limit=1${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...page.data.map((order) => order.id));
      cursor = page.next_cursor;
    } while (cursor !== null && !seen.includes(rows[0]!.id));
    const mine = seen.filter((id) => rows.some((row) => row.id === id));
    expect(mine).toEqual(rows.map((row) => row.id).reverse());
  });

  it("filters by status, paginating within the status", async () => {
    const { at } = days(1);
    const sku = unique("STATUS");
    const paid = [
      paidMessage({ createdAt: at(0, "01:00:00.000"), paidAt: at(0, "01:05:00.000"), lines: [{ sku, quantity: 1, unit: 500 }] }),
      paidMessage({ createdAt: at(0, "05:00:00.000"), paidAt: at(0, "05:05:00.000"), lines: [{ sku, quantity: 1, unit: 500 }] }),
    ];
    await archive(paid);
    const others = {
      cancelled: [
        await insertOrder("cancelled", at(0, "02:00:00.000")),
        await insertOrder("cancelled", at(0, "03:00:00.000")),
        await insertOrder("cancelled", at(0, "04:00:00.000")),
      ],
      expired: [await insertOrder("expired", at(0, "02:30:00.000"))],
      pending_payment: [await insertOrder("pending_payment", at(0, "06:00:00.000"))],
    };
    const mine: Record<string, string[]> = { paid: paid.map((m) => m.order.id), ...others };
    const all = Object.values(mine).flat();
    const oldest = at(0, "01:00:00.000");

    for (const [status, ids] of Object.entries(mine)) {
      const { orders: listed } = await walk(`&status=${status}`, 2, oldest);
      expect(listed.every((order) => order.status === status)).toBe(true);
      const found = listed.filter((order) => all.includes(order.id)).map((order) => order.id);
      expect(new Set(found)).toEqual(new Set(ids));
      expect(found).toHaveLength(ids.length);
    }
    const cancelled = (await walk("&status=cancelled", 100, oldest)).orders.find((order) => order.id === others.cancelled[0]);
    expect(cancelled).toMatchObject({
      status: "cancelled",
      lines: [],
      total: { amount: 1000, currency: "USD" },
      paid_at: at(0, "02:01:00.000"),
    });

    const unfiltered = (await walk("", 3, oldest)).orders.filter((order) => all.includes(order.id)).map((order) => order.id);
    const [c0, c1, c2] = others.cancelled;
    expect(unfiltered).toEqual([others.pending_payment[0], paid[1]!.order.id, c2, c1, others.expired[0], c0, paid[0]!.order.id]);
  });
});

describe("GET /v1/admin/reports/sales", () => {
  it("counts paid orders, units and revenue per UTC day and currency, both bounds inclusive", async () => {
    const { day, at } = days(5);
    const [a, b, c] = [unique("SALE-A"), unique("SALE-B"), unique("SALE-C")];
    await archive([
      // Day 0, one millisecond before midnight: not in a range starting on day 1.
      paidMessage({ paidAt: at(0, "23:59:59.999"), lines: [{ sku: a, quantity: 9, unit: 100 }] }),
      // Day 1, from its first instant to its last.
      paidMessage({ paidAt: at(1, "00:00:00.000"), lines: [{ sku: a, quantity: 2, unit: 1000 }] }),
      paidMessage({
        paidAt: at(1, "12:00:00.000"),
        lines: [
          { sku: a, quantity: 1, unit: 1000 },
          { sku: b, quantity: 3, unit: 250 },
        ],
      }),
      paidMessage({ paidAt: at(1, "13:00:00.000"), currency: "EUR", lines: [{ sku: c, quantity: 1, unit: 5000 }] }),
      paidMessage({ paidAt: at(1, "23:59:59.999"), lines: [{ sku: b, quantity: 1, unit: 250 }] }),
      // Day 2: nothing. Day 3: both currencies.
      paidMessage({ paidAt: at(3, "00:00:00.000"), lines: [{ sku: b, quantity: 4, unit: 250 }] }),
      paidMessage({ paidAt: at(3, "23:59:59.000"), currency: "EUR", lines: [{ sku: c, quantity: 2, unit: 4000 }] }),
      // Day 4, midnight: not in a range ending on day 3.
      paidMessage({ paidAt: at(4, "00:00:00.000"), lines: [{ sku: a, quantity: 5, unit: 100 }] }),
    ]);
    // Orders that were never paid, or were refunded, do not count.
    await insertOrder("cancelled", at(1, "10:00:00.000"));
    await insertOrder("expired", at(1, "11:00:00.000"));
    await insertOrder("pending_payment", at(3, "11:00:00.000"));

    expect(await getJson(`/v1/admin/reports/sales?from=${day(1)}&to=${day(3)}`)).toEqual({
      data: [
        { day: day(1), orders: 1, units: 1, revenue: { amount: 5000, currency: "EUR" } },
        { day: day(1), orders: 3, units: 7, revenue: { amount: 4000, currency: "USD" } },
        { day: day(3), orders: 1, units: 2, revenue: { amount: 8000, currency: "EUR" } },
        { day: day(3), orders: 1, units: 4, revenue: { amount: 1000, currency: "USD" } },
      ],
    });
    expect(await getJson(`/v1/admin/reports/sales?from=${day(0)}&to=${day(0)}`)).toEqual({
      data: [{ day: day(0), orders: 1, units: 9, revenue: { amount: 900, currency: "USD" } }],
    });
    expect(await getJson(`/v1/admin/reports/sales?to=${day(4)}&from=${day(4)}`)).toEqual({
      data: [{ day: day(4), orders: 1, units: 5, revenue: { amount: 500, currency: "USD" } }],
    });
    expect(await getJson(`/v1/admin/reports/sales?from=${day(2)}&to=${day(2)}`)).toEqual({ data: [] });
    const all = await getJson<{ data: Array<{ day: string }> }>(`/v1/admin/reports/sales?from=${day(0)}&to=${day(4)}`);
    expect(all.data.map((row) => row.day)).toEqual([day(0), day(1), day(1), day(3), day(3), day(4)]);
  });
});

describe("GET /v1/admin/reports/top-skus", () => {
  it("ranks SKUs by units, then revenue, then SKU, one row per currency, within the range and limit", async () => {
    const { day, at } = days(4);
    const base = unique("TOP");
    const [v, w, x, y, z] = ["v", "w", "x", "y", "z"].map((s) => `${base}-${s}`) as [string, string, string, string, string];
    await archive([
      paidMessage({
        paidAt: at(1, "00:00:00.000"),
        lines: [
          { sku: x, quantity: 6, unit: 100 },
          { sku: y, quantity: 7, unit: 100 },
        ],
      }),
      paidMessage({
        paidAt: at(1, "09:30:00.000"),
        lines: [
          { sku: x, quantity: 4, unit: 100 },
          { sku: z, quantity: 3, unit: 200 },
          { sku: w, quantity: 7, unit: 200 },
        ],
      }),
      paidMessage({
        paidAt: at(2, "23:59:59.999"),
        lines: [
          { sku: z, quantity: 4, unit: 200 },
          { sku: v, quantity: 1, unit: 99 },
        ],
      }),
      paidMessage({ paidAt: at(2, "14:00:00.000"), currency: "EUR", lines: [{ sku: x, quantity: 2, unit: 150 }] }),
      // Outside the range on either side.
      paidMessage({ paidAt: at(0, "23:59:59.999"), lines: [{ sku: v, quantity: 50, unit: 1 }] }),
      paidMessage({ paidAt: at(3, "00:00:00.000"), lines: [{ sku: y, quantity: 50, unit: 1 }] }),
    ]);
    await insertOrder("cancelled", at(1, "12:00:00.000"));

    const ranked = [
      { sku: x, units: 10, revenue: { amount: 1000, currency: "USD" } },
      // w and z: 7 units and 1400 each; the SKU decides.
      { sku: w, units: 7, revenue: { amount: 1400, currency: "USD" } },
      { sku: z, units: 7, revenue: { amount: 1400, currency: "USD" } },
      { sku: y, units: 7, revenue: { amount: 700, currency: "USD" } },
      { sku: x, units: 2, revenue: { amount: 300, currency: "EUR" } },
      { sku: v, units: 1, revenue: { amount: 99, currency: "USD" } },
    ];
    const range = `from=${day(1)}&to=${day(2)}`;
    expect(await getJson(`/v1/admin/reports/top-skus?${range}`)).toEqual({ data: ranked });
    expect(await getJson(`/v1/admin/reports/top-skus?${range}&limit=3`)).toEqual({ data: ranked.slice(0, 3) });
    expect(await getJson(`/v1/admin/reports/top-skus?${range}&limit=1`)).toEqual({ data: ranked.slice(0, 1) });
    expect(await getJson(`/v1/admin/reports/top-skus?from=${day(2)}&to=${day(2)}&limit=100`)).toEqual({
      data: [
        { sku: z, units: 4, revenue: { amount: 800, currency: "USD" } },
        { sku: x, units: 2, revenue: { amount: 300, currency: "EUR" } },
        { sku: v, units: 1, revenue: { amount: 99, currency: "USD" } },
      ],
    });
  });

  it("returns at most 20 rows by default", async () => {
    const { day, at } = days(1);
    const base = unique("MANY");
    const lines = Array.from({ length: 25 }, (_, i) => ({ sku: `${base}-${String(i).padStart(2, "0")}`, quantity: 30 - i, unit: 10 }));
    await archive([paidMessage({ paidAt: at(0, "12:00:00.000"), lines })]);
    const report = await getJson<{ data: Array<{ sku: string; units: number }> }>(`/v1/admin/reports/top-skus?from=${day(0)}&to=${day(0)}`);
    expect(report.data.map((row) => [row.sku, row.units])).toEqual(lines.slice(0, 20).map((line) => [line.sku, line.quantity]));
  });
});

describe("the reporting views for BI tools", () => {
  it("agree with the endpoints", async () => {
    const { day, at } = days(2);
    const sku = unique("VIEW");
    const message = paidMessage({
      paidAt: at(0, "23:59:59.999"),
      lines: [
        { sku, quantity: 2, unit: 300 },
        { sku: `${sku}-b`, quantity: 1, unit: 50 },
      ],
    });
    await archive([message, paidMessage({ paidAt: at(1, "00:00:00.000"), lines: [{ sku, quantity: 1, unit: 300 }] })]);
    const rows = await viewRows(sku, day(0), day(1));
    expect(rows.lines).toEqual([
      {
        day: day(0),
        order_id: message.order.id,
        position: 0,
        sku,
        product_id: `product-${sku}`,
        title: `Title ${sku}`,
        quantity: 2,
        unit_amount: 300,
        line_amount: 600,
        currency: "USD",
      },
      {
        day: day(1),
        order_id: expect.any(String),
        position: 0,
        sku,
        product_id: `product-${sku}`,
        title: `Title ${sku}`,
        quantity: 1,
        unit_amount: 300,
        line_amount: 300,
        currency: "USD",
      },
    ]);
    expect(rows.daily).toEqual([
      { day: day(0), currency: "USD", orders: 1, units: 3, revenue_amount: 650 },
      { day: day(1), currency: "USD", orders: 1, units: 1, revenue_amount: 300 },
    ]);
    expect(rows.skuDaily).toEqual([
      { day: day(0), orders: 1, units: 2, revenue_amount: 600 },
      { day: day(1), orders: 1, units: 1, revenue_amount: 300 },
    ]);
    expect(rows.skuAllTime).toEqual([
      { sku, currency: "USD", orders: 2, units: 3, revenue_amount: 900, first_day: day(0), last_day: day(1) },
    ]);
    expect(await getJson(`/v1/admin/reports/sales?from=${day(0)}&to=${day(1)}`)).toEqual({
      data: rows.daily.map((row) => ({
        day: row.day,
        orders: row.orders,
        units: row.units,
        revenue: { amount: row.revenue_amount, currency: row.currency },
      })),
    });
  });
});
