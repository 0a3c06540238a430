/**
 * Carts: create, read, and set lines. Each cart is one CartObject; its lines hold stock.
 */
import { z } from "zod";
import { settings } from "../config";
import { Cart, CartItemParams, CartParams, CreateCartBody, CreatedCart, SetItemBody } from "../contracts";
import { mintCartToken } from "../domain/cart-access";
import { type CartResult, etagOf, unwrittenCart } from "../domain/cart";
import { cartView } from "../domain/cart-pricing";
import { cartProblem } from "../http/outcomes";
import { notFound } from "../http/problem";
import { clientIp, enforceRateLimit } from "../http/rate-limit";
import { defineRoute, json } from "../http/route";
import { emptyPricing } from "../objects/cart-pricer";
import { cartStub, newCartId } from "../objects/stubs";
import { sha256Hex } from "../platform/crypto";

/** The shopper as per-client limits see it: a hash of the client address (never stored in the clear). */
async function clientKey(request: Request, env: Env): Promise<string> {
  return (await sha256Hex(`client:${await clientIp(request, env)}`)).slice(0, 32);
}

/** Maps a cart answer to a response (200 with ETag) or its problem. */
export function cartResponse(result: CartResult, status = 200): Response {
  if (!result.ok) throw cartProblem(result);
  return json(result.cart, status, { etag: etagOf(result.cart.version), "cache-control": "no-store" });
}

/** The cart object a request names, or 404 (an id this namespace never issued). */
export function stubFor(env: Env, cartId: string) {
  const stub = cartStub(env, cartId);
  if (stub === null) throw notFound("cart");
  return stub;
}

export const CART_HEADERS = { etag: 'The cart version as an entity tag, e.g. "4"' };

export const createCart = defineRoute({
  method: "POST",
  path: "/v1/carts",
  operationId: "createCart",
  summary: "Create a cart; the answer carries its secret token, shown only here",
  tag: "carts",
  auth: "none",
  body: CreateCartBody,
  regionOf: (body) => (body.region === "eu" ? "eu" : null),
  responses: {
    201: { description: "The new cart and its token", schema: CreatedCart, headers: CART_HEADERS },
    400: { description: "Invalid body (e.g. a region other than eu)" },
    429: { description: "Too many carts from this client" },
  },
  async handler({ env, request, body }) {
    await enforceRateLimit(env, request, "cart_create");
    // No object is created: the token carries what the cart is until its first change.
    const region: "eu" | null = body.region === "eu" ? "eu" : null;
    const config = settings(env);
    const claims = { cartId: newCartId(env, region).toString(), currency: body.currency, region, createdAt: Date.now() };
    const token = await mintCartToken(config.cartTokenSecrets, claims);
    const cart = cartView(unwrittenCart(claims, config.holdTtlSeconds), [], emptyPricing(env, body.currency));
    return json({ ...cart, token }, 201, { etag: etagOf(cart.version), "cache-control": "no-store" });
  },
});

export const getCart = defineRoute({
  method: "GET",
  path: "/v1/carts/{cart_id}",
  operationId: "getCart",
  summary: "The cart, with its version as ETag",
  tag: "carts",
  auth: "cart",
  params: CartParams,
  responses: {
    200: { description: "The cart", schema: Cart, headers: CART_HEADERS },
    401: { description: "No bearer token" },
    404: { description: "No such cart, or not this token's cart" },
  },
  cartOf: (params) => ({ cartId: params.cart_id, what: "cart" }),
  async handler({ env, params, access }) {
    return cartResponse(await stubFor(env, params.cart_id).view(access!));
  },
});

export const IF_MATCH = { "if-match": { description: 'Only change the cart if it is still at this version, e.g. "4" (else 412)', schema: z.string().max(200) } };

export const putCartItem = defineRoute({
  method: "PUT",
  path: "/v1/carts/{cart_id}/items/{sku}",
  operationId: "setCartItem",
  summary: "Set a line to exactly this quantity, holding that much stock (0 removes it)",
  tag: "carts",
  auth: "cart",
  params: CartItemParams,
  body: SetItemBody,
  headers: IF_MATCH,
  responses: {
    200: { description: "The cart after the change", schema: Cart, headers: CART_HEADERS },
    400: { description: "Invalid body" },
    401: { description: "No bearer token" },
    404: { description: "No such cart, or an unknown or inactive SKU" },
    409: {
      description: "insufficient_stock (with available), cart_not_open, currency_mismatch, client_hold_limit (one shopper's units of this SKU across its carts) or hold_conflict",
      problems: ["insufficient_stock", "cart_not_open", "currency_mismatch", "client_hold_limit", "hold_conflict"],
    },
    412: { description: "version_mismatch: If-Match is stale" },
    422: { description: "quantity_limit_exceeded, or amount_too_large (the line total would not be exact)", problems: ["quantity_limit_exceeded", "amount_too_large"] },
    429: { description: "Too many cart changes from this client" },
  },
  cartOf: (params) => ({ cartId: params.cart_id, what: "cart" }),
  async handler({ env, request, params, body, access }) {
    await enforceRateLimit(env, request, "cart_write");
    const stub = stubFor(env, params.cart_id);
    return cartResponse(await stub.setItem(access!, params.sku, body.quantity, request.headers.get("if-match"), await clientKey(request, env)));
  },
});

export const deleteCartItem = defineRoute({
  method: "DELETE",
  path: "/v1/carts/{cart_id}/items/{sku}",
  operationId: "removeCartItem",
  summary: "Remove a line and release its hold",
  tag: "carts",
  auth: "cart",
  params: CartItemParams,
  headers: IF_MATCH,
  responses: {
    200: { description: "The cart after the change", schema: Cart, headers: CART_HEADERS },
    401: { description: "No bearer token" },
    404: { description: "No such cart" },
    409: { description: "cart_not_open, or hold_conflict (the hold belongs to a finished order)", problems: ["cart_not_open", "hold_conflict"] },
    412: { description: "version_mismatch" },
    429: { description: "Too many cart changes from this client" },
  },
  cartOf: (params) => ({ cartId: params.cart_id, what: "cart" }),
  async handler({ env, request, params, access }) {
    await enforceRateLimit(env, request, "cart_write");
    const stub = stubFor(env, params.cart_id);
    return cartResponse(await stub.removeItem(access!, params.sku, request.headers.get("if-match"), await clientKey(request, env)));
  },
});
