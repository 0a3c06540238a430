/** Postgres schema: promotions and tax rates, published to the edge. Re-exported by db/schema.ts. */
import { sql } from "drizzle-orm";
import { boolean, char, check, index, integer, jsonb, pgEnum, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

export const promotionStatus = pgEnum("promotion_status", ["active", "archived"]);

/** What a promotion takes off and from what (`definition`): the parts carts price with, as the admin API took them. */
export interface PromotionDefinition {
  value: { kind: "percent"; basis_points: number } | { kind: "fixed"; amounts: Record<string, number> };
  target:
    | { kind: "order" }
    | { kind: "skus"; skus: string[] }
    | { kind: "products"; product_ids: string[] }
    | { kind: "categories"; categories: string[] };
  allocation: "across" | "each";
  conditions: { min_subtotal?: Record<string, number>; min_quantity?: number };
}

/**
 * Promotions (discount codes and automatic promotions): the system of record. Every change bumps
 * `version`; the edge (the promotion's PromotionObject, and for automatic ones the KV list) is
 * confirmed at `published_version`, and the minute cron republishes any row where it is behind.
 * A code is stored upper case and never changes once set, nor does its absence: the object that
 * counts a code's redemptions is named by it. Deleting keeps the row (`deleted_at`), so a deleted
 * promotion's code stays taken and its object keeps counting under the same versions.
 */
export const promotions = pgTable(
  "promotions",
  {
    id: text("id").primaryKey(),
    code: text("code"),
    definition: jsonb("definition").$type<PromotionDefinition>().notNull(),
    startsAt: timestamp("starts_at", { withTimezone: true, mode: "date" }),
    endsAt: timestamp("ends_at", { withTimezone: true, mode: "date" }),
    usageLimit: integer("usage_limit"),
    combinable: boolean("combinable").notNull().default(true),
    priority: integer("priority").notNull().default(0),
    status: promotionStatus("status").notNull().default("active"),
    version: integer("version").notNull().default(1),
    publishedVersion: integer("published_version").notNull().default(0),
    deletedAt: timestamp("deleted_at", { withTimezone: true, mode: "date" }),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("promotions_code_idx").on(t.code),
    // The cron's look for what the edge lacks.
    index("promotions_unpublished_idx").on(t.id).where(sql`${t.publishedVersion} < ${t.version}`),
    check("promotions_code_normalized", sql`${t.code} IS NULL OR ${t.code} = upper(${t.code})`),
    check("promotions_window", sql`${t.startsAt} IS NULL OR ${t.endsAt} IS NULL OR ${t.endsAt} > ${t.startsAt}`),
    check("promotions_usage_limit_positive", sql`${t.usageLimit} IS NULL OR ${t.usageLimit} > 0`),
  ],
);

/**
 * Tax rates per destination country (TAX_MODE=rates), published to the edge as one KV value (the
 * whole table). `version` is bumped by every change of a country's rate; `published_version` is
 * the version the edge's table was last confirmed to hold. A deleted rate's row is removed (the
 * edge table is rewritten whole by the delete and by the minute cron).
 */
export const taxRates = pgTable(
  "tax_rates",
  {
    country: char("country", { length: 2 }).primaryKey(),
    basisPoints: integer("basis_points").notNull(),
    inclusive: boolean("inclusive").notNull(),
    version: integer("version").notNull().default(1),
    publishedVersion: integer("published_version").notNull().default(0),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    check("tax_rates_basis_points_range", sql`${t.basisPoints} BETWEEN 0 AND 10000`),
    check("tax_rates_country_upper", sql`${t.country} ~ '^[A-Z]{2}$'`),
  ],
);
