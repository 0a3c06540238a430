/**
 * The back-office read API from Postgres: the archived order list and the three reports.
 *
 * The database is shared by every test file of a run, so each test writes its own orders with
 * unique SKUs, far in the future (2031 on) and in a day window of its own (`days()`), through
 * archiveOrders — the queue consumer's own code path — and then expects exact figures.
 */
import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { Order, OrderArchivedV1 } from "../src/contracts";
import { withDb } from "../src/db/client";
import { archiveOrders } from "../src/db/orders";
import { inventoryLevels, orders, products, skus } from "../src/db/schema";
import { reportRange } from "../src/routes/admin-reports";
import { ADMIN, call, createStockedProduct, eventually, expectProblem, newCart, sendPayment, unique } from "./helpers";

const DAY_MS = 86_400_000;

/** A random first day for this file's windows (2031–2080), then disjoint windows per test. */
let nextDay = Math.floor(Date.UTC(2031, 0, 1) / DAY_MS) + Math.floor(Math.random() * 18_000);

/** `count` consecutive UTC days no other test uses, as `YYYY-MM-DD` strings (plus helpers). */
function days(count: number) {
  const first = nextDay;
  nextDay += count + 2;
  const day = (i: number) => new Date((first + i) * DAY_MS).toISOString().slice(0, 10);
  const at = (i: number, time: string) => `${day(i)}T${time}Z`;
  return { day, at };
}

function hex64(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, "0")).join("");
}

type LineSpec = { sku: string; quantity: number; unit: number };

/** An archival message exactly as the cart object sends it, for a paid order. */
function paidMessage(options: { lines: LineSpec[]; paidAt: string; createdAt?: string; currency?: string; email?: string }): OrderArchivedV1 {
  const cartId = hex64();
  const currency = options.currency ?? "USD";
  const createdAt = options.createdAt ?? new Date(Date.parse(options.paidAt) - 60_000).toISOString();
  const lines = options.lines.map((line) => ({
    sku: line.sku,
    product_id: `product-${line.sku}`,
    title: `Title ${line.sku}`,
    quantity: line.quantity,
    unit_price: { amount: line.unit, currency },
    line_total: { amount: line.unit * line.quantity, currency },
  }));
  return {
    type: "order.paid",
    version: 1,
    order: {
      id: `ord_${cartId}`,
      cart_id: cartId,
      email: options.email ?? "buyer@example.com",
      status: "paid",
      total: { amount: lines.reduce((sum, line) => sum + line.line_total.amount, 0), currency },
      payment_id: `pi_${cartId.slice(0, 8)}`,
      created_at: createdAt,
      paid_at: options.paidAt,
      payment_expires_at: new Date(Date.parse(createdAt) + 1_800_000).toISOString(),
      lines,
    },
  };
}

/** The Order the API shows for an archived message. */
function orderOf(message: OrderArchivedV1): Order {
  const { order } = message;
  return {
    id: order.id,
    cart_id: order.cart_id,
    status: "paid",
    email: order.email,
    lines: order.lines,
    total: order.total,
    payment_expires_at: order.payment_expires_at,
    created_at: order.created_at,
    paid_at: order.paid_at,
  };
}

async function archive(messages: OrderArchivedV1[]): Promise<void> {
  expect(await withDb(env, (db) => archiveOrders(db, messages))).toBe(messages.length);
}

/** Writes an order in a status the queue never archives (the list's filter must still work). */
async function insertOrder(status: "pending_payment" | "cancelled" | "expired", createdAt: string): Promise<string> {
  const cartId = hex64();
  const id = `ord_${cartId}`;
  await withDb(env, (db) =>
    db.insert(orders).values({
      id,
      cartId,
      status,
      email: "someone@example.com",
      totalAmount: 1000,
      currency: "USD",
      createdAt: new Date(createdAt),
      paymentExpiresAt: new Date(Date.parse(createdAt) + 1_800_000),
      // A cancelled order that had been paid (a refund) keeps its payment time: reports must
      // still leave it out.
      paidAt: status === "cancelled" ? new Date(Date.parse(createdAt) + 60_000) : null,
    }),
  );
  return id;
}

type Page = { data: Order[]; next_cursor: string | null };

async function getJson<T>(path: string): Promise<T> {
  const response = await call("GET", path, { headers: ADMIN });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as T;
}

/**
 * Walks GET /v1/admin/orders page by page from the newest until the listing is past `oldest`
 * (or ends). Checks every page's size and that the walk down to `oldest` is strictly newest first.
 */
async function walk(query: string, limit: number, oldest: string): Promise<{ orders: Order[]; pages: number }> {
  const seen: Order[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: Page = await getJson<Page>(`/v1/admin/orders?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ""}`);
    pages += 1;
    expect(page.data.length).toBeLessThanOrEqual(limit);
    if (page.next_cursor !== null) expect(page.data).toHaveLength(limit);
    seen.push(...page.data);
    cursor = page.next_cursor;
    if (page.data.length > 0 && page.data[page.data.length - 1]!.created_at < oldest) break;
  } while (cursor !== null);
  // Strictly newest first. (Past `oldest`, the walk may show another test's orders apart by
  // microseconds, which the millisecond created_at of an Order cannot order.)
  const inWindow = seen.filter((order) => order.created_at >= oldest);
  for (let i = 1; i < inWindow.length; i++) {
    const [a, b] = [inWindow[i - 1]!, inWindow[i]!];
    expect(a.created_at > b.created_at || (a.created_at === b.created_at && a.id > b.id), `${a.id} before ${b.id}`).toBe(true);
  }
  return { orders: seen, pages };
}

/** Newest first, as the list orders them: created_at desc, then id desc. */
function newestFirst(a: { created_at: string; id: string }, b: { created_at: string; id: string }): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? 1 : -1;
  return a.id < b.id ? 1 : -1;
}

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
    await withDb(env, async (db) => {
      for (const row of rows) {
        await db.execute(
          sql`INSERT INTO orders (id, cart_id, status, email, total_amount, currency, created_at, payment_expires_at) VALUES (${row.id}, ${row.id.slice(4)}, 'expired', 'x@example.com', 0, 'USD', ${row.at}::timestamptz, ${row.at}::timestamptz)`,
        );
      }
    });
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
      cancelled: [await insertOrder("cancelled", at(0, "02:00:00.000")), await insertOrder("cancelled", at(0, "03:00:00.000")), await insertOrder("cancelled", at(0, "04:00:00.000"))],
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
    expect(cancelled).toMatchObject({ status: "cancelled", lines: [], total: { amount: 1000, currency: "USD" }, paid_at: at(0, "02:01:00.000") });

    const unfiltered = (await walk("", 3, oldest)).orders.filter((order) => all.includes(order.id)).map((order) => order.id);
    const [c0, c1, c2] = others.cancelled;
    expect(unfiltered).toEqual([others.pending_payment[0], paid[1]!.order.id, c2, c1, others.expired[0], c0, paid[0]!.order.id]);
  });

  it("lists an order paid through checkout and the signed webhook once the queue has archived it", async () => {
    const sku = unique("E2E");
    await createStockedProduct([sku], 10, {}, { amount: 1250 });
    const cart = await newCart();
    expect((await call("PUT", `/v1/carts/${cart.id}/items/${sku}`, { body: { quantity: 3 }, headers: cart.headers })).status).toBe(200);
    const placed = await call("POST", `/v1/carts/${cart.id}/checkout`, { body: { email: "e2e@example.com" }, headers: { ...cart.headers, "idempotency-key": crypto.randomUUID() } });
    expect(placed.status).toBe(201);
    const order = (await placed.json()) as Order;
    expect((await sendPayment(order.id, 3750, "USD")).status).toBe(204);
    const paid = (await (await call("GET", `/v1/orders/${order.id}`, { headers: cart.headers })).json()) as Order;
    expect(paid.status).toBe("paid");

    const find = async () => (await walk("&status=paid", 100, order.created_at)).orders.find((o) => o.id === order.id);
    const listed = await eventually(find, (found) => found !== undefined);
    // The archive shows the order exactly as its cart's object does, product and title included.
    expect(listed).toEqual(paid);
    expect(listed!.lines).toEqual([{ sku, product_id: expect.any(String), title: `Variant ${sku}`, quantity: 3, unit_price: { amount: 1250, currency: "USD" }, line_total: { amount: 3750, currency: "USD" } }]);
  });

  it("refuses a bad status, limit or cursor and unknown parameters with 400", async () => {
    for (const query of ["status=shipped", "limit=0", "limit=101", "limit=ten", "cursor=not-a-cursor", "cursor=" + btoa(JSON.stringify({ t: "2031-02-30T00:00:00.000000Z", i: `ord_${"0".repeat(64)}` })), "page=2", "status=paid&status=cancelled"]) {
      await expectProblem(await call("GET", `/v1/admin/orders?${query}`, { headers: ADMIN }), 400, "invalid_request");
    }
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
      paidMessage({ paidAt: at(1, "12:00:00.000"), lines: [{ sku: a, quantity: 1, unit: 1000 }, { sku: b, quantity: 3, unit: 250 }] }),
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
    expect(await getJson(`/v1/admin/reports/sales?from=${day(0)}&to=${day(0)}`)).toEqual({ data: [{ day: day(0), orders: 1, units: 9, revenue: { amount: 900, currency: "USD" } }] });
    expect(await getJson(`/v1/admin/reports/sales?to=${day(4)}&from=${day(4)}`)).toEqual({ data: [{ day: day(4), orders: 1, units: 5, revenue: { amount: 500, currency: "USD" } }] });
    expect(await getJson(`/v1/admin/reports/sales?from=${day(2)}&to=${day(2)}`)).toEqual({ data: [] });
    const all = await getJson<{ data: Array<{ day: string }> }>(`/v1/admin/reports/sales?from=${day(0)}&to=${day(4)}`);
    expect(all.data.map((row) => row.day)).toEqual([day(0), day(1), day(1), day(3), day(3), day(4)]);
  });

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

describe("GET /v1/admin/reports/top-skus", () => {
  it("ranks SKUs by units, then revenue, then SKU, one row per currency, within the range and limit", async () => {
    const { day, at } = days(4);
    const base = unique("TOP");
    const [v, w, x, y, z] = ["v", "w", "x", "y", "z"].map((s) => `${base}-${s}`) as [string, string, string, string, string];
    await archive([
      paidMessage({ paidAt: at(1, "00:00:00.000"), lines: [{ sku: x, quantity: 6, unit: 100 }, { sku: y, quantity: 7, unit: 100 }] }),
      paidMessage({ paidAt: at(1, "09:30:00.000"), lines: [{ sku: x, quantity: 4, unit: 100 }, { sku: z, quantity: 3, unit: 200 }, { sku: w, quantity: 7, unit: 200 }] }),
      paidMessage({ paidAt: at(2, "23:59:59.999"), lines: [{ sku: z, quantity: 4, unit: 200 }, { sku: v, quantity: 1, unit: 99 }] }),
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

describe("GET /v1/admin/reports/low-stock", () => {
  /** Products and SKUs written straight to Postgres (no SKU objects, so nothing reports over them). */
  async function seedStock() {
    const base = `0low-${crypto.randomUUID().slice(0, 8)}`;
    const name = (s: string) => `${base}-${s}`;
    const active = name("p-active");
    const archived = name("p-archived");
    await withDb(env, async (db) => {
      await db.insert(products).values([
        { id: active, title: "Active", status: "active" },
        { id: archived, title: "Archived", status: "archived" },
      ]);
      const sku = (id: string, productId: string, retired = false) => ({ sku: name(id), productId, title: id, priceAmount: 100, currency: "USD", retiredAt: retired ? new Date() : null });
      await db.insert(skus).values([sku("a", active), sku("b", active), sku("c", active), sku("d", active), sku("e", active, true), sku("f", archived), sku("g", active)]);
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
      await db.insert(inventoryLevels).values([level("b", 5, 3), level("c", 5, 0), level("d", 9, 3), level("e", 0, 0), level("f", 0, 0), level("g", 1, 0)]);
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
    expect(mine(await report("?threshold=0"))).toEqual([{ sku: name("a"), available: 0, on_hand: 0 }]);
    expect(mine(await report("?threshold=1"))).toEqual([
      { sku: name("a"), available: 0, on_hand: 0 },
      { sku: name("g"), available: 1, on_hand: 1 },
    ]);
    expect(mine(await report("?threshold=6")).map((row) => row.sku)).toEqual(["a", "g", "b", "c", "d"].map(name));
    expect(mine(await report("?threshold=1000000"))).toHaveLength(5);
  });
});

describe("the reporting views for BI tools", () => {
  it("agree with the endpoints", async () => {
    const { day, at } = days(2);
    const sku = unique("VIEW");
    const message = paidMessage({ paidAt: at(0, "23:59:59.999"), lines: [{ sku, quantity: 2, unit: 300 }, { sku: `${sku}-b`, quantity: 1, unit: 50 }] });
    await archive([message, paidMessage({ paidAt: at(1, "00:00:00.000"), lines: [{ sku, quantity: 1, unit: 300 }] })]);
    const rows = await withDb(env, async (db) => ({
      lines: (await db.execute(sql`SELECT day::text, order_id, position, sku, product_id, title, quantity, unit_amount::int, line_amount::int, currency FROM v_paid_order_lines WHERE sku = ${sku} ORDER BY day`)).rows,
      daily: (await db.execute(sql`SELECT day::text, currency, orders, units::int, revenue_amount::int FROM v_daily_sales WHERE day BETWEEN ${day(0)} AND ${day(1)} ORDER BY day`)).rows,
      skuDaily: (await db.execute(sql`SELECT day::text, orders, units::int, revenue_amount::int FROM v_sku_daily_sales WHERE sku = ${sku} ORDER BY day`)).rows,
      skuAllTime: (await db.execute(sql`SELECT sku, currency, orders, units::int, revenue_amount::int, first_day::text, last_day::text FROM v_sku_sales WHERE sku = ${sku}`)).rows,
    }));
    expect(rows.lines).toEqual([
      { day: day(0), order_id: message.order.id, position: 0, sku, product_id: `product-${sku}`, title: `Title ${sku}`, quantity: 2, unit_amount: 300, line_amount: 600, currency: "USD" },
      { day: day(1), order_id: expect.any(String), position: 0, sku, product_id: `product-${sku}`, title: `Title ${sku}`, quantity: 1, unit_amount: 300, line_amount: 300, currency: "USD" },
    ]);
    expect(rows.daily).toEqual([
      { day: day(0), currency: "USD", orders: 1, units: 3, revenue_amount: 650 },
      { day: day(1), currency: "USD", orders: 1, units: 1, revenue_amount: 300 },
    ]);
    expect(rows.skuDaily).toEqual([
      { day: day(0), orders: 1, units: 2, revenue_amount: 600 },
      { day: day(1), orders: 1, units: 1, revenue_amount: 300 },
    ]);
    expect(rows.skuAllTime).toEqual([{ sku, currency: "USD", orders: 2, units: 3, revenue_amount: 900, first_day: day(0), last_day: day(1) }]);
    expect(await getJson(`/v1/admin/reports/sales?from=${day(0)}&to=${day(1)}`)).toEqual({
      data: rows.daily.map((row) => ({ day: row.day, orders: row.orders, units: row.units, revenue: { amount: row.revenue_amount, currency: row.currency } })),
    });

    const stock = await withDb(env, async (db) => {
      const all = (await db.execute(sql`SELECT sku, available FROM v_low_stock`)).rows as Array<{ sku: string; available: number }>;
      return all;
    });
    expect(stock.every((row) => row.available <= 5)).toBe(true);
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
        const problem = await expectProblem(await call("GET", `/v1/admin/reports/${route}?${query}`, { headers: ADMIN }), 400, "invalid_request");
        expect(problem.errors, `${route}?${query}`).toEqual([expect.objectContaining({ path })]);
      }
    }
    // 366 days inclusive is the most a range may span (a leap year).
    expect((await call("GET", "/v1/admin/reports/sales?from=2032-01-01&to=2032-12-31", { headers: ADMIN })).status).toBe(200);
    for (const limit of ["0", "101", "-1", "2.5", "x"]) {
      const problem = await expectProblem(await call("GET", `/v1/admin/reports/top-skus?limit=${limit}`, { headers: ADMIN }), 400, "invalid_request");
      expect(problem.errors).toEqual([expect.objectContaining({ path: "query.limit" })]);
    }
    for (const threshold of ["-1", "abc", "1.5", "1000000001"]) {
      const problem = await expectProblem(await call("GET", `/v1/admin/reports/low-stock?threshold=${threshold}`, { headers: ADMIN }), 400, "invalid_request");
      expect(problem.errors).toEqual([expect.objectContaining({ path: "query.threshold" })]);
    }
    await expectProblem(await call("GET", "/v1/admin/reports/low-stock?limit=5", { headers: ADMIN }), 400, "invalid_request");
  });

  it("documents every report route in the OpenAPI document", async () => {
    const doc = (await (await call("GET", "/v1/openapi.json")).json()) as { paths: Record<string, { get?: { security?: unknown; parameters: Array<{ name: string; description?: string }> } }> };
    for (const path of paths) expect(doc.paths[path]?.get?.security, path).toEqual([{ adminToken: [] }]);
    const topSkus = doc.paths["/v1/admin/reports/top-skus"]!.get!.parameters;
    expect(topSkus.map((p) => p.name).sort()).toEqual(["from", "limit", "to"]);
    expect(topSkus.find((p) => p.name === "from")?.description).toContain("30 days");
  });
});
