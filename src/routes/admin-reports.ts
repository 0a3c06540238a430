/**
 * Back-office reports from Postgres: sales per day, top SKUs, low stock. The figures come from
 * the reporting views (src/db/reports.ts, docs/reporting.md).
 */
import { LowStockQuery, LowStockReport, MAX_REPORT_DAYS, SalesReport, SalesReportQuery, TopSkusQuery, TopSkusReport } from "../contracts";
import { withDb } from "../db/client";
import { type DayRange, lowStock, salesByDay, topSkus } from "../db/reports";
import { ApiError } from "../http/problem";
import { defineRoute, json } from "../http/route";

const DAY_MS = 86_400_000;

/** Default report length when `from` is omitted: `to` and the 29 days before it. */
export const DEFAULT_REPORT_DAYS = 30;

function dayNumber(day: string): number {
  return Date.parse(`${day}T00:00:00Z`) / DAY_MS;
}

function dayString(dayNumber: number): string {
  return new Date(dayNumber * DAY_MS).toISOString().slice(0, 10);
}

/**
 * Resolves a report's inclusive day range: `to` defaults to today (UTC), `from` to
 * {@link DEFAULT_REPORT_DAYS} days ending at `to`. `from` after `to`, or more than
 * {@link MAX_REPORT_DAYS} days, is 400 `invalid_request` in the same form as a schema error.
 */
export function reportRange(query: { from?: string | undefined; to?: string | undefined }, now: Date): DayRange {
  const to = query.to ?? now.toISOString().slice(0, 10);
  const from = query.from ?? dayString(dayNumber(to) - (DEFAULT_REPORT_DAYS - 1));
  const days = dayNumber(to) - dayNumber(from) + 1;
  if (days < 1) {
    const detail = query.to === undefined ? "must not be after to (which defaults to today, UTC)" : "must not be after to";
    throw new ApiError(400, "invalid_request", "The request query is invalid.", { errors: [{ path: "query.from", message: detail }] });
  }
  if (days > MAX_REPORT_DAYS) {
    throw new ApiError(400, "invalid_request", "The request query is invalid.", {
      errors: [{ path: "query.to", message: `the range spans ${days} days; at most ${MAX_REPORT_DAYS} are allowed` }],
    });
  }
  return { from, to };
}

const RANGE_400 = "Invalid query: a malformed date, from after to, a range over 366 days, or an unknown parameter";

export const salesReport = defineRoute({
  method: "GET",
  path: "/v1/admin/reports/sales",
  operationId: "salesReport",
  database: true,
  summary: "Paid orders, units and revenue per UTC day of paid_at and currency, from..to inclusive (default: the last 30 days)",
  tag: "admin",
  auth: "admin",
  query: SalesReportQuery,
  responses: {
    200: { description: "One row per day and currency with sales, by day then currency", schema: SalesReport },
    400: { description: RANGE_400 },
    401: { description: "Missing or wrong admin token" },
  },
  async handler({ env, query }) {
    const range = reportRange(query, new Date());
    const data = await withDb(env, (db) => salesByDay(db, range));
    return json({ data });
  },
});

export const topSkusReport = defineRoute({
  method: "GET",
  path: "/v1/admin/reports/top-skus",
  operationId: "topSkusReport",
  database: true,
  summary: "SKUs by units sold in paid orders from..to inclusive (default: the last 30 days); most units first, then revenue, then SKU",
  tag: "admin",
  auth: "admin",
  query: TopSkusQuery,
  responses: {
    200: { description: "Up to `limit` rows, one per SKU and currency", schema: TopSkusReport },
    400: { description: `${RANGE_400}, or a limit outside 1–100` },
    401: { description: "Missing or wrong admin token" },
  },
  async handler({ env, query }) {
    const range = reportRange(query, new Date());
    const data = await withDb(env, (db) => topSkus(db, range, query.limit));
    return json({ data });
  },
});

export const lowStockReport = defineRoute({
  method: "GET",
  path: "/v1/admin/reports/low-stock",
  operationId: "lowStockReport",
  database: true,
  summary: "SKUs of active products with available <= threshold (default 5), lowest first, at most 1,000; SKUs never stocked count as 0",
  tag: "admin",
  auth: "admin",
  query: LowStockQuery,
  responses: {
    200: { description: "SKUs at or below the threshold, by available then SKU", schema: LowStockReport },
    400: { description: "Invalid query: threshold not a whole number >= 0, or an unknown parameter" },
    401: { description: "Missing or wrong admin token" },
  },
  async handler({ env, query }) {
    const data = await withDb(env, (db) => lowStock(db, query.threshold));
    return json({ data });
  },
});
