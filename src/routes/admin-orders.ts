/**
 * The back-office order list, read from the Postgres archive (paid orders arrive there through
 * the archival queue within seconds of the payment).
 */
import * as z from "zod";
import {
  AdminOrderListQuery,
  Day,
  MAX_REPORT_DAYS,
  OrderId,
  OrderPage,
  UNARCHIVED_DEFAULT_DAYS,
  UnarchivedOrderPage,
  UnarchivedOrdersQuery,
} from "../contracts";
import { withDb } from "../db/client";
import { listArchivedOrders } from "../db/orders";
import { decodeCursor, encodeCursor } from "../http/cursor";
import { ApiError } from "../http/problem";
import { defineRoute, json } from "../http/route";
import { paidOrdersStub } from "../objects/stubs";

const DAY_MS = 86_400_000;

/** The list's query: status, page, and an inclusive range of UTC days of `created_at`. */
const ListQuery = AdminOrderListQuery.extend({
  from: Day.optional().describe("Only orders created on or after this UTC day (YYYY-MM-DD, inclusive)"),
  to: Day.optional().describe("Only orders created on or before this UTC day (YYYY-MM-DD, inclusive); not before `from`"),
});

/** `from`/`to` as a half-open instant range [createdFrom, createdBefore); `from` after `to` is a 400. */
function createdRange(query: { from?: string | undefined; to?: string | undefined }): { createdFrom?: Date; createdBefore?: Date } {
  if (query.from !== undefined && query.to !== undefined && query.from > query.to) {
    throw new ApiError(400, "invalid_request", "The request query is invalid.", {
      errors: [{ path: "query.from", message: "must not be after to" }],
    });
  }
  return {
    ...(query.from !== undefined ? { createdFrom: new Date(`${query.from}T00:00:00Z`) } : {}),
    ...(query.to !== undefined ? { createdBefore: new Date(Date.parse(`${query.to}T00:00:00Z`) + DAY_MS) } : {}),
  };
}

/**
 * Cursor: the last listed order's place (`created_at` to the microsecond, id). It is a place, not
 * a page number, so orders archived while a client pages are neither repeated nor skipped; a
 * status or date filter may change between pages and applies from that place on.
 */
const Cursor = z.strictObject({
  t: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/)
    .refine((t) => {
      const parsed = Date.parse(t);
      return !Number.isNaN(parsed) && new Date(parsed).toISOString().slice(0, 19) === t.slice(0, 19);
    }),
  i: OrderId,
});

export const listAdminOrders = defineRoute({
  method: "GET",
  path: "/v1/admin/orders",
  operationId: "listOrders",
  database: true,
  summary:
    "Archived orders from Postgres, newest first (created_at, then id), cursor-paginated, optionally by status and by UTC days of created_at (from..to inclusive)",
  tag: "admin",
  auth: "admin",
  query: ListQuery,
  responses: {
    200: { description: "A page of orders", schema: OrderPage },
    400: { description: "Invalid query or cursor: a malformed date, from after to, or an unknown parameter" },
    401: { description: "Missing or wrong admin token" },
  },
  async handler({ env, query }) {
    const cursor = query.cursor === undefined ? undefined : decodeCursor(Cursor, query.cursor);
    const after = cursor === undefined ? undefined : { created_at: cursor.t, id: cursor.i };
    const range = createdRange(query);
    const rows = await withDb(env, (db) => listArchivedOrders(db, { limit: query.limit + 1, status: query.status, after, ...range }));
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    const next = rows.length > query.limit && last ? encodeCursor({ t: last.position.created_at, i: last.position.id }) : null;
    return json({ data: page.map((row) => row.order), next_cursor: next });
  },
});

/** Cursor of the backlog: the last listed entry's day, payment time and order id. */
const BacklogCursor = z.strictObject({ d: Day, p: z.number().int().min(0), i: OrderId });

export const listUnarchivedOrders = defineRoute({
  method: "GET",
  path: "/v1/admin/orders/unarchived",
  operationId: "listUnarchivedOrders",
  summary: "Paid orders Postgres has not confirmed yet (the archival backlog), oldest first, from the edge's registry of paid orders",
  tag: "admin",
  auth: "admin",
  query: UnarchivedOrdersQuery,
  responses: {
    200: { description: "A page of unarchived paid orders", schema: UnarchivedOrderPage },
    400: { description: "Invalid query or cursor" },
    401: { description: "Missing or wrong admin token" },
  },
  async handler({ env, query }) {
    const cursor = query.cursor === undefined ? undefined : decodeCursor(BacklogCursor, query.cursor);
    const today = Date.parse(new Date().toISOString().slice(0, 10));
    const first = cursor ? Date.parse(cursor.d) : query.from ? Date.parse(query.from) : today - UNARCHIVED_DEFAULT_DAYS * DAY_MS;
    // One registry object per day: a bounded walk (a request may reach only so many objects).
    if (first < today - MAX_REPORT_DAYS * DAY_MS) {
      throw new ApiError(400, "invalid_request", "The request query is invalid.", {
        errors: [
          {
            path: query.cursor === undefined ? "query.from" : "query.cursor",
            message: `must be at most ${MAX_REPORT_DAYS} days before today`,
          },
        ],
      });
    }
    const data: Array<z.infer<typeof UnarchivedOrderPage>["data"][number]> = [];
    for (let day = first; day <= today && data.length <= query.limit; day += DAY_MS) {
      const name = new Date(day).toISOString().slice(0, 10);
      const after = cursor && cursor.d === name ? { paid_at: cursor.p, order_id: cursor.i } : null;
      for (const entry of await paidOrdersStub(env, name).unarchived(query.limit + 1 - data.length, after)) {
        data.push({
          id: entry.order_id,
          cart_id: entry.cart_id,
          status: entry.status,
          paid_at: new Date(entry.paid_at).toISOString(),
          total: { amount: entry.total_amount, currency: entry.currency },
        });
        if (data.length > query.limit) break;
      }
    }
    const more = data.length > query.limit;
    const page = data.slice(0, query.limit);
    const end = page[page.length - 1];
    const next = more && end ? encodeCursor({ d: end.paid_at.slice(0, 10), p: Date.parse(end.paid_at), i: end.id }) : null;
    return json({ data: page, next_cursor: next }, 200, { "cache-control": "no-store" });
  },
});
