/**
 * Promotions for tests, published the way the admin API publishes them: the definition to its
 * PromotionObject, and automatic ones to the edge list in KV. Real objects and KV, no mocks.
 */
import { env } from "cloudflare:test";
import { expect } from "vitest";
import type { Cart } from "../../src/contracts";
import { type Promotion, promotionObjectName } from "../../src/domain/promotion";
import { promotionStub } from "../../src/objects/stubs";
import { automaticPromotions, writeAutomaticPromotions } from "../../src/services/pricing-settings";
import { call, type newCart, unique } from "../helpers";
import { promo } from "./pricing";

type CartHandle = Awaited<ReturnType<typeof newCart>>;

/** A promotion with defaults: a 10 % order discount under a fresh code, no limit, combinable. */
export function promotion(overrides: Partial<Promotion> = {}): Promotion {
  const id = overrides.id ?? unique("promo");
  return promo({ id, code: `C${id.replace(/[^A-Za-z0-9]/g, "").toUpperCase()}`, ...overrides });
}

/** Publishes `p` (a new version of it when already published). */
export async function publish(p: Promotion): Promise<Promotion> {
  const stored = await promotionStub(env, promotionObjectName(p)).publish(p);
  if (p.code === null) {
    const others = (await automaticPromotions(env)).filter((a) => a.id !== p.id);
    await writeAutomaticPromotions(env.CATALOG, [...others, p]);
  }
  return stored;
}

/** Takes an automatic promotion off the edge list (the test that published it is over). */
export async function unpublishAutomatic(id: string): Promise<void> {
  await writeAutomaticPromotions(
    env.CATALOG,
    (await automaticPromotions(env)).filter((a) => a.id !== id),
  );
}

export async function redemptions(p: Promotion) {
  return promotionStub(env, promotionObjectName(p)).redemptions();
}

export async function enterCode(cart: CartHandle, code: string, headers: Record<string, string> = {}) {
  return call("PUT", `/v1/carts/${cart.id}/promotions/${code}`, { headers: { ...cart.headers, ...headers } });
}

export async function removeCode(cart: CartHandle, code: string) {
  return call("DELETE", `/v1/carts/${cart.id}/promotions/${code}`, { headers: cart.headers });
}

export async function putLine(cart: CartHandle, sku: string, quantity: number): Promise<Cart> {
  const response = await call("PUT", `/v1/carts/${cart.id}/items/${sku}`, { body: { quantity }, headers: cart.headers });
  expect(response.status).toBe(200);
  return (await response.json()) as Cart;
}

export async function checkout(cart: CartHandle, key: string = crypto.randomUUID()) {
  return call("POST", `/v1/carts/${cart.id}/checkout`, {
    body: { email: "shopper@example.com" },
    headers: { ...cart.headers, "idempotency-key": key },
  });
}
