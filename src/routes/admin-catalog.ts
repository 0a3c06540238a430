/**
 * The back office's product reads, from Postgres (the system of record): every status, with the
 * variants and prices the publish path pushes to the edge.
 */
import * as z from "zod";
import { PageQuery, Product, ProductId, ProductPage, ProductParams, ProductStatus } from "../contracts";
import { listAllProducts } from "../db/admin-catalog";
import { getProduct } from "../db/catalog";
import { withDb } from "../db/client";
import { decodeCursor, encodeCursor } from "../http/cursor";
import { notFound } from "../http/problem";
import { defineRoute, json } from "../http/route";

const NO_STORE = { "cache-control": "no-store" };

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
  database: true,
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
    const rows = await withDb(env, (db) =>
      listAllProducts(db, { limit: query.limit + 1, status: query.status, ...(after !== undefined ? { after } : {}) }),
    );
    const data = rows.slice(0, query.limit);
    const last = data[data.length - 1];
    const next = rows.length > query.limit && last ? encodeCursor({ a: last.id }) : null;
    return json({ data, next_cursor: next }, 200, NO_STORE);
  },
});

export const getAdminProduct = defineRoute({
  method: "GET",
  path: "/v1/admin/products/{product_id}",
  operationId: "getAdminProduct",
  database: true,
  summary: "One product from Postgres in any status, as the next PUT would replace it (the storefront's GET reads the edge cache)",
  tag: "admin",
  auth: "admin",
  params: ProductParams,
  responses: {
    200: { description: "The product", schema: Product },
    401: { description: "Missing or wrong admin token" },
    404: { description: "No such product" },
  },
  async handler({ env, params }) {
    const product = await withDb(env, (db) => getProduct(db, params.product_id));
    if (product === null) throw notFound("product");
    return json(product, 200, NO_STORE);
  },
});
