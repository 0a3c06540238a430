-- Reporting views for BI tools and for the back-office report endpoints (src/db/reports.ts reads
-- them, so what a dashboard shows and what the API answers share one definition).
-- docs/reporting.md documents every column. Days are UTC calendar days of `paid_at`; money is
-- integer minor units beside its currency; only paid orders count.
-- The day expression `(paid_at AT TIME ZONE 'UTC')::date` and the predicate `status = 'paid'` are
-- exactly those of the partial index orders_paid_day_idx: a filter on `day` is an index range.

-- One row per line of a paid order, with its order's payment time and UTC day.
CREATE VIEW "v_paid_order_lines" AS
SELECT
  (o."paid_at" AT TIME ZONE 'UTC')::date AS "day",
  o."paid_at",
  o."id" AS "order_id",
  l."position",
  l."sku",
  -- Lines archived before product_id/title existed fall back to the SKU's current product.
  coalesce(l."product_id", s."product_id") AS "product_id",
  coalesce(l."title", s."title") AS "title",
  l."quantity",
  l."unit_amount",
  l."line_amount",
  l."currency"::text AS "currency"
FROM "orders" AS o
JOIN "order_lines" AS l ON l."order_id" = o."id"
LEFT JOIN "skus" AS s ON s."sku" = l."sku"
WHERE o."status" = 'paid' AND o."paid_at" IS NOT NULL;
--> statement-breakpoint

-- Sales per UTC day and currency: paid orders, units sold, revenue (the orders' totals).
CREATE VIEW "v_daily_sales" AS
SELECT
  (o."paid_at" AT TIME ZONE 'UTC')::date AS "day",
  o."currency"::text AS "currency",
  count(*)::integer AS "orders",
  coalesce(sum(u."units"), 0)::bigint AS "units",
  sum(o."total_amount")::bigint AS "revenue_amount"
FROM "orders" AS o
CROSS JOIN LATERAL (SELECT sum(l."quantity") AS "units" FROM "order_lines" AS l WHERE l."order_id" = o."id") AS u
WHERE o."status" = 'paid' AND o."paid_at" IS NOT NULL
GROUP BY 1, 2;
--> statement-breakpoint

-- Sales per UTC day, SKU and currency: orders containing the SKU, units, revenue (line totals).
CREATE VIEW "v_sku_daily_sales" AS
SELECT
  (o."paid_at" AT TIME ZONE 'UTC')::date AS "day",
  l."sku",
  l."currency"::text AS "currency",
  count(*)::integer AS "orders",
  sum(l."quantity")::bigint AS "units",
  sum(l."line_amount")::bigint AS "revenue_amount"
FROM "orders" AS o
JOIN "order_lines" AS l ON l."order_id" = o."id"
WHERE o."status" = 'paid' AND o."paid_at" IS NOT NULL
GROUP BY 1, 2, 3;
--> statement-breakpoint

-- All-time sales per SKU and currency, with the first and last UTC day it sold.
CREATE VIEW "v_sku_sales" AS
SELECT
  "sku",
  "currency",
  sum("orders")::integer AS "orders",
  sum("units")::bigint AS "units",
  sum("revenue_amount")::bigint AS "revenue_amount",
  min("day") AS "first_day",
  max("day") AS "last_day"
FROM "v_sku_daily_sales"
GROUP BY "sku", "currency";
--> statement-breakpoint

-- Stock of every sellable SKU (active product, variant not retired) as its inventory object last
-- reported it to inventory_levels; a SKU never reported counts as 0 on hand, 0 available.
CREATE VIEW "v_sku_stock" AS
SELECT
  s."sku",
  s."product_id",
  coalesce(il."available", 0) AS "available",
  coalesce(il."on_hand", 0) AS "on_hand",
  coalesce(il."reserved", 0) AS "reserved",
  il."reported_at"
FROM "skus" AS s
JOIN "products" AS p ON p."id" = s."product_id"
LEFT JOIN "inventory_levels" AS il ON il."sku" = s."sku"
WHERE p."status" = 'active' AND s."retired_at" IS NULL;
--> statement-breakpoint

-- Sellable SKUs at or below the API's default low-stock threshold (5), lowest first. For another
-- threshold, query v_sku_stock (as GET /v1/admin/reports/low-stock does).
CREATE VIEW "v_low_stock" AS
SELECT "sku", "product_id", "available", "on_hand", "reserved", "reported_at"
FROM "v_sku_stock"
WHERE "available" <= 5
ORDER BY "available", "sku";
