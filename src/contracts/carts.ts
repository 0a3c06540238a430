/**
 * Carts and their lines.
 */
import * as z from "zod";
import { Currency, Money, ProductId, Sku, Timestamp } from "./common";

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

/**
 * Any safe integer ≥ 0 (zod's int() stops at Number.MAX_SAFE_INTEGER): above the SKU's line limit is 422 `quantity_limit_exceeded` with the
 * limit (decided by the SKU's object, domain/inventory.ts `decideHold`), not a 400; only
 * non-integers, negatives and numbers beyond Number.MAX_SAFE_INTEGER are malformed.
 */
export const SetItemBody = z.strictObject({
  quantity: z
    .number()
    .int()
    .min(0)
    .describe("The line's exact quantity; 0 removes it. Above the SKU's per-line limit: 422 quantity_limit_exceeded"),
});

/** `merged`: the cart was merged into another (`merged_into`) and takes no more writes. */
export const CartStatus = z.enum(["open", "checked_out", "expired", "merged"]);
export type CartStatus = z.infer<typeof CartStatus>;

export const CartLine = z.object({
  sku: Sku,
  product_id: ProductId,
  title: z.string(),
  quantity: z.number().int().positive(),
  unit_price: Money,
  line_total: Money,
  discount: Money.describe("Every promotion's share of this line"),
  tax: Money.describe("The line's tax (contained in line_total − discount when tax_inclusive)"),
});
export type CartLine = z.infer<typeof CartLine>;

/** One promotion as applied to the cart or order. */
export const AppliedDiscount = z.object({
  promotion_id: z.string(),
  code: z.string().nullable().describe("The code, upper case; null for an automatic promotion"),
  amount: Money,
});

/** How the tax in the totals was found. */
export const TaxStatus = z
  .enum(["not_applicable", "pending", "calculated", "unavailable"])
  .describe(
    "not_applicable: TAX_MODE is none; pending: the cart needs a destination (PUT ship-to) or its tax is computed when the cart is read; calculated: tax_total is the tax; unavailable: the tax service failed or was late, tax_total is not the tax and checkout answers 503 tax_unavailable",
  );
export type TaxStatus = z.infer<typeof TaxStatus>;

export const ShipTo = z.object({ country: z.string(), region: z.string().nullable(), postal_code: z.string().nullable() });
export type ShipTo = z.infer<typeof ShipTo>;

export const Cart = z
  .object({
    id: CartId,
    status: CartStatus,
    currency: Currency,
    region: z.literal("eu").nullable(),
    version: z.number().int().positive(),
    items: z.array(CartLine),
    subtotal: Money,
    discounts: z.array(AppliedDiscount).describe("The promotions that apply, in the order they were applied"),
    promotion_codes: z
      .array(
        z.object({
          code: z.string(),
          applied: z.boolean(),
          reason: z
            .enum(["not_active", "does_not_match_cart", "usage_limit_reached", "not_combinable"])
            .nullable()
            .describe("Why the code does not apply now (null when it does)"),
        }),
      )
      .describe("The codes entered on this cart"),
    discount_total: Money,
    tax_total: Money,
    tax_inclusive: z.boolean().describe("Whether tax_total is contained in the prices rather than added to them"),
    tax_status: TaxStatus,
    total: Money.describe("subtotal − discount_total, plus tax_total unless tax_inclusive: what checkout charges"),
    ship_to: ShipTo.nullable(),
    expires_at: Timestamp,
    created_at: Timestamp,
    order_id: z.string().nullable(),
    merged_into: z.string().nullable().describe("The cart this one was merged into (status merged)"),
  })
  .meta({ id: "Cart" });
export type Cart = z.infer<typeof Cart>;

export const CreatedCart = Cart.extend({ token: z.string().describe("The cart's secret bearer token, shown only here") });

/** `POST /v1/carts/{cart_id}/merge` body: the cart to fold in, by its token; holding both tokens is the authorisation. */
export const MergeBody = z.strictObject({
  source_token: z.string().min(1).max(512).describe("The token of the cart to merge in (e.g. the guest cart)"),
  mode: z
    .enum(["merge", "replace"])
    .default("merge")
    .describe("merge: a SKU in both carts keeps the larger quantity (never the sum); replace: this cart's lines become the source's"),
  source_cart_id: CartId.optional().describe("The source cart's id; needed only for tokens issued before tokens named their cart"),
});
export type MergeBody = z.infer<typeof MergeBody>;

export const MergeReportEntry = z.object({
  sku: z.string(),
  outcome: z
    .enum(["merged", "reduced", "dropped"])
    .describe("merged: the line has what the rule asked; reduced: fewer units, at least one; dropped: none"),
  requested: z.number().int().min(0),
  quantity: z.number().int().min(0),
  reason: z
    .enum(["line_limit", "insufficient_stock", "client_hold_limit", "unavailable"])
    .optional()
    .describe("Why fewer units than asked"),
});

/** The merged cart, with what became of each SKU of the source. */
export const MergedCart = Cart.extend({ merge_report: z.array(MergeReportEntry) }).meta({ id: "MergedCart" });
