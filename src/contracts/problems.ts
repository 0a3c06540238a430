/**
 * Every problem the API answers, by its stable `code`: the HTTP status it comes with and the
 * extension members it carries. The one source for the OpenAPI document (a schema per code,
 * discriminated by `code`, so a generated client can narrow on it) and for `ApiError`, which only
 * takes a code listed here.
 */
import * as z from "zod";
import { Cart } from "./carts";
import { Money } from "./common";

const sku = z.string().describe("The SKU the problem is about");
const count = z.number().int().min(0);

/** One invalid input of a 400 `invalid_request`. */
export const FieldError = z.object({
  path: z
    .string()
    .describe("Where: a body field's dotted path (variants.0.price.amount), or query.x, path.x, header.x; '' for the body as a whole"),
  message: z.string(),
});

const problem = <S extends z.ZodRawShape>(status: number, extras: S, description: string) => ({ status, extras, description });

export const PROBLEMS = {
  invalid_request: problem(400, { errors: z.array(FieldError).optional() }, "The request is malformed; `errors` lists each invalid input"),
  idempotency_key_required: problem(400, {}, "This route needs an Idempotency-Key header"),
  unauthorized: problem(401, {}, "No valid credential for this route"),
  invalid_signature: problem(401, {}, "The webhook signature is missing, wrong, or its timestamp is too far off"),
  not_found: problem(
    404,
    { sku: sku.optional().describe("The SKU that is unknown or not for sale, when a cart line names one") },
    "No such resource, or not yours (the same answer either way)",
  ),
  promotion_not_found: problem(404, { promotion_code: z.string().describe("The code as entered") }, "No promotion has this code"),
  method_not_allowed: problem(405, {}, "The path exists, the method does not (HEAD is not served); Allow lists the methods"),
  insufficient_stock: problem(
    409,
    { available: count.describe("The most this line could hold now"), sku: sku.optional() },
    "Not enough stock",
  ),
  currency_mismatch: problem(
    409,
    { currency: z.string().describe("The SKU's currency"), sku: sku.optional() },
    "The SKU is priced in another currency than the cart's",
  ),
  client_hold_limit: problem(
    409,
    { limit: count, held: count, sku: sku.optional() },
    "This shopper already holds the most units of this SKU one shopper may hold",
  ),
  hold_conflict: problem(409, { sku: sku.optional() }, "The hold on this SKU belongs to a finished order"),
  below_reserved: problem(409, { reserved: count, on_hand: count }, "on_hand may not go below what is reserved"),
  cart_not_open: problem(409, { cart_status: z.string() }, "The cart is checked out or expired"),
  cart_empty: problem(409, {}, "The cart has no items"),
  price_changed: problem(
    409,
    { cart: Cart.describe("The cart at the new prices") },
    "A price moved since the items were added; review the cart and check out again",
  ),
  item_unavailable: problem(409, { sku }, "A line can no longer be bought in this cart"),
  invalid_transition: problem(409, { order_status: z.string() }, "The order is no longer in a state that allows this"),
  amount_mismatch: problem(409, { expected: Money }, "The payment's amount or currency differs from the order's"),
  order_not_payable: problem(409, { order_status: z.string() }, "The order cannot take this payment; it is recorded for refund"),
  sku_conflict: problem(409, { skus: z.array(z.string()) }, "A SKU belongs to another product"),
  promotion_not_applicable: problem(
    409,
    {
      reason: z
        .enum(["not_active", "does_not_match_cart", "usage_limit_reached", "not_combinable"])
        .describe(
          "not_active: archived or outside its window; does_not_match_cart: no targeted line, another currency, or a minimum not reached; usage_limit_reached: every redemption is taken; not_combinable: it cannot stack with a promotion the cart has",
        ),
      promotion_code: z.string().describe("The code as entered"),
    },
    "The promotion exists but cannot apply to this cart now",
  ),
  promotion_code_immutable: problem(
    409,
    { promotion_code: z.string().nullable().describe("The code the promotion keeps") },
    "A promotion's code (or its having none) is fixed when it is created",
  ),
  promotion_code_taken: problem(
    409,
    {
      promotion_code: z.string().describe("The code, as stored (upper case)"),
      promotion_id: z.string().describe("The promotion that has it"),
    },
    "Another promotion has this code (a deleted promotion keeps its code)",
  ),
  ship_to_required: problem(409, {}, "Tax needs the destination: PUT /v1/carts/{cart_id}/ship-to first"),
  carts_incompatible: problem(
    409,
    { field: z.enum(["currency", "region", "same_cart"]).describe("What differs between the two carts (or that they are the same cart)") },
    "These two carts cannot be merged",
  ),
  idempotency_key_in_use: problem(409, {}, "A request with this Idempotency-Key is still running"),
  version_mismatch: problem(412, { version: z.number().int().positive() }, "If-Match is stale: the cart is at another version"),
  payload_too_large: problem(413, {}, "Bodies are limited to 64 KiB"),
  unsupported_media_type: problem(415, {}, "Send the body as application/json"),
  quantity_limit_exceeded: problem(422, { limit: z.number().int().positive(), sku: sku.optional() }, "Over the per-line limit"),
  amount_too_large: problem(422, { sku: sku.optional() }, "The line total would not be an exact amount"),
  url_not_allowed: problem(
    422,
    { errors: z.array(FieldError).optional() },
    "This URL cannot receive webhooks: not https, or a private, loopback, link-local or reserved host",
  ),
  idempotency_key_reused: problem(422, {}, "This Idempotency-Key was used for a different request"),
  rate_limited: problem(429, {}, "Too many requests from this client; see Retry-After"),
  internal: problem(500, {}, "An unexpected fault; quote the request id"),
  database_unavailable: problem(503, {}, "The database is down or not ready; see Retry-After"),
  tax_unavailable: problem(503, {}, "The tax service failed or was late; no order was created. See Retry-After"),
} as const;

export type ProblemCode = keyof typeof PROBLEMS;

const schemas = new Map<ProblemCode, z.ZodType>();

/** The problem schema of one code: the RFC 9457 members, the code, and its extension members, nothing else. */
export function problemSchema(code: ProblemCode): z.ZodType {
  const known = schemas.get(code);
  if (known) return known;
  const { status, extras, description } = PROBLEMS[code];
  const schema = z
    .strictObject({
      type: z.string().describe("tag:edgecart.dev,2026:problems/<code>"),
      title: z.string(),
      status: z.literal(status),
      detail: z.string(),
      code: z.literal(code),
      request_id: z.string().describe("This request's id (x-request-id); in a replayed answer, the first request's"),
      ...extras,
    })
    .describe(description)
    .meta({ id: `Problem_${code}` });
  schemas.set(code, schema);
  return schema;
}
