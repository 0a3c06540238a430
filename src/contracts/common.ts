/**
 * Shared building blocks of every contract: identifiers, money, timestamps, problems, pages.
 */
import * as z from "zod";

/**
 * Product ids and SKUs: 1–64 chars of `A-Z a-z 0-9 . _ -`, except `.` and `..` (docs/api.md):
 * those are dot-segments, which every URL parser removes from a path, so a product or SKU named
 * so could never be addressed. One pattern, so the OpenAPI document says it too.
 */
export const Identifier = z.string().regex(
  // Written without lookahead so every JSON Schema tool (and fast-check) can use it: starts with
  // a non-dot, or with one dot and a non-dot, or with two dots and at least one more character.
  /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}|\.[A-Za-z0-9_-][A-Za-z0-9._-]{0,62}|\.\.[A-Za-z0-9._-]{1,62})$/,
  "must be 1–64 characters of A-Z a-z 0-9 . _ -, and not . or .. (a URL path drops those)",
);
export const Sku = Identifier.describe("Stock keeping unit, 1–64 chars of A-Z a-z 0-9 . _ - (not . or ..)");
export const ProductId = Identifier.describe("Product id, 1–64 chars of A-Z a-z 0-9 . _ - (not . or ..)");

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
  deep: z
    .enum(["0", "1", "true", "false"])
    .optional()
    .describe("1 also checks Postgres: live with the admin token, else a result shared for up to 5 s (rate-limited per IP)"),
});

export const HealthResponse = z.object({
  status: z.literal("ok"),
  database: z
    .object({
      status: z.literal("ok"),
      latency_ms: z.number(),
      checked_at: Timestamp.describe("When this database check ran; for an anonymous caller up to 5 s ago"),
      migrations: z.number().int().min(0).describe("Schema migrations applied (the service is ready once it has every one it ships)"),
    })
    .optional()
    .describe("With deep=1: the readiness of Postgres, reached through the production driver, migrated"),
});
