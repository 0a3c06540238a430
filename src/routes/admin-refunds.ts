/**
 * Refunds due, from Postgres: late payments (the order had expired or was cancelled), second
 * payments, and payments of orders whose stock could not be secured.
 */
import * as z from "zod";
import { OrderId, RefundListQuery, RefundPage } from "../contracts";
import { withDb } from "../db/client";
import { listRefunds } from "../db/refunds";
import { decodeCursor, encodeCursor } from "../http/cursor";
import { defineRoute, json } from "../http/route";

const Cursor = z.strictObject({
  t: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/),
  o: OrderId,
  p: z.string().min(1).max(200),
});

export const listRefundsDue = defineRoute({
  method: "GET",
  path: "/v1/admin/refunds",
  operationId: "listRefunds",
  database: true,
  summary: "Payments to refund, newest first (from Postgres)",
  tag: "admin",
  auth: "admin",
  query: RefundListQuery,
  responses: {
    200: { description: "A page of refunds due", schema: RefundPage },
    400: { description: "Invalid query or cursor" },
    401: { description: "Missing or wrong admin token" },
  },
  async handler({ env, query }) {
    const cursor = query.cursor === undefined ? undefined : decodeCursor(Cursor, query.cursor);
    const after = cursor === undefined ? undefined : { recorded_at: cursor.t, order_id: cursor.o, payment_id: cursor.p };
    const rows = await withDb(env, (db) => listRefunds(db, { limit: query.limit + 1, after }));
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    const next =
      rows.length > query.limit && last
        ? encodeCursor({ t: last.position.recorded_at, o: last.position.order_id, p: last.position.payment_id })
        : null;
    return json({ data: page.map((row) => row.refund), next_cursor: next }, 200, { "cache-control": "no-store" });
  },
});
