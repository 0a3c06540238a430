/**
 * Carts and their lines.
 */
import { z } from "zod";
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
