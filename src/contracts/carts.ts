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
