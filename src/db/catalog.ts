/**
 * Catalog queries on Postgres, the system of record for products, SKUs and prices.
 */
import { and, asc, count, eq, gt, inArray, isNull, lte, notInArray, sql } from "drizzle-orm";
import type { Product, ProductInput, SkuPricing } from "../contracts";
import type { Db } from "./client";
import { catalogPublishQueue, products, skus } from "./schema";

type ProductRow = typeof products.$inferSelect;
type SkuRow = typeof skus.$inferSelect;

/** Outcome of a create-or-replace. */
export type UpsertOutcome = { ok: true; created: boolean; product: Product } | { ok: false; reason: "sku_conflict"; skus: string[] };

function toProduct(row: ProductRow, variants: SkuRow[]): Product {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    category: row.category,
    status: row.status,
    variants: variants
      .filter((v) => v.retiredAt === null)
      .sort((a, b) => a.position - b.position)
      .map((v) => ({
        sku: v.sku,
        title: v.title,
        price: { amount: v.priceAmount, currency: v.currency },
        ...(v.maxLineQuantity !== null ? { max_line_quantity: v.maxLineQuantity } : {}),
      })),
    version: row.version,
    updated_at: row.updatedAt.toISOString(),
  };
}

/** Thrown inside the transaction to roll it back when another product owns a SKU. */
class SkuConflict extends Error {
  constructor(readonly skus: string[]) {
    super("sku_conflict");
  }
}

/**
 * Creates or replaces a product and its variants in one transaction, bumping its version and
 * queueing it for publishing (outbox) in the same transaction. Variants dropped by the replace
 * are retired, not deleted. A SKU owned by another product is refused atomically — the upsert
 * only updates rows this product owns, so two racing products cannot both take a SKU.
 *
 * `created` is true for exactly one of any number of concurrent creates of the same id: the
 * INSERT … ON CONFLICT DO NOTHING returns a row only to the transaction that inserted it (a
 * racing insert waits for that transaction and then finds the conflict), and every other writer
 * replaces the row it now sees. A `SELECT … FOR UPDATE` first would not do: on a row that does
 * not exist yet it locks nothing, and every racer would see "new".
 */
export async function upsertProduct(db: Db, id: string, input: ProductInput): Promise<UpsertOutcome> {
  try {
    return await db.transaction(async (tx) => {
      const now = new Date();
      const fields = {
        title: input.title,
        description: input.description ?? null,
        category: input.category ?? null,
        status: input.status,
        updatedAt: now,
      };
      const [inserted] = await tx
        .insert(products)
        .values({ id, ...fields, version: 1, createdAt: now })
        .onConflictDoNothing({ target: products.id })
        .returning();
      const created = inserted !== undefined;
      const row =
        inserted ??
        (
          await tx
            .update(products)
            .set({ ...fields, version: sql`${products.version} + 1` })
            .where(eq(products.id, id))
            .returning()
        )[0];
      if (row === undefined) throw new Error(`product ${id} neither inserted nor updated`);
      const wanted = input.variants.map((v) => v.sku);
      const written = await tx
        .insert(skus)
        .values(
          input.variants.map((v, position) => ({
            sku: v.sku,
            productId: id,
            title: v.title,
            priceAmount: v.price.amount,
            currency: v.price.currency,
            maxLineQuantity: v.max_line_quantity ?? null,
            position,
            retiredAt: null,
          })),
        )
        .onConflictDoUpdate({
          target: skus.sku,
          set: {
            title: sql`excluded.title`,
            priceAmount: sql`excluded.price_amount`,
            currency: sql`excluded.currency`,
            maxLineQuantity: sql`excluded.max_line_quantity`,
            position: sql`excluded.position`,
            retiredAt: sql`NULL`,
          },
          setWhere: sql`${skus.productId} = excluded.product_id`,
        })
        .returning({ sku: skus.sku });
      if (written.length !== wanted.length) {
        const mine = new Set(written.map((w) => w.sku));
        throw new SkuConflict(wanted.filter((s) => !mine.has(s)));
      }
      await tx
        .update(skus)
        .set({ retiredAt: now })
        .where(and(eq(skus.productId, id), isNull(skus.retiredAt), notInArray(skus.sku, wanted)));
      await enqueuePublish(tx as unknown as Db, id, row.version);
      const variants = await tx.select().from(skus).where(eq(skus.productId, id));
      return { ok: true as const, created, product: toProduct(row, variants) };
    });
  } catch (error) {
    if (error instanceof SkuConflict) return { ok: false, reason: "sku_conflict", skus: error.skus };
    throw error;
  }
}

/** Archives a product (its SKUs can no longer be added to carts). Null when it does not exist. */
export async function archiveProduct(db: Db, id: string): Promise<Product | null> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(products)
      .set({ status: "archived", version: sql`${products.version} + 1`, updatedAt: new Date() })
      .where(eq(products.id, id))
      .returning();
    if (!row) return null;
    await enqueuePublish(tx as unknown as Db, id, row.version);
    const variants = await tx.select().from(skus).where(eq(skus.productId, id));
    return toProduct(row, variants);
  });
}

async function enqueuePublish(db: Db, productId: string, version: number): Promise<void> {
  await db
    .insert(catalogPublishQueue)
    .values({ productId, version })
    .onConflictDoUpdate({ target: catalogPublishQueue.productId, set: { version, attempts: 0, lastError: null, enqueuedAt: new Date() } });
}

/** A product with its live variants, or null. */
export async function getProduct(db: Db, id: string): Promise<Product | null> {
  const [row] = await db.select().from(products).where(eq(products.id, id));
  if (!row) return null;
  const variants = await db.select().from(skus).where(eq(skus.productId, id));
  return toProduct(row, variants);
}

/** Several products by id (those that exist), with their live variants. */
export async function getProducts(db: Db, ids: string[]): Promise<Product[]> {
  if (ids.length === 0) return [];
  const rows = await db.select().from(products).where(inArray(products.id, ids));
  const variants = await db.select().from(skus).where(inArray(skus.productId, ids));
  return rows.map((row) =>
    toProduct(
      row,
      variants.filter((v) => v.productId === row.id),
    ),
  );
}

/** Active products ordered by id, after `after`, optionally in one category (keyset pagination). */
export async function listActiveProducts(db: Db, options: { limit: number; after?: string; category?: string }): Promise<Product[]> {
  const rows = await db
    .select()
    .from(products)
    .where(
      and(
        eq(products.status, "active"),
        options.after !== undefined ? gt(products.id, options.after) : undefined,
        options.category !== undefined ? eq(products.category, options.category) : undefined,
      ),
    )
    .orderBy(asc(products.id))
    .limit(options.limit);
  if (rows.length === 0) return [];
  const variants = await db
    .select()
    .from(skus)
    .where(
      inArray(
        skus.productId,
        rows.map((r) => r.id),
      ),
    );
  return rows.map((row) =>
    toProduct(
      row,
      variants.filter((v) => v.productId === row.id),
    ),
  );
}

/** What the edge cache needs to know of a product to keep its KV entries right (sync/catalog-cache.ts). */
export interface CatalogState {
  id: string;
  status: "active" | "archived";
  category: string | null;
  version: number;
}

/**
 * The id, status, category and version of every product (or of `ids`), ordered by id: the
 * catalog's state as the KV rebuild and the publishers' confirmation compare it with the edge.
 */
export async function catalogStates(db: Db, ids?: string[]): Promise<CatalogState[]> {
  if (ids !== undefined && ids.length === 0) return [];
  return db
    .select({ id: products.id, status: products.status, category: products.category, version: products.version })
    .from(products)
    .where(ids !== undefined ? inArray(products.id, ids) : undefined)
    .orderBy(asc(products.id));
}

/** How many products wait in the publish outbox after a failed publish (the cron retries them). */
export async function failedPublishCount(db: Db): Promise<number> {
  const [row] = await db.select({ n: count() }).from(catalogPublishQueue).where(gt(catalogPublishQueue.attempts, 0));
  return row?.n ?? 0;
}

/**
 * Pricing of every SKU a product owns — retired ones as archived — for the SKU objects.
 */
export async function skuPricing(db: Db, productId: string): Promise<SkuPricing[]> {
  const [row] = await db.select().from(products).where(eq(products.id, productId));
  if (!row) return [];
  const rows = await db.select().from(skus).where(eq(skus.productId, productId));
  return rows.map((v) => ({
    sku: v.sku,
    product_id: productId,
    title: v.title,
    price: { amount: v.priceAmount, currency: v.currency },
    status: v.retiredAt === null ? row.status : ("archived" as const),
    max_line_quantity: v.maxLineQuantity,
    version: row.version,
    category: row.category,
  }));
}

/** Products whose last change is not yet fully published, oldest first. */
export async function pendingPublishes(db: Db, limit = 50): Promise<Array<{ productId: string; version: number }>> {
  return db
    .select({ productId: catalogPublishQueue.productId, version: catalogPublishQueue.version })
    .from(catalogPublishQueue)
    .orderBy(asc(catalogPublishQueue.enqueuedAt))
    .limit(limit);
}

/** Marks `version` (and anything older) of a product as published. */
export async function markPublished(db: Db, productId: string, version: number): Promise<void> {
  await db.delete(catalogPublishQueue).where(and(eq(catalogPublishQueue.productId, productId), lte(catalogPublishQueue.version, version)));
}

/** Records a failed publish attempt (kept for the next retry). */
export async function markPublishFailed(db: Db, productId: string, error: string): Promise<void> {
  await db
    .update(catalogPublishQueue)
    .set({ attempts: sql`${catalogPublishQueue.attempts} + 1`, lastError: error.slice(0, 500) })
    .where(eq(catalogPublishQueue.productId, productId));
}
