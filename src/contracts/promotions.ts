/**
 * Promotions (discount codes and automatic promotions), tax settings and a cart's destination.
 * The definition's rules are in domain/promotion.ts and domain/pricing.ts.
 */
import * as z from "zod";
import { Category } from "./catalog";
import { Currency, Identifier, PageQuery, ProductId, Sku, Timestamp } from "./common";

/** Promotion ids: 1–64 chars of `A-Z a-z 0-9 . _ -`. */
export const PromotionId = Identifier.describe("Promotion id, 1–64 chars of A-Z a-z 0-9 . _ -");
export const PromotionParams = z.strictObject({ promotion_id: PromotionId });

/** A code a shopper types: 1–40 chars of A-Z a-z 0-9 _ -, compared case-insensitively. */
export const PromotionCode = z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, "must be 1–40 characters of A-Z a-z 0-9 _ -");

const amountsByCurrency = z.record(Currency, z.number().int().min(0).max(Number.MAX_SAFE_INTEGER));
/** At least one currency: a map with none would make the promotion match no cart at all. */
const someAmounts = amountsByCurrency.refine((amounts) => Object.keys(amounts).length > 0, "must name at least one currency");

/** A promotion's window edge: RFC 3339 with a UTC offset, from 1970 on (stored to the millisecond). */
const Instant = z.iso
  .datetime({ offset: true })
  .refine((text) => Date.parse(text) >= 0, "must be 1970-01-01T00:00:00Z or later")
  .describe("RFC 3339 timestamp (any UTC offset), from 1970 on");

export const PromotionValue = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("percent"), basis_points: z.number().int().min(1).max(10_000).describe("1 bp = 0.01 %") }),
  z.strictObject({
    kind: z.literal("fixed"),
    amounts: someAmounts.describe("Minor units per currency; a cart in another currency does not match"),
  }),
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
    starts_at: Instant.nullable().default(null).describe("Active from (inclusive); null: now"),
    ends_at: Instant.nullable().default(null).describe("Active until (exclusive); null: open-ended"),
    value: PromotionValue,
    target: PromotionTarget.default({ kind: "order" }),
    allocation: z.enum(["across", "each"]).default("across").describe("Line targets: once across the targeted lines, or off each unit"),
    conditions: z
      .strictObject({
        min_subtotal: someAmounts.optional().describe("Minor units per currency; a cart in a currency it does not name does not match"),
        min_quantity: z.number().int().min(1).max(1_000_000).optional(),
      })
      .default({}),
    usage_limit: z
      .number()
      .int()
      .min(1)
      .max(100_000_000)
      .nullable()
      .default(null)
      .describe("How many orders may redeem it; null: no limit"),
    combinable: z.boolean().default(true),
    priority: z.number().int().min(-1000).max(1000).default(0),
    status: z.enum(["active", "archived"]).default("active"),
  })
  .superRefine((input, ctx) => {
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
    version: z.number().int().positive().describe("Bumped by every change (PUT, DELETE)"),
    published_version: z
      .number()
      .int()
      .min(0)
      .describe(
        "The version the edge (the promotion's object, and the automatic list) was last confirmed to have; below `version` until a publish succeeds",
      ),
    redemptions: z
      .object({ held: z.number().int().min(0), committed: z.number().int().min(0) })
      .describe("From the promotion's object: redemptions held by carts and orders, and paid")
      .optional(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .meta({ id: "Promotion" });
export type PromotionView = z.infer<typeof PromotionView>;

/** `GET /v1/admin/promotions` query. */
export const PromotionListQuery = z.strictObject({
  ...PageQuery,
  status: z.enum(["active", "archived"]).optional().describe("Only promotions in this status (default: both)"),
  code: PromotionCode.optional().describe("Only the promotion with this code (case-insensitive)"),
});

export const PromotionPage = z.object({ data: z.array(PromotionView), next_cursor: z.string().nullable() }).meta({ id: "PromotionPage" });

export const PromotionCodeParams = z.strictObject({
  cart_id: z.string().regex(/^[0-9a-f]{64}$/, "must be a cart id"),
  code: PromotionCode,
});

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
export const TaxRate = TaxRateInput.extend({
  country: z.string().length(2),
  version: z.number().int().positive().describe("Bumped by every change of this country's rate"),
  published_version: z.number().int().min(0).describe("The version the edge's tax table was last confirmed to have"),
  updated_at: Timestamp,
}).meta({ id: "TaxRate" });
export type TaxRate = z.infer<typeof TaxRate>;
export const CountryParams = z.strictObject({ country: z.string().regex(/^[A-Z]{2}$/, "must be an ISO 3166-1 alpha-2 code such as DE") });

/** `GET /v1/admin/tax-rates`: every country's rate, by country (at most 676: two letters). */
export const TaxRateList = z.object({ data: z.array(TaxRate) }).meta({ id: "TaxRateList" });

/** How carts are taxed (the `TAX_MODE` var): not at all, by the published rates, or by the external tax service. */
export const TaxMode = z.enum(["none", "rates", "external"]);
export type TaxMode = z.infer<typeof TaxMode>;
export const TaxSettings = z
  .object({ mode: TaxMode.describe("TAX_MODE: none, rates (the rates below) or external") })
  .meta({ id: "TaxSettings" });
