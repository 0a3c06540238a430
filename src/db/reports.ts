/**
 * Back-office reports on Postgres. Each report reads one of the reporting views created by
 * migrations/0006_reporting_views.sql (documented in docs/reporting.md), so the API and the BI
 * tools that query those views share one definition of "a day's sales" or "low stock".
 */
import { and, asc, desc, gte, lte, sql } from "drizzle-orm";
import { bigint, date, integer, pgView, text, timestamp } from "drizzle-orm/pg-core";
import type { Db } from "./client";

/*
 * The views, declared for typed queries only: `.existing()` tells drizzle-kit they are managed by
 * the hand-written migration, never generated. Keep the columns in step with that migration.
 */

/** Paid orders per UTC day (of `paid_at`) and currency. */
export const vDailySales = pgView("v_daily_sales", {
  day: date("day", { mode: "string" }).notNull(),
  currency: text("currency").notNull(),
  orders: integer("orders").notNull(),
  units: bigint("units", { mode: "number" }).notNull(),
  revenueAmount: bigint("revenue_amount", { mode: "number" }).notNull(),
}).existing();

/** Paid order lines per UTC day, SKU and currency. */
export const vSkuDailySales = pgView("v_sku_daily_sales", {
  day: date("day", { mode: "string" }).notNull(),
  sku: text("sku").notNull(),
  currency: text("currency").notNull(),
  orders: integer("orders").notNull(),
  units: bigint("units", { mode: "number" }).notNull(),
  revenueAmount: bigint("revenue_amount", { mode: "number" }).notNull(),
}).existing();

/** Stock of every sellable SKU (active product, variant not retired); unreported SKUs count 0. */
export const vSkuStock = pgView("v_sku_stock", {
  sku: text("sku").notNull(),
  productId: text("product_id").notNull(),
  available: integer("available").notNull(),
  onHand: integer("on_hand").notNull(),
  reserved: integer("reserved").notNull(),
  reportedAt: timestamp("reported_at", { withTimezone: true, mode: "date" }),
}).existing();

/** An inclusive range of UTC days, `YYYY-MM-DD`. */
export interface DayRange {
  from: string;
  to: string;
}

/** One row of the sales report. */
export interface SalesRow {
  day: string;
  orders: number;
  units: number;
  revenue: { amount: number; currency: string };
}

/** One row of the top-SKUs report. */
export interface TopSkuRow {
  sku: string;
  units: number;
  revenue: { amount: number; currency: string };
}

/** One row of the low-stock report. */
export interface LowStockRow {
  sku: string;
  available: number;
  on_hand: number;
}

/** The low-stock report never returns more rows than this (docs/api.md). */
export const LOW_STOCK_MAX_ROWS = 1000;

/** Paid orders, units and revenue per UTC day and currency in `range`, by day then currency. */
export async function salesByDay(db: Db, range: DayRange): Promise<SalesRow[]> {
  // A filter on the view's `day` is pushed into the view's grouping and matches the partial
  // expression index orders_paid_day_idx: only the range's orders are read.
  const rows = await db
    .select()
    .from(vDailySales)
    .where(and(gte(vDailySales.day, range.from), lte(vDailySales.day, range.to)))
    .orderBy(asc(vDailySales.day), asc(vDailySales.currency));
  return rows.map((row) => ({
    day: row.day,
    orders: row.orders,
    units: row.units,
    revenue: { amount: row.revenueAmount, currency: row.currency },
  }));
}

/**
 * The SKUs that sold the most units in `range`, one row per SKU and currency: most units first,
 * then most revenue, then by SKU (and currency) so equal rows keep a stable order.
 */
export async function topSkus(db: Db, range: DayRange, limit: number): Promise<TopSkuRow[]> {
  // sum() of bigint is numeric in Postgres (a string on the wire): cast back, map to a number.
  const units = sql<number>`sum(${vSkuDailySales.units})::bigint`.mapWith(Number);
  const revenue = sql<number>`sum(${vSkuDailySales.revenueAmount})::bigint`.mapWith(Number);
  const rows = await db
    .select({ sku: vSkuDailySales.sku, currency: vSkuDailySales.currency, units, revenue })
    .from(vSkuDailySales)
    .where(and(gte(vSkuDailySales.day, range.from), lte(vSkuDailySales.day, range.to)))
    .groupBy(vSkuDailySales.sku, vSkuDailySales.currency)
    .orderBy(desc(units), desc(revenue), asc(vSkuDailySales.sku), asc(vSkuDailySales.currency))
    .limit(limit);
  return rows.map((row) => ({ sku: row.sku, units: row.units, revenue: { amount: row.revenue, currency: row.currency } }));
}

/**
 * Sellable SKUs with at most `threshold` available, lowest first (then by SKU), at most
 * {@link LOW_STOCK_MAX_ROWS}. Stock is what the SKUs' inventory objects last reported.
 */
export async function lowStock(db: Db, threshold: number): Promise<LowStockRow[]> {
  return db
    .select({ sku: vSkuStock.sku, available: vSkuStock.available, on_hand: vSkuStock.onHand })
    .from(vSkuStock)
    .where(lte(vSkuStock.available, threshold))
    .orderBy(asc(vSkuStock.available), asc(vSkuStock.sku))
    .limit(LOW_STOCK_MAX_ROWS);
}
