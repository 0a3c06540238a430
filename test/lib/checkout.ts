// Helpers of the checkout tests (test/checkout.test.ts, test/checkout-payments.test.ts): a cart
// with a fresh SKU in it, checkout with an Idempotency-Key, a placed order, the SKU's stock and the
// order's archived rows.
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { expect } from "vitest";
import type { Cart, Order } from "../../src/contracts";
import { withDb } from "../../src/db/client";
import { orderLines, orders } from "../../src/db/schema";
import { inventoryStub } from "../../src/objects/stubs";
import { call, createStockedProduct, newCart, unique } from "../helpers";

export type CartHandle = Awaited<ReturnType<typeof newCart>>;

export async function put(cart: CartHandle, sku: string, quantity: number) {
  const response = await call("PUT", `/v1/carts/${cart.id}/items/${sku}`, { body: { quantity }, headers: cart.headers });
  expect(response.status).toBe(200);
  return (await response.json()) as Cart;
}

export async function checkout(cart: CartHandle, key: string | null = crypto.randomUUID(), email = "shopper@example.com") {
  const headers: Record<string, string> = { ...cart.headers };
  if (key !== null) headers["idempotency-key"] = key;
  return call("POST", `/v1/carts/${cart.id}/checkout`, { body: { email }, headers });
}

export async function stock(sku: string) {
  const snapshot = await inventoryStub(env, sku).snapshot();
  if (!snapshot.ok) throw new Error(snapshot.reason);
  const { on_hand, reserved, available } = snapshot.snapshot;
  return { on_hand, reserved, available };
}

export async function archived(orderId: string) {
  return withDb(env, async (db) => ({
    orders: await db.select().from(orders).where(eq(orders.id, orderId)),
    lines: await db.select().from(orderLines).where(eq(orderLines.orderId, orderId)),
  }));
}

/** A cart with `quantity` of a fresh SKU (stock 10, price 1999 USD) in it. */
export async function filledCart(quantity = 2) {
  const sku = unique("BUY");
  const productId = await createStockedProduct([sku], 10, {}, { amount: 1999 });
  const cart = await newCart();
  await put(cart, sku, quantity);
  return { sku, productId, cart };
}

export async function placedOrder(quantity = 2) {
  const filled = await filledCart(quantity);
  const response = await checkout(filled.cart);
  expect(response.status).toBe(201);
  return { ...filled, order: (await response.json()) as Order };
}
