/**
 * The back office: the order archive list and the reports (from Postgres).
 */
import * as z from "zod";
import { CartId } from "./carts";
import { Money, PageQuery, Sku } from "./common";
import { MAX_ON_HAND } from "./inventory";
import { Order, OrderId, OrderStatus, RefundReason } from "./orders";

/** `GET /v1/admin/orders` query. */
export const AdminOrderListQuery = z.strictObject({
  ...PageQuery,
  status: OrderStatus.optional().describe("Only orders in this status (paid and paid_unfulfillable orders are archived)"),
});

export const OrderPage = z.object({ data: z.array(Order), next_cursor: z.string().nullable() }).meta({ id: "OrderPage" });

/** A UTC calendar day, `YYYY-MM-DD`: a real date (no 2031-02-30), from 1970 on. */
export const Day = z.iso.date("must be a date YYYY-MM-DD").refine((day) => day >= "1970-01-01", "must be 1970-01-01 or later");

/** The longest report range, from `from` to `to` inclusive (a leap year). */
export const MAX_REPORT_DAYS = 366;

const ReportRange = {
  from: Day.optional().describe("First UTC day of paid_at, inclusive (YYYY-MM-DD). Default: 29 days before `to`, so 30 days in all."),
  to: Day.optional().describe(
    `Last UTC day of paid_at, inclusive (YYYY-MM-DD). Default: today (UTC). Not before \`from\`; at most ${MAX_REPORT_DAYS} days from \`from\` to \`to\`.`,
  ),
};

/** `GET /v1/admin/reports/sales` query. */
export const SalesReportQuery = z.strictObject(ReportRange);

/** `GET /v1/admin/reports/top-skus` query. */
export const TopSkusQuery = z.strictObject({ ...ReportRange, limit: PageQuery.limit });

/** `GET /v1/admin/reports/low-stock` query. */
export const LowStockQuery = z.strictObject({
  threshold: z.coerce.number().int().min(0).max(MAX_ON_HAND).default(5).describe("SKUs with at most this many available"),
});

const Count = z.number().int().min(0);

export const SalesReport = z
  .object({
    data: z.array(
      z.object({
        day: z.iso.date().describe("UTC day of paid_at"),
        orders: Count.describe("Paid orders"),
        units: Count.describe("Units in those orders"),
        revenue: Money.describe("Sum of those orders' totals"),
      }),
    ),
  })
  .meta({ id: "SalesReport" });

export const TopSkusReport = z
  .object({
    data: z.array(
      z.object({
        sku: Sku,
        units: Count.describe("Units sold in paid orders"),
        revenue: Money.describe("Sum of those lines' totals; a SKU sold in two currencies has a row for each"),
      }),
    ),
  })
  .meta({ id: "TopSkusReport" });

export const LowStockReport = z
  .object({
    data: z.array(
      z.object({
        sku: Sku,
        available: Count.describe("on_hand minus reserved, as the SKU's inventory object last reported it; 0 when it never did"),
        on_hand: Count,
      }),
    ),
  })
  .meta({ id: "LowStockReport" });

/** How far back `GET /v1/admin/orders/unarchived` looks by default, in UTC days of payment. */
export const UNARCHIVED_DEFAULT_DAYS = 30;

/** `GET /v1/admin/orders/unarchived` query. */
export const UnarchivedOrdersQuery = z.strictObject({
  ...PageQuery,
  from: Day.optional().describe(
    `First UTC day of payment to look at (YYYY-MM-DD), at most ${MAX_REPORT_DAYS} days before today. Default: ${UNARCHIVED_DEFAULT_DAYS} days before today.`,
  ),
});

/** Paid orders Postgres has not confirmed yet, oldest first. */
export const UnarchivedOrderPage = z
  .object({
    data: z.array(
      z.object({
        id: OrderId,
        cart_id: CartId,
        status: OrderStatus,
        paid_at: z.string(),
        total: Money,
      }),
    ),
    next_cursor: z.string().nullable(),
  })
  .meta({ id: "UnarchivedOrderPage" });

/** `GET /v1/admin/refunds` query. */
export const RefundListQuery = z.strictObject({ ...PageQuery });

/** Refunds due, newest first. */
export const RefundPage = z
  .object({
    data: z.array(
      z.object({
        order_id: OrderId,
        payment_id: z.string(),
        amount: Money,
        reason: RefundReason,
        recorded_at: z.string(),
        refunded_at: z.string().nullable(),
      }),
    ),
    next_cursor: z.string().nullable(),
  })
  .meta({ id: "RefundPage" });
