/**
 * The zod schemas at every boundary: request bodies, params and queries, responses (for the
 * OpenAPI document), KV entries and queue messages. Types are derived with z.infer.
 */
import { z } from "zod";

/** Product ids and SKUs: 1–64 chars of `A-Z a-z 0-9 . _ -` (docs/api.md). */
export const Identifier = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1–64 characters of A-Z a-z 0-9 . _ -");
export const Sku = Identifier.describe("Stock keeping unit, 1–64 chars of A-Z a-z 0-9 . _ -");
export const ProductId = Identifier.describe("Product id, 1–64 chars of A-Z a-z 0-9 . _ -");

/** ISO 4217 alphabetic currency code. */
export const Currency = z.string().regex(/^[A-Z]{3}$/, "must be an ISO 4217 code such as USD");

/** Money: an integer in minor units plus its currency. Never a float. */
export const Money = z.strictObject({
  amount: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  currency: Currency,
});
export type Money = z.infer<typeof Money>;

/** RFC 3339 UTC timestamp string. */
export const Timestamp = z.string().describe("RFC 3339 timestamp in UTC");

/** RFC 9457 problem document as edgecart sends it. */
export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    request_id: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: "Problem" });

/** Cursor pagination query: `?limit=` 1–100 (default 20) and an opaque `?cursor=`. */
export const PageQuery = {
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(512).optional(),
};

export const HealthQuery = z.strictObject({
  deep: z.enum(["0", "1", "true", "false"]).optional().describe("1 also runs a query against Postgres"),
});

export const HealthResponse = z.object({
  status: z.literal("ok"),
  database: z.object({ status: z.literal("ok"), latency_ms: z.number() }).optional(),
});

// ---- Inventory ----

export const SkuParams = z.strictObject({ sku: Sku });

export const Hold = z.object({
  hold_id: z.string(),
  owner_id: z.string(),
  quantity: z.number().int().positive(),
  expires_at: Timestamp,
});
export type Hold = z.infer<typeof Hold>;

/** What every inventory answer reports. `available = on_hand − reserved`, never negative. */
export const StockLevels = z.object({
  on_hand: z.number().int().min(0),
  reserved: z.number().int().min(0),
  available: z.number().int().min(0),
});
export type StockLevels = z.infer<typeof StockLevels>;

/** Holds listed in a snapshot at most (a flash sale can have thousands). */
export const MAX_LISTED_HOLDS = 500;

export const InventorySnapshot = z
  .object({
    sku: Sku,
    ...StockLevels.shape,
    holds: z.array(Hold).describe(`Live holds, earliest expiry first, at most ${MAX_LISTED_HOLDS}`),
    holds_total: z.number().int().min(0).describe("Number of live holds (holds lists at most 500 of them)"),
  })
  .meta({ id: "InventorySnapshot" });
export type InventorySnapshot = z.infer<typeof InventorySnapshot>;

/**
 * A SKU's stock levels as its InventoryObject reports them to Postgres (queue
 * `edgecart-inventory`). State, not a delta: reports coalesce and the newest `ledger_seq` wins.
 */
export const InventoryLevelV1 = z.object({
  type: z.literal("inventory.level"),
  version: z.literal(1),
  sku: z.string().min(1).max(64),
  on_hand: z.number().int().min(0),
  reserved: z.number().int().min(0),
  available: z.number().int().min(0),
  sold: z.number().int().min(0),
  ledger_seq: z.number().int().min(0),
  reported_at: z.string(),
});
export type InventoryLevelV1 = z.infer<typeof InventoryLevelV1>;

export const Availability = z.object({ sku: Sku, available: z.number().int().min(0) });

/** Largest stock a SKU may hold; keeps every sum far inside safe integers. */
export const MAX_ON_HAND = 1_000_000_000;

export const SetOnHandBody = z.strictObject({
  on_hand: z.number().int().min(0).max(MAX_ON_HAND),
});

export const AdjustmentBody = z.strictObject({
  delta: z
    .number()
    .int()
    .min(-MAX_ON_HAND)
    .max(MAX_ON_HAND)
    .refine((d) => d !== 0, "must not be 0"),
  reason: z.string().trim().min(1).max(200),
});

// ---- Catalog ----

export const ProductStatus = z.enum(["active", "archived"]);
export const Category = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, "must be 1–64 chars of a-z 0-9 -");

/** Per-line quantity limit (overrides MAX_LINE_QUANTITY for a SKU). */
export const LineLimit = z.number().int().min(1).max(1000);

export const VariantInput = z.strictObject({
  sku: Sku,
  title: z.string().trim().min(1).max(200),
  price: Money,
  max_line_quantity: LineLimit.optional(),
});

/** `PUT /v1/admin/products/{product_id}` body: a Product without `id` and `updated_at`. */
export const ProductInput = z
  .strictObject({
    title: z.string().trim().min(1).max(200),
    description: z.string().max(5000).optional(),
    category: Category.optional(),
    status: ProductStatus,
    variants: z.array(VariantInput).min(1).max(100),
  })
  .superRefine((product, ctx) => {
    const seen = new Set<string>();
    product.variants.forEach((variant, index) => {
      if (seen.has(variant.sku)) ctx.addIssue({ code: "custom", path: ["variants", index, "sku"], message: "duplicate SKU in this product" });
      seen.add(variant.sku);
    });
  });
export type ProductInput = z.infer<typeof ProductInput>;

export const Variant = z.object({
  sku: Sku,
  title: z.string(),
  price: Money,
  max_line_quantity: z.number().int().optional(),
});

/** A product as storefronts see it, and as it is cached in KV (`product:{id}`). */
export const Product = z
  .object({
    id: ProductId,
    title: z.string(),
    description: z.string().nullable(),
    category: z.string().nullable(),
    status: ProductStatus,
    variants: z.array(Variant),
    version: z.number().int().positive(),
    updated_at: Timestamp,
  })
  .meta({ id: "Product" });
export type Product = z.infer<typeof Product>;

export const ProductParams = z.strictObject({ product_id: ProductId });

export const ProductListQuery = z.strictObject({ ...PageQuery, category: Category.optional() });

export const ProductPage = z.object({ data: z.array(Product), next_cursor: z.string().nullable() });

/**
 * What a SKU's inventory object knows of its catalog entry, pushed on every publish. Checkout
 * charges this price; it is the authoritative one at the edge.
 */
export const SkuPricing = z.object({
  sku: Sku,
  product_id: ProductId,
  title: z.string(),
  price: Money,
  status: ProductStatus,
  max_line_quantity: z.number().int().positive().nullable(),
  version: z.number().int().positive(),
});
export type SkuPricing = z.infer<typeof SkuPricing>;

// ---- Carts ----

/** Cart ids are the cart object's id: 64 lowercase hex characters. */
export const CartId = z.string().regex(/^[0-9a-f]{64}$/, "must be a cart id");
export const CartParams = z.strictObject({ cart_id: CartId });
export const CartItemParams = z.strictObject({ cart_id: CartId, sku: Sku });

export const CreateCartBody = z
  .strictObject({
    currency: Currency.default("USD"),
    region: z.literal("eu").optional().describe('"eu" keeps the cart\'s state in the EU jurisdiction'),
  })
  .optional()
  .transform((body) => body ?? { currency: "USD" });

export const SetItemBody = z.strictObject({
  quantity: z.number().int().min(0).max(1000),
});

export const CartStatus = z.enum(["open", "checked_out", "expired"]);
export type CartStatus = z.infer<typeof CartStatus>;

export const CartLine = z.object({
  sku: Sku,
  product_id: ProductId,
  title: z.string(),
  quantity: z.number().int().positive(),
  unit_price: Money,
  line_total: Money,
});
export type CartLine = z.infer<typeof CartLine>;

export const Cart = z
  .object({
    id: CartId,
    status: CartStatus,
    currency: Currency,
    region: z.literal("eu").nullable(),
    version: z.number().int().positive(),
    items: z.array(CartLine),
    subtotal: Money,
    expires_at: Timestamp,
    created_at: Timestamp,
    order_id: z.string().nullable(),
  })
  .meta({ id: "Cart" });
export type Cart = z.infer<typeof Cart>;

export const CreatedCart = Cart.extend({ token: z.string().describe("The cart's secret bearer token, shown only here") });

// ---- Orders and payments ----

export const OrderStatus = z.enum(["pending_payment", "paid", "cancelled", "expired"]);
export type OrderStatus = z.infer<typeof OrderStatus>;

/** Order ids name the cart they were placed from: `ord_` + the cart id. */
export const OrderId = z.string().regex(/^ord_[0-9a-f]{64}$/, "must be an order id");
export const OrderParams = z.strictObject({ order_id: OrderId });

export const CheckoutBody = z.strictObject({
  email: z.email().max(254),
});

/** An order line has the shape of the cart line it was placed from. */
export const OrderLine = CartLine;

export const Order = z
  .object({
    id: OrderId,
    cart_id: CartId,
    status: OrderStatus,
    email: z.string(),
    lines: z.array(OrderLine),
    total: Money,
    payment_expires_at: Timestamp,
    created_at: Timestamp,
    paid_at: Timestamp.nullable(),
  })
  .meta({ id: "Order" });
export type Order = z.infer<typeof Order>;

/**
 * Payment webhook body (Standard Webhooks). Providers add fields, so unknown keys are ignored
 * here — the one exception to strict bodies.
 */
export const PaymentEvent = z.object({
  type: z.string().min(1).max(100),
  data: z.unknown().optional(),
});
export const PaymentData = z.object({
  order_id: z.string().min(1).max(200),
  amount: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  currency: Currency,
  payment_id: z.string().min(1).max(200),
});

/**
 * The archival message for a paid order, sent from the cart object's outbox to ORDERS_QUEUE.
 * Versioned: consumers accept the versions they know and dead-letter the rest.
 */
export const OrderArchivedV1 = z.object({
  type: z.literal("order.paid"),
  version: z.literal(1),
  order: z.object({
    id: OrderId,
    cart_id: CartId,
    email: z.string(),
    status: z.literal("paid"),
    total: Money,
    payment_id: z.string(),
    created_at: Timestamp,
    paid_at: Timestamp,
    payment_expires_at: Timestamp,
    lines: z.array(CartLine).min(1),
  }),
});
export type OrderArchivedV1 = z.infer<typeof OrderArchivedV1>;

// ---- Back office: the order archive and reports (from Postgres) ----

/** `GET /v1/admin/orders` query. */
export const AdminOrderListQuery = z.strictObject({
  ...PageQuery,
  status: OrderStatus.optional().describe("Only orders in this status (only paid orders are archived today)"),
});

export const OrderPage = z.object({ data: z.array(Order), next_cursor: z.string().nullable() }).meta({ id: "OrderPage" });

/** A UTC calendar day, `YYYY-MM-DD`: a real date (no 2031-02-30), from 1970 on. */
export const Day = z.iso.date("must be a date YYYY-MM-DD").refine((day) => day >= "1970-01-01", "must be 1970-01-01 or later");

/** The longest report range, from `from` to `to` inclusive (a leap year). */
export const MAX_REPORT_DAYS = 366;

const ReportRange = {
  from: Day.optional().describe("First UTC day of paid_at, inclusive (YYYY-MM-DD). Default: 29 days before `to`, so 30 days in all."),
  to: Day.optional().describe(`Last UTC day of paid_at, inclusive (YYYY-MM-DD). Default: today (UTC). Not before \`from\`; at most ${MAX_REPORT_DAYS} days from \`from\` to \`to\`.`),
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
