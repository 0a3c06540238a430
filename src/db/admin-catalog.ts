/**
 * The back office's product list: every product in Postgres, whatever its status.
 */
import { and, asc, eq, gt } from "drizzle-orm";
import type { Product } from "../contracts";
import { getProducts } from "./catalog";
import type { Db } from "./client";
import { products } from "./schema";

/**
 * Products ordered by id, strictly after `after` (keyset pagination), optionally only those in
 * `status`; at most `limit`, each with its live variants.
 */
export async function listAllProducts(db: Db, options: { limit: number; after?: string; status?: Product["status"] }): Promise<Product[]> {
  const rows = await db
    .select({ id: products.id })
    .from(products)
    .where(
      and(
        options.status !== undefined ? eq(products.status, options.status) : undefined,
        options.after !== undefined ? gt(products.id, options.after) : undefined,
      ),
    )
    .orderBy(asc(products.id))
    .limit(options.limit);
  const found = new Map(
    (
      await getProducts(
        db,
        rows.map((row) => row.id),
      )
    ).map((product) => [product.id, product]),
  );
  return rows.flatMap((row) => found.get(row.id) ?? []);
}
