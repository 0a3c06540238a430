/**
 * Promotions (discount codes and automatic promotions), tax settings and a cart's destination.
 * The definition's rules are in domain/promotion.ts and domain/pricing.ts.
 */
import { z } from "zod";
import { Category } from "./catalog";
import { Currency, Identifier, ProductId, Sku, Timestamp } from "./common";

/** Promotion ids: 1–64 chars of `A-Z a-z 0-9 . _ -`. */
export const PromotionId = Identifier.describe("Promotion id, 1–64 chars of A-Z a-z 0-9 . _ -");
export const PromotionParams = z.strictObject({ promotion_id: PromotionId });

/** A code a shopper types: 1–40 chars of A-Z a-z 0-9 _ -, compared case-insensitively. */
export const PromotionCode = z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, "must be 1–40 characters of A-Z a-z 0-9 _ -");

const amountsByCurrency = z.record(Currency, z.number().int().min(0).max(Number.MAX_SAFE_INTEGER));

export const PromotionValue = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("percent"), basis_points: z.number().int().min(1).max(10_000).describe("1 bp = 0.01 %") }),
  z.strictObject({ kind: z.literal("fixed"), amounts: amountsByCurrency.describe("Minor units per currency; a cart in another currency does not match") }),
]);

export const PromotionTarget = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("order") }),
  z.strictObject({ kind: z.literal("skus"), skus: z.array(Sku).min(1).max(500) }),
  z.strictObject({ kind: z.literal("products"), product_ids: z.array(ProductId).min(1).max(500) }),
  z.strictObject({ kind: z.literal("categories"), categories: z.array(Category).min(1).max(100) }),
]);

/** `PUT /v1/admin/promotions/{promotion_id}` body. A promotion's code cannot change once it has one. */
export const PromotionInput = z
  .strictObject({
    code: PromotionCode.nullable().default(null).describe("The code shoppers enter; null for an automatic promotion"),
    starts_at: Timestamp.nullable().default(null).describe("Active from (inclusive); null: now"),
    ends_at: Timestamp.nullable().default(null).describe("Active until (exclusive); null: open-ended"),
    value: PromotionValue,
    target: PromotionTarget.default({ kind: "order" }),
    allocation: z.enum(["across", "each"]).default("across").describe("Line targets: once across the targeted lines, or off each unit"),
    conditions: z
      .strictObject({ min_subtotal: amountsByCurrency.optional(), min_quantity: z.number().int().min(1).max(1_000_000).optional() })
      .default({}),
    usage_limit: z.number().int().min(1).max(100_000_000).nullable().default(null).describe("How many orders may redeem it; null: no limit"),
    combinable: z.boolean().default(true),
    priority: z.number().int().min(-1000).max(1000).default(0),
    status: z.enum(["active", "archived"]).default("active"),
  })
  .superRefine((input, ctx) => {
    if (input.starts_at !== null && Number.isNaN(Date.parse(input.starts_at))) ctx.addIssue({ code: "custom", path: ["starts_at"], message: "must be an RFC 3339 time" });
    if (input.ends_at !== null && Number.isNaN(Date.parse(input.ends_at))) ctx.addIssue({ code: "custom", path: ["ends_at"], message: "must be an RFC 3339 time" });
    if (input.starts_at !== null && input.ends_at !== null && Date.parse(input.ends_at) <= Date.parse(input.starts_at)) {
      ctx.addIssue({ code: "custom", path: ["ends_at"], message: "must be after starts_at" });
    }
  });
export type PromotionInput = z.infer<typeof PromotionInput>;

/** A promotion as the back office reads it. */
export const PromotionView = z
  .object({
    id: PromotionId,
    code: z.string().nullable(),
    starts_at: Timestamp.nullable(),
    ends_at: Timestamp.nullable(),
    value: PromotionValue,
    target: PromotionTarget,
    allocation: z.enum(["across", "each"]),
    conditions: z.object({ min_subtotal: amountsByCurrency.optional(), min_quantity: z.number().int().optional() }),
    usage_limit: z.number().int().nullable(),
    combinable: z.boolean(),
    priority: z.number().int(),
    status: z.enum(["active", "archived"]),
    version: z.number().int().positive(),
    redemptions: z.object({ held: z.number().int().min(0), committed: z.number().int().min(0) }).describe("From the promotion's object: redemptions held by carts and orders, and paid").optional(),
    updated_at: Timestamp,
  })
  .meta({ id: "Promotion" });
export type PromotionView = z.infer<typeof PromotionView>;

export const PromotionCodeParams = z.strictObject({ cart_id: z.string().regex(/^[0-9a-f]{64}$/, "must be a cart id"), code: PromotionCode });

/** `PUT /v1/carts/{cart_id}/ship-to` body: where the goods go (tax follows it). */
export const ShipToBody = z.strictObject({
  country: z.string().regex(/^[A-Z]{2}$/, "must be an ISO 3166-1 alpha-2 code such as DE"),
  region: z.string().min(1).max(64).optional(),
  postal_code: z.string().min(1).max(20).optional(),
});
export type ShipToBody = z.infer<typeof ShipToBody>;

/** A country's tax rate (`TAX_MODE=rates`). */
export const TaxRateInput = z.strictObject({
  basis_points: z.number().int().min(0).max(10_000).describe("The rate, 1 bp = 0.01 % (e.g. 1900 for 19 %)"),
  inclusive: z.boolean().describe("Whether prices include this tax (it is then contained in them, not added)"),
});
export const TaxRate = TaxRateInput.extend({ country: z.string().length(2), updated_at: Timestamp }).meta({ id: "TaxRate" });
export const CountryParams = z.strictObject({ country: z.string().regex(/^[A-Z]{2}$/, "must be an ISO 3166-1 alpha-2 code such as DE") });
