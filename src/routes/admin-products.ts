/**
 * Back-office catalog writes. Postgres is the system of record; the SKU objects have the new
 * prices before the call returns, the KV cache follows.
 */
import { Product, ProductInput, ProductParams } from "../contracts";
import { ApiError, notFound } from "../http/problem";
import { defineRoute, empty, json } from "../http/route";
import { retireProduct, saveProduct } from "../sync/catalog-publish";

export const putProduct = defineRoute({
  method: "PUT",
  path: "/v1/admin/products/{product_id}",
  operationId: "putProduct",
  database: true,
  summary: "Create or replace a product and its variants",
  tag: "admin",
  auth: "admin",
  params: ProductParams,
  body: ProductInput,
  responses: {
    200: { description: "Replaced", schema: Product },
    201: { description: "Created", schema: Product },
    400: { description: "Invalid product" },
    401: { description: "Missing or wrong admin token" },
    409: { description: "sku_conflict: a SKU belongs to another product", problems: ["sku_conflict"] },
  },
  async handler({ env, params, body }) {
    const outcome = await saveProduct(env, params.product_id, body);
    if (!outcome.ok) {
      throw new ApiError(409, "sku_conflict", `SKU ${outcome.skus.join(", ")} belongs to another product.`, { skus: outcome.skus });
    }
    return json(outcome.product, outcome.created ? 201 : 200);
  },
});

export const deleteProduct = defineRoute({
  method: "DELETE",
  path: "/v1/admin/products/{product_id}",
  operationId: "archiveProduct",
  database: true,
  summary: "Archive a product: it is no longer listed and its SKUs cannot be added to carts",
  tag: "admin",
  auth: "admin",
  params: ProductParams,
  responses: {
    204: { description: "Archived" },
    401: { description: "Missing or wrong admin token" },
    404: { description: "No such product" },
  },
  async handler({ env, params }) {
    const product = await retireProduct(env, params.product_id);
    if (product === null) throw notFound("product");
    return empty(204);
  },
});
