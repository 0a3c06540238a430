/**
 * The back-office product list, read from Postgres (the system of record): every status, with
 * the variants and prices the next publish pushes to the edge.
 */
import { z } from "zod";
import { PageQuery, ProductId, ProductPage, ProductStatus } from "../contracts";
import { listAllProducts } from "../db/admin-catalog";
import { withDb } from "../db/client";
import { decodeCursor, encodeCursor } from "../http/cursor";
import { defineRoute, json } from "../http/route";

const AdminProductListQuery = z.strictObject({
  ...PageQuery,
  status: ProductStatus.optional().describe("Only products in this status (default: every status)"),
});

/** Cursor: the last listed product's id. A status filter may change between pages and applies from there on. */
const Cursor = z.strictObject({ a: ProductId });

export const listAdminProducts = defineRoute({
  method: "GET",
  path: "/v1/admin/products",
  operationId: "listAdminProducts",
  summary: "Every product from Postgres, active and archived, ordered by id, cursor-paginated, optionally by status",
  tag: "admin",
  auth: "admin",
  query: AdminProductListQuery,
  responses: {
    200: { description: "A page of products", schema: ProductPage },
    400: { description: "Invalid query or cursor" },
    401: { description: "Missing or wrong admin token" },
  },
  async handler({ env, query }) {
    const after = query.cursor === undefined ? undefined : decodeCursor(Cursor, query.cursor).a;
    const rows = await withDb(env, (db) => listAllProducts(db, { limit: query.limit + 1, status: query.status, ...(after !== undefined ? { after } : {}) }));
    const data = rows.slice(0, query.limit);
    const last = data[data.length - 1];
    const next = rows.length > query.limit && last ? encodeCursor({ a: last.id }) : null;
    return json({ data, next_cursor: next }, 200, { "cache-control": "no-store" });
  },
});
