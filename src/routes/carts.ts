/**
 * Carts: create, read, set lines; enter promotion codes and set where the goods go (what the cart
 * is charged beyond its lines). Each cart is one CartObject; its lines hold stock.
 */
import * as z from "zod";
import { settings } from "../config";
import {
  Cart,
  CartItemParams,
  CartParams,
  CreateCartBody,
  CreatedCart,
  MergeBody,
  MergedCart,
  PromotionCodeParams,
  SetItemBody,
  ShipToBody,
} from "../contracts";
import { type CartResult, etagOf, unwrittenCart } from "../domain/cart";
import { cartIdOfToken, mintCartToken } from "../domain/cart-access";
import { cartView, emptyPricing } from "../domain/cart-pricing";
import { cartAccessOf } from "../http/cart-auth";
import { cartProblem, codeProblem } from "../http/outcomes";
import { ApiError, notFound } from "../http/problem";
import { clientIp, enforceRateLimit } from "../http/rate-limit";
import { defineRoute, json } from "../http/route";
import { cartStub, newCartId } from "../objects/stubs";
import { sha256Hex } from "../platform/crypto";

/** The shopper as per-client limits see it: a hash of the client address (never stored in the clear). */
async function clientKey(request: Request, env: Env): Promise<string> {
  return (await sha256Hex(`client:${await clientIp(request, env)}`)).slice(0, 32);
}

/** Maps a cart answer to a response (200 with ETag) or its problem. */
function cartResponse(result: CartResult, status = 200): Response {
  if (!result.ok) throw cartProblem(result);
  return json(result.cart, status, { etag: etagOf(result.cart.version), "cache-control": "no-store" });
}

/** The cart object a request names, or 404 (an id this namespace never issued). */
function stubFor(env: Env, cartId: string) {
  const stub = cartStub(env, cartId);
  if (stub === null) throw notFound("cart");
  return stub;
}

const CART_HEADERS = { etag: 'The cart version as an entity tag, e.g. "4"' };

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
    const cart = cartView(unwrittenCart(claims, config.holdTtlSeconds), [], emptyPricing(body.currency, config.taxMode));
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

const IF_MATCH = {
  "if-match": { description: 'Only change the cart if it is still at this version, e.g. "4" (else 412)', schema: z.string().max(200) },
};

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
      description:
        "insufficient_stock (with available), cart_not_open, currency_mismatch, client_hold_limit (one shopper's units of this SKU across its carts) or hold_conflict",
      problems: ["insufficient_stock", "cart_not_open", "currency_mismatch", "client_hold_limit", "hold_conflict"],
    },
    412: { description: "version_mismatch: If-Match is stale" },
    422: {
      description: "quantity_limit_exceeded, or amount_too_large (the line total would not be exact)",
      problems: ["quantity_limit_exceeded", "amount_too_large"],
    },
    429: { description: "Too many cart changes from this client" },
  },
  cartOf: (params) => ({ cartId: params.cart_id, what: "cart" }),
  async handler({ env, request, params, body, access }) {
    await enforceRateLimit(env, request, "cart_write");
    const stub = stubFor(env, params.cart_id);
    return cartResponse(
      await stub.setItem(access!, params.sku, body.quantity, request.headers.get("if-match"), await clientKey(request, env)),
    );
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
    409: {
      description: "cart_not_open, or hold_conflict (the hold belongs to a finished order)",
      problems: ["cart_not_open", "hold_conflict"],
    },
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

export const putCartPromotion = defineRoute({
  method: "PUT",
  path: "/v1/carts/{cart_id}/promotions/{code}",
  operationId: "applyPromotionCode",
  summary: "Enter a promotion code on the cart (codes are case-insensitive; entering one twice changes nothing)",
  tag: "carts",
  auth: "cart",
  params: PromotionCodeParams,
  headers: IF_MATCH,
  responses: {
    200: { description: "The cart with the code applied", schema: Cart, headers: CART_HEADERS },
    401: { description: "No bearer token" },
    404: {
      description: "No such cart, or promotion_not_found: no promotion has this code",
      problems: ["not_found", "promotion_not_found"],
    },
    409: {
      description:
        "promotion_not_applicable (with reason: not_active, does_not_match_cart, usage_limit_reached or not_combinable), or cart_not_open",
      problems: ["promotion_not_applicable", "cart_not_open"],
    },
    412: { description: "version_mismatch: If-Match is stale" },
    429: { description: "Too many cart changes from this client" },
  },
  cartOf: (params) => ({ cartId: params.cart_id, what: "cart" }),
  async handler({ env, request, params, access }) {
    await enforceRateLimit(env, request, "cart_write");
    const result = await stubFor(env, params.cart_id).enterCode(access!, params.code, request.headers.get("if-match"));
    if (!result.ok && (result.reason === "promotion_not_found" || result.reason === "promotion_not_applicable")) throw codeProblem(result);
    return cartResponse(result);
  },
});

export const deleteCartPromotion = defineRoute({
  method: "DELETE",
  path: "/v1/carts/{cart_id}/promotions/{code}",
  operationId: "removePromotionCode",
  summary: "Remove a promotion code from the cart and give its redemption back (a code not on the cart changes nothing)",
  tag: "carts",
  auth: "cart",
  params: PromotionCodeParams,
  headers: IF_MATCH,
  responses: {
    200: { description: "The cart without the code", schema: Cart, headers: CART_HEADERS },
    401: { description: "No bearer token" },
    404: { description: "No such cart" },
    409: { description: "cart_not_open", problems: ["cart_not_open"] },
    412: { description: "version_mismatch: If-Match is stale" },
    429: { description: "Too many cart changes from this client" },
  },
  cartOf: (params) => ({ cartId: params.cart_id, what: "cart" }),
  async handler({ env, request, params, access }) {
    await enforceRateLimit(env, request, "cart_write");
    return cartResponse(await stubFor(env, params.cart_id).removeCode(access!, params.code, request.headers.get("if-match")));
  },
});

export const putCartShipTo = defineRoute({
  method: "PUT",
  path: "/v1/carts/{cart_id}/ship-to",
  operationId: "setCartShipTo",
  summary: "Set where the goods go; tax (TAX_MODE rates or external) is computed for this destination",
  tag: "carts",
  auth: "cart",
  params: CartParams,
  body: ShipToBody,
  headers: IF_MATCH,
  responses: {
    200: { description: "The cart with its destination", schema: Cart, headers: CART_HEADERS },
    400: { description: "Invalid body" },
    401: { description: "No bearer token" },
    404: { description: "No such cart" },
    409: { description: "cart_not_open", problems: ["cart_not_open"] },
    412: { description: "version_mismatch: If-Match is stale" },
    429: { description: "Too many cart changes from this client" },
  },
  cartOf: (params) => ({ cartId: params.cart_id, what: "cart" }),
  async handler({ env, request, params, body, access }) {
    await enforceRateLimit(env, request, "cart_write");
    const shipTo = { country: body.country, region: body.region ?? null, postal_code: body.postal_code ?? null };
    return cartResponse(await stubFor(env, params.cart_id).setShipTo(access!, shipTo, request.headers.get("if-match")));
  },
});

export const mergeCarts = defineRoute({
  method: "POST",
  path: "/v1/carts/{cart_id}/merge",
  operationId: "mergeCart",
  summary: "Merge another cart (e.g. the guest cart at sign-in) into this one: holds move, the source becomes merged",
  tag: "carts",
  auth: "cart",
  idempotency: "required",
  params: CartParams,
  body: MergeBody,
  responses: {
    200: {
      description: "This cart after the merge, with merge_report: what became of each SKU of the source",
      schema: MergedCart,
      headers: CART_HEADERS,
    },
    400: { description: "Invalid body, or a source token that names no cart without source_cart_id" },
    401: { description: "No bearer token" },
    404: { description: "No such cart, or the source token is not the source cart's" },
    409: {
      description:
        "carts_incompatible (another currency or region, or the same cart), cart_not_open (either cart is checked out, merged or expired), or hold_conflict",
      problems: ["carts_incompatible", "cart_not_open", "hold_conflict"],
    },
  },
  cartOf: (params) => ({ cartId: params.cart_id, what: "cart" }),
  async handler({ env, request, params, body, access }) {
    await enforceRateLimit(env, request, "cart_write");
    const sourceId = cartIdOfToken(body.source_token) ?? body.source_cart_id;
    if (sourceId === undefined)
      throw new ApiError(400, "invalid_request", "This source token does not name its cart: send source_cart_id too.", {
        errors: [{ path: "source_cart_id", message: "required for this token" }],
      });
    const sourceAccess = await cartAccessOf(env, sourceId, body.source_token);
    const source = stubFor(env, sourceId);
    if (sourceAccess.kind === "legacy" && !(await source.isLegacyHolder(sourceAccess.credential))) throw notFound("cart");
    const result = await stubFor(env, params.cart_id).merge(access!, sourceId, sourceAccess, body.mode);
    if (result.ok)
      return json({ ...result.cart, merge_report: result.report }, 200, { etag: etagOf(result.cart.version), "cache-control": "no-store" });
    switch (result.reason) {
      case "carts_incompatible":
        throw new ApiError(
          409,
          "carts_incompatible",
          result.field === "same_cart"
            ? "A cart cannot be merged into itself."
            : `The carts differ in ${result.field}; they cannot be merged.`,
          { field: result.field },
        );
      case "hold_conflict":
        throw new ApiError(409, "hold_conflict", `The hold on ${result.sku} belongs to a finished order; nothing was merged.`, {
          sku: result.sku,
        });
      default:
        throw cartProblem(result);
    }
  },
});
