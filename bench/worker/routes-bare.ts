/**
 * The bench routes of the bare design (bench/worker/bare.ts): the runtime's floor under edgecart's
 * hot path. Opening a cart creates no object: the token is an HMAC of the cart id under
 * CART_TOKEN_SECRET, checked in constant time before any object is touched.
 */
import { bytesEqual, fromHex, hmacSha256, toHex } from "../../src/platform/crypto";
import type { BareCartObject, BareSkuObject } from "./bare";
import { bearer, body, int, json, problem, type Route, randomHex, requireAdmin, SKU } from "./http";
import type { BenchEnv } from "./postgres";

type BareRoutesEnv = BenchEnv & {
  BARE_CARTS: DurableObjectNamespace<BareCartObject>;
  BARE_SKUS: DurableObjectNamespace<BareSkuObject>;
};

const BARE_CART = "[0-9a-f]{32}";
/**
 * HMAC-SHA256 of the cart id under the first CART_TOKEN_SECRET (edgecart's own helper: its key
 * imported once per isolate). Only the first secret verifies (edgecart tries each while secrets
 * rotate; the bench sets one).
 */
function mac(env: BenchEnv, cartId: string): Promise<Uint8Array> {
  const secret = (env.CART_TOKEN_SECRET ?? "").split(",")[0]!.trim();
  if (secret === "") throw new Error("CART_TOKEN_SECRET is not set");
  return hmacSha256(secret, cartId);
}

/** The cart `cartId` if the request's bearer token is its own, else a 404 (as edgecart answers). */
async function cartFor(request: Request, env: BareRoutesEnv, cartId: string): Promise<DurableObjectStub<BareCartObject> | Response> {
  const token = bearer(request);
  if (token === null) return problem(401, "unauthorized", "This route needs the cart's bearer token.");
  const expected = await mac(env, cartId);
  const presented = /^[0-9a-f]{64}$/.test(token) ? fromHex(token) : null;
  if (presented === null || !bytesEqual(presented, expected)) return problem(404, "not_found", "No such cart.");
  return env.BARE_CARTS.getByName(cartId);
}

const bareEnv = (env: BenchEnv) => env as BareRoutesEnv;

export const bareRoutes: Route[] = [
  [
    "POST",
    /^\/bench\/bare\/carts$/,
    async (request, env) => {
      await request.arrayBuffer();
      const id = randomHex();
      return json({ id, token: toHex(await mac(env, id)) }, 201);
    },
  ],
  [
    "PUT",
    new RegExp(`^/bench/bare/carts/(${BARE_CART})$`),
    async (request, env, _ctx, [cartId]) => {
      await request.arrayBuffer();
      const cart = await cartFor(request, bareEnv(env), cartId!);
      if (cart instanceof Response) return cart;
      return json({ id: cartId, version: await cart.touch() });
    },
  ],
  [
    "PUT",
    new RegExp(`^/bench/bare/carts/(${BARE_CART})/items/(${SKU})$`),
    async (request, env, _ctx, [cartId, sku]) => {
      // As edgecart: the token first, then the input.
      const cart = await cartFor(request, bareEnv(env), cartId!);
      if (cart instanceof Response) return cart;
      const quantity = int((await body(request)).quantity, "quantity", 0, 1000);
      const change = await cart.setItem(cartId!, sku!, quantity);
      if (!change.ok)
        return problem(409, "insufficient_stock", `Only ${change.available} of ${sku} can be held.`, { available: change.available });
      return json(change.cart);
    },
  ],
  [
    "PUT",
    new RegExp(`^/bench/bare/stock/(${SKU})$`),
    async (request, env, _ctx, [sku]) => {
      requireAdmin(request, env);
      const available = int((await body(request)).available, "available", 0, 1_000_000_000);
      const stub = bareEnv(env).BARE_SKUS.getByName(sku!);
      await stub.setStock(available);
      return json(await stub.level());
    },
  ],
  [
    "GET",
    new RegExp(`^/bench/bare/stock/(${SKU})$`),
    async (request, env, _ctx, [sku]) => {
      requireAdmin(request, env);
      const level = await bareEnv(env).BARE_SKUS.getByName(sku!).level();
      return level === null ? problem(404, "not_found", "No such SKU.") : json(level);
    },
  ],
];
