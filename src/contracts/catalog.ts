/**
 * The catalog: products, variants, and the pricing each SKU object holds.
 */
import * as z from "zod";
import { Money, PageQuery, ProductId, Sku, Timestamp } from "./common";

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
      if (seen.has(variant.sku))
        ctx.addIssue({ code: "custom", path: ["variants", index, "sku"], message: "duplicate SKU in this product" });
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
  category: z.string().nullable().optional().describe("The product's category (promotions may target it)"),
});
export type SkuPricing = z.infer<typeof SkuPricing>;
