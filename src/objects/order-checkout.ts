/**
 * Checkout, inside the cart's object (OrderDesk runs it; the order lives with the cart it was
 * placed from). The rules are in src/domain (repricing, the payment window's holds); this loads
 * the cart, asks the domain, takes the holds and redemptions from the SKU and promotion objects,
 * then places the order and closes the cart in one transaction. Every step that touches another
 * object is idempotent, so a crash at any point is finished by a retry with the same
 * Idempotency-Key, or undone by the object's alarm when the cart lapses first.
 */
import type { Cart, Order } from "../contracts";
import { type CartState, holdIdFor } from "../domain/cart";
import { reprice } from "../domain/checkout";
import { orderHoldSeconds } from "../domain/expiry";
import type { InventoryRefusal } from "../domain/inventory";
import { orderIdFor } from "../domain/order";
import type { CartPromotions } from "./cart-promotions";
import type { CartStore, StoredCart } from "./cart-store";
import type { OrderStore } from "./order-store";
import { inventoryStub } from "./stubs";

export type CheckoutResult =
  | { ok: true; order: Order; created: boolean }
  | { ok: false; reason: "cart_empty" }
  | { ok: false; reason: "cart_not_open"; status: string }
  | { ok: false; reason: "price_changed"; cart: Cart }
  | { ok: false; reason: "item_unavailable"; sku: string }
  | { ok: false; reason: "tax_unavailable" | "ship_to_required" }
  | (InventoryRefusal & { sku: string });

export class OrderCheckout {
  constructor(
    private readonly env: Env,
    private readonly carts: CartStore,
    private readonly orders: OrderStore,
    private readonly promotions: CartPromotions,
    /** The order as the API shows it (see OrderDesk.view). */
    private readonly view: () => Order | null,
    /** The cart as the API shows it now (after a checkout changed it). */
    private readonly show: (now: number) => Promise<Cart>,
  ) {}

  /**
   * Checks out the cart under `key`. Reprices every line from the SKU objects; a changed price
   * updates the lines and answers `price_changed`. Otherwise every hold is extended to the
   * payment window, then the order is placed and the cart closed in one transaction. A retry with
   * the same key after a crash finds the checkout in progress (or the order placed) and finishes
   * it; never a second order, never a lost or doubled hold.
   */
  async run(
    stored: StoredCart,
    cart: CartState,
    email: string,
    key: string,
    now: number,
    paymentTtlSeconds: number,
  ): Promise<CheckoutResult> {
    const existing = this.orders.order();
    if (existing) {
      if (existing.checkout_key === key) return { ok: true, order: this.view()!, created: false };
      return { ok: false, reason: "cart_not_open", status: cart.status };
    }
    if (cart.status !== "open") return { ok: false, reason: "cart_not_open", status: cart.status };
    const lines = this.carts.lines();
    if (lines.length === 0) return { ok: false, reason: "cart_empty" };

    const prices = await Promise.all(lines.map((line) => inventoryStub(this.env, line.sku).pricing()));
    const repriced = reprice(lines, prices, cart.currency);
    if (repriced.kind === "unavailable") return { ok: false, reason: "item_unavailable", sku: repriced.sku };
    if (repriced.kind === "changed") {
      this.carts.write(stored, repriced.lines, { status: cart.status, expires_at: cart.expires_at, version: cart.version + 1 }, now);
      return { ok: false, reason: "price_changed", cart: await this.show(now) };
    }

    // Promotions from their objects, the tax, and the redemptions for the payment window.
    const holdSeconds = orderHoldSeconds(paymentTtlSeconds);
    this.carts.markCheckoutStarted(key);
    const pricing = await this.promotions.prepareCheckout(stored, cart, now, now + holdSeconds * 1000);
    if (!pricing.ok) {
      this.carts.markCheckoutStarted(null);
      return pricing.reason === "price_changed"
        ? { ok: false, reason: "price_changed", cart: await this.show(now) }
        : { ok: false, reason: pricing.reason };
    }
    // Secure the stock for the payment window before anything is promised.
    const held = await Promise.all(
      lines.map((line) =>
        inventoryStub(this.env, line.sku).hold(holdIdFor(cart.cart_id, line.sku), cart.cart_id, line.quantity, holdSeconds),
      ),
    );
    const refused = held.findIndex((r) => !r.ok);
    if (refused >= 0) {
      // A hold lapsed and its stock went elsewhere: give the others back the cart's own expiry.
      const ttl = Math.max(1, (cart.expires_at - Date.now()) / 1000);
      await Promise.all(
        lines.map((line, i) =>
          held[i]!.ok ? inventoryStub(this.env, line.sku).extend(holdIdFor(cart.cart_id, line.sku), ttl) : undefined,
        ),
      );
      await this.promotions.restore(cart, pricing.redemptions);
      this.carts.markCheckoutStarted(null);
      return { ...(held[refused] as InventoryRefusal), sku: lines[refused]!.sku };
    }
    const orderId = orderIdFor(cart.cart_id);
    const { priced } = pricing;
    const bySku = new Map(priced.priced.lines.map((line) => [line.sku, line]));
    this.carts.transaction(() => {
      this.orders.place(
        {
          order_id: orderId,
          cart_id: cart.cart_id,
          email,
          currency: cart.currency,
          total_amount: priced.priced.total,
          checkout_key: key,
          created_at: now,
          payment_expires_at: now + paymentTtlSeconds * 1000,
          pricing: {
            discount_total: priced.priced.discount_total,
            tax_total: priced.priced.tax_total,
            tax_inclusive: priced.priced.tax_inclusive,
            discounts: priced.priced.discounts.filter((d) => d.amount > 0),
            redemptions: pricing.redemptions,
          },
        },
        lines.map((line) => ({ ...line, discount: bySku.get(line.sku)?.discount ?? 0, tax: bySku.get(line.sku)?.tax ?? 0 })),
      );
      this.carts.close(orderId, cart.version + 1, now);
    });
    await this.promotions.releaseUnused(cart.cart_id, pricing.redemptions);
    return { ok: true, order: this.view()!, created: true };
  }
}
