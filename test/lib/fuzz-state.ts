// The state the fuzzer of test/fuzz.test.ts watches: a stocked SKU (its stock, holds and catalog
// entry), an open cart, a checked-out cart and its pending order, and the product in Postgres.
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import type { Order } from "../../src/contracts";
import { withDb } from "../../src/db/client";
import { products } from "../../src/db/schema";
import type { CartAccess } from "../../src/domain/cart-access";
import { cartStub, inventoryStub } from "../../src/objects/stubs";
import type { newCart } from "../helpers";

// ---- the state the fuzzer must not change without a valid credential --------------------------

export interface Tracked {
  sku: string;
  productId: string;
  cart: Awaited<ReturnType<typeof newCart>>;
  ordered: Awaited<ReturnType<typeof newCart>>;
  other: Awaited<ReturnType<typeof newCart>>;
  order: Order;
  /** What the tokens of `cart` and `ordered` prove to their objects. */
  hashes: [CartAccess, CartAccess];
}

export async function snapshot(t: Tracked): Promise<string> {
  const [stock, pricing, cart, ordered, order] = await Promise.all([
    inventoryStub(env, t.sku).snapshot(),
    inventoryStub(env, t.sku).pricing(),
    cartStub(env, t.cart.id)!.view(t.hashes[0]),
    cartStub(env, t.ordered.id)!.view(t.hashes[1]),
    cartStub(env, t.ordered.id)!.orderForAdmin(),
  ]);
  return JSON.stringify({ stock, pricing, cart, ordered, order });
}

export async function productRow(id: string) {
  return withDb(
    env,
    async (db) =>
      (
        await db
          .select({ version: products.version, status: products.status, updatedAt: products.updatedAt })
          .from(products)
          .where(eq(products.id, id))
      )[0],
  );
}
