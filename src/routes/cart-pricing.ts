/**
 * What a cart is charged beyond its lines: promotion codes entered on it, and where the goods go
 * (tax follows the destination). Each is one change of the cart's object, versioned like a line.
 */
import { Cart, CartParams, PromotionCodeParams, ShipToBody } from "../contracts";
import { codeProblem } from "../http/outcomes";
import { enforceRateLimit } from "../http/rate-limit";
import { defineRoute } from "../http/route";
import { CART_HEADERS, cartResponse, IF_MATCH, stubFor } from "./carts";

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
    404: { description: "No such cart, or promotion_not_found: no promotion has this code", problems: ["not_found", "promotion_not_found"] },
    409: {
      description: "promotion_not_applicable (with reason: not_active, does_not_match_cart, usage_limit_reached or not_combinable), or cart_not_open",
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
