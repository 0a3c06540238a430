/**
 * Helpers of the back-office read API tests (test/reports.test.ts, test/reports-stock-access.test.ts):
 * archival messages written through archiveOrders (the queue consumer's own code path), orders in
 * other statuses, and admin GETs.
 */
import { env } from "cloudflare:test";
import { expect } from "vitest";
import type { Order, OrderArchivedV1 } from "../../src/contracts";
import { withDb } from "../../src/db/client";
import { archiveOrders } from "../../src/db/orders";
import { orders } from "../../src/db/schema";
import { ADMIN, call } from "../helpers";

export function hex64(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, "0")).join("");
}

type LineSpec = { sku: string; quantity: number; unit: number };

/** An archival message exactly as the cart object sends it, for a paid order. */
export function paidMessage(options: {
  lines: LineSpec[];
  paidAt: string;
  createdAt?: string;
  currency?: string;
  email?: string;
}): OrderArchivedV1 {
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
export function orderOf(message: OrderArchivedV1): Order {
  const { order } = message;
  return {
    id: order.id,
    cart_id: order.cart_id,
    status: "paid",
    email: order.email,
    lines: order.lines.map((line) => ({
      ...line,
      discount: line.discount ?? { amount: 0, currency: line.line_total.currency },
      tax: line.tax ?? { amount: 0, currency: line.line_total.currency },
    })),
    subtotal: { amount: order.lines.reduce((sum, line) => sum + line.line_total.amount, 0), currency: order.total.currency },
    discounts: [],
    discount_total: order.discount_total ?? { amount: 0, currency: order.total.currency },
    tax_total: order.tax_total ?? { amount: 0, currency: order.total.currency },
    tax_inclusive: order.tax_inclusive ?? false,
    total: order.total,
    payment_expires_at: order.payment_expires_at,
    created_at: order.created_at,
    paid_at: order.paid_at,
  };
}

export async function archive(messages: OrderArchivedV1[]): Promise<void> {
  expect(await withDb(env, (db) => archiveOrders(db, messages))).toBe(messages.length);
}

/** Writes an order in a status the queue never archives (the list's filter must still work). */
export async function insertOrder(status: "pending_payment" | "cancelled" | "expired", createdAt: string): Promise<string> {
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

export type Page = { data: Order[]; next_cursor: string | null };

export async function getJson<T>(path: string): Promise<T> {
  const response = await call("GET", path, { headers: ADMIN });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as T;
}

/**
 * Walks GET /v1/admin/orders page by page from the newest until the listing is past `oldest`
 * (or ends). Checks every page's size and that the walk down to `oldest` is strictly newest first.
 */
export async function walk(query: string, limit: number, oldest: string): Promise<{ orders: Order[]; pages: number }> {
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
export function newestFirst(a: { created_at: string; id: string }, b: { created_at: string; id: string }): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? 1 : -1;
  return a.id < b.id ? 1 : -1;
}
