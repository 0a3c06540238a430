/** Postgres schema: the catalog (system of record) and its publish outbox. Re-exported by db/schema.ts. */
import { sql } from "drizzle-orm";
import { bigint, char, check, index, integer, pgEnum, pgTable, text, timestamp } from "drizzle-orm/pg-core";

export const productStatus = pgEnum("product_status", ["active", "archived"]);

export const products = pgTable(
  "products",
  {
    id: text("id").primaryKey(),
    title: text("title").notNull(),
    description: text("description"),
    category: text("category"),
    status: productStatus("status").notNull().default("active"),
    /** Bumped on every replace; lets caches and SKU objects ignore older publishes. */
    version: integer("version").notNull().default(1),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [index("products_category_id_idx").on(t.category, t.id), index("products_status_id_idx").on(t.status, t.id)],
);

export const skus = pgTable(
  "skus",
  {
    sku: text("sku").primaryKey(),
    productId: text("product_id")
      .notNull()
      .references(() => products.id, { onDelete: "cascade" }),
    title: text("title").notNull(),
    priceAmount: bigint("price_amount", { mode: "number" }).notNull(),
    currency: char("currency", { length: 3 }).notNull(),
    /** Overrides MAX_LINE_QUANTITY for this SKU when set. */
    maxLineQuantity: integer("max_line_quantity"),
    /** Order of the variant within its product. */
    position: integer("position").notNull().default(0),
    /**
     * Set when a replace dropped this variant. The SKU stays owned by its product (its stock and
     * history live on) but is no longer sold; re-adding it to the same product clears this.
     */
    retiredAt: timestamp("retired_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    index("skus_product_id_idx").on(t.productId),
    check("skus_price_non_negative", sql`${t.priceAmount} >= 0`),
    check("skus_max_line_quantity_positive", sql`${t.maxLineQuantity} IS NULL OR ${t.maxLineQuantity} > 0`),
  ],
);

/**
 * Transactional outbox for catalog publishing: written in the same transaction as a product
 * change, deleted once KV and the SKU objects have the version. Whatever is left (a KV error, a
 * Worker that died after the commit) is published again by the cron trigger, so the edge never
 * stays stale.
 */
export const catalogPublishQueue = pgTable("catalog_publish_queue", {
  productId: text("product_id").primaryKey(),
  version: integer("version").notNull(),
  attempts: integer("attempts").notNull().default(0),
  lastError: text("last_error"),
  enqueuedAt: timestamp("enqueued_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});
