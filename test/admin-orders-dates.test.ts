/**
 * GET /v1/admin/orders?from=&to=: UTC days of created_at, both inclusive.
 *
 * The database is shared by every test file of a run, so each test writes its own orders through
 * archiveOrders (the queue consumer's code path) in a window of UTC days of its own, far in the
 * future (2090 on, after the windows test/reports.test.ts uses), and expects exact listings.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Order, OrderArchivedV1 } from "../src/contracts";
import { withDb } from "../src/db/client";
import { archiveOrders } from "../src/db/orders";
import { ADMIN, call, expectProblem, unique } from "./helpers";

const DAY_MS = 86_400_000;

/** A random first day for this file (2090–2180), then disjoint, increasing windows per test. */
let nextDay = Math.floor(Date.UTC(2090, 0, 1) / DAY_MS) + Math.floor(Math.random() * 30_000);

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

/** A paid order created at `createdAt`, archived as the queue consumer archives it. */
async function archived(createdAt: string): Promise<OrderArchivedV1> {
  const cartId = hex64();
  const sku = unique("DATES");
  const line = {
    sku,
    product_id: `product-${sku}`,
    title: sku,
    quantity: 1,
    unit_price: { amount: 700, currency: "USD" },
    line_total: { amount: 700, currency: "USD" },
  };
  const message: OrderArchivedV1 = {
    type: "order.paid",
    version: 1,
    order: {
      id: `ord_${cartId}`,
      cart_id: cartId,
      email: "dates@example.com",
      status: "paid",
      total: { amount: 700, currency: "USD" },
      payment_id: `pi_${cartId.slice(0, 8)}`,
      created_at: createdAt,
      paid_at: new Date(Date.parse(createdAt) + 1000).toISOString(),
      payment_expires_at: new Date(Date.parse(createdAt) + 1_800_000).toISOString(),
      lines: [line],
    },
  };
  expect(await withDb(env, (db) => archiveOrders(db, [message]))).toBe(1);
  return message;
}

type Page = { data: Order[]; next_cursor: string | null };

async function page(query: string): Promise<Page> {
  const response = await call("GET", `/v1/admin/orders?${query}`, { headers: ADMIN });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as Page;
}

/** Every order a query lists, following next_cursor to the end. */
async function all(query: string): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const current: Page = await page(`${query}${cursor ? `&cursor=${cursor}` : ""}`);
    pages += 1;
    ids.push(...current.data.map((order) => order.id));
    cursor = current.next_cursor;
  } while (cursor !== null);
  return { ids, pages };
}

describe("GET /v1/admin/orders from/to", () => {
  it("lists exactly the orders created on the UTC days from..to, both inclusive, newest first", async () => {
    const { day, at } = days(4);
    const before = await archived(at(0, "23:59:59.999"));
    const first = await archived(at(1, "00:00:00.000"));
    const middle = await archived(at(2, "12:00:00.000"));
    const last = await archived(at(3, "23:59:59.999"));
    const after = await archived(at(4, "00:00:00.000"));

    const { ids } = await all(`from=${day(1)}&to=${day(3)}`);
    expect(ids).toEqual([last, middle, first].map((m) => m.order.id));
    expect((await all(`from=${day(2)}&to=${day(2)}`)).ids).toEqual([middle.order.id]);
    expect((await all(`from=${day(0)}&to=${day(4)}&status=paid`)).ids).toEqual([after, last, middle, first, before].map((m) => m.order.id));
    expect((await all(`from=${day(1)}&to=${day(3)}&status=cancelled`)).ids).toEqual([]);
  });

  it("takes either bound alone: from lists that day and later, to that day and earlier", async () => {
    const { day, at } = days(2);
    const early = await archived(at(0, "08:00:00.000"));
    const late = await archived(at(1, "08:00:00.000"));

    // Nothing is created after this file's latest window, so `from` alone ends with this test's orders.
    expect((await all(`from=${day(1)}`)).ids).toEqual([late.order.id]);
    const upTo = await page(`to=${day(0)}&limit=1`);
    expect(upTo.data.map((order) => order.id)).toEqual([early.order.id]);
    expect(upTo.data[0]).toMatchObject({ status: "paid", created_at: early.order.created_at, total: { amount: 700, currency: "USD" } });
  });

  it("pages within the range with the cursor, neither skipping nor repeating", async () => {
    const { day, at } = days(1);
    const made = [];
    for (const time of ["01:00:00.000", "02:00:00.000", "03:00:00.000", "04:00:00.000", "05:00:00.000"])
      made.push(await archived(at(0, time)));
    const { ids, pages } = await all(`from=${day(0)}&to=${day(0)}&limit=2`);
    expect(ids).toEqual(made.map((m) => m.order.id).reverse());
    expect(pages).toBe(3);
  });

  it("refuses malformed days, from after to and repeated bounds with 400 invalid_request naming the field", async () => {
    const cases: Array<[string, string]> = [
      ["from=2031-02-30", "query.from"],
      ["to=2031-13-01", "query.to"],
      ["from=20310101", "query.from"],
      ["to=2031-1-1", "query.to"],
      ["from=1969-12-31", "query.from"],
      ["from=2031-01-01T00:00:00Z", "query.from"],
      ["from=2031-03-02&to=2031-03-01", "query.from"],
      ["from=2031-03-01&from=2031-03-02", "query.from"],
    ];
    for (const [query, path] of cases) {
      const body = await expectProblem(await call("GET", `/v1/admin/orders?${query}`, { headers: ADMIN }), 400, "invalid_request");
      expect(
        (body.errors as Array<{ path: string }>).map((e) => e.path),
        query,
      ).toContain(path);
    }
    await expectProblem(await call("GET", "/v1/admin/orders?from=2031-03-01"), 401, "unauthorized");
  });

  it("is documented in the OpenAPI document as optional query parameters", async () => {
    const doc = (await (await call("GET", "/v1/openapi.json")).json()) as {
      paths: Record<
        string,
        Record<
          string,
          { parameters: Array<{ name: string; in: string; required: boolean; description?: string; schema: Record<string, unknown> }> }
        >
      >;
    };
    const parameters = doc.paths["/v1/admin/orders"]!.get!.parameters;
    for (const name of ["from", "to"]) {
      const parameter = parameters.find((p) => p.name === name);
      expect(parameter, name).toMatchObject({ in: "query", required: false, schema: { type: "string", format: "date" } });
      expect(parameter!.description).toMatch(/UTC day/);
    }
  });
});
