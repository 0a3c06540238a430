/**
 * The back-office order list, read from the Postgres archive (paid orders arrive there through
 * the archival queue within seconds of the payment).
 */
import { z } from "zod";
import { AdminOrderListQuery, OrderId, OrderPage } from "../contracts";
import { withDb } from "../db/client";
import { listArchivedOrders } from "../db/orders";
import { decodeCursor, encodeCursor } from "../http/cursor";
import { defineRoute, json } from "../http/route";

/**
 * Cursor: the last listed order's place (`created_at` to the microsecond, id). It is a place, not
 * a page number, so orders archived while a client pages are neither repeated nor skipped; a
 * status filter may change between pages and applies from that place on.
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
  summary: "Archived orders from Postgres, newest first (created_at, then id), cursor-paginated, optionally by status",
  tag: "admin",
  auth: "admin",
  query: AdminOrderListQuery,
  responses: {
    200: { description: "A page of orders", schema: OrderPage },
    400: { description: "Invalid query or cursor" },
    401: { description: "Missing or wrong admin token" },
  },
  async handler({ env, query }) {
    const cursor = query.cursor === undefined ? undefined : decodeCursor(Cursor, query.cursor);
    const after = cursor === undefined ? undefined : { created_at: cursor.t, id: cursor.i };
    const rows = await withDb(env, (db) => listArchivedOrders(db, { limit: query.limit + 1, status: query.status, after }));
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    const next = rows.length > query.limit && last ? encodeCursor({ t: last.position.created_at, i: last.position.id }) : null;
    return json({ data: page.map((row) => row.order), next_cursor: next });
  },
});
