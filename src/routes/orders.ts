/**
 * Checkout and orders. An order lives in the object of the cart it was placed from; its id names
 * that cart, and the cart's token is the credential for both.
 */
import { AdminOrder, CartParams, CheckoutBody, Order, OrderParams } from "../contracts";
import { cartIdOf } from "../domain/order";
import { lineProblem } from "../http/outcomes";
import { ApiError, notFound } from "../http/problem";
import { defineRoute, json } from "../http/route";
import { cartStub } from "../objects/stubs";

const NO_STORE = { "cache-control": "no-store" };
/** When a checkout refused for a late tax service may be tried again. */
const TAX_RETRY_AFTER_SECONDS = 5;

/** The cart object of a cart id, or 404. */
function cartStubOr404(env: Env, cartId: string) {
  const stub = cartStub(env, cartId);
  if (stub === null) throw notFound("cart");
  return stub;
}

/** The cart an order id names, for the token check. */
function cartOfOrder(orderId: string) {
  const cartId = cartIdOf(orderId);
  return cartId === null ? null : { cartId, what: "order" as const };
}

/** The cart object an order id names (orders live with their cart) and its cart id, or 404. */
function orderStub(env: Env, orderId: string) {
  const cartId = cartIdOf(orderId);
  const stub = cartId === null ? null : cartStub(env, cartId);
  if (stub === null || cartId === null) throw notFound("order");
  return { stub, cartId };
}

export const checkout = defineRoute({
  method: "POST",
  path: "/v1/carts/{cart_id}/checkout",
  operationId: "checkout",
  summary: "Place the order at the current authoritative prices; its stock stays held for the payment window",
  tag: "orders",
  auth: "cart",
  idempotency: "required",
  params: CartParams,
  body: CheckoutBody,
  responses: {
    201: { description: "The order, pending payment", schema: Order },
    400: { description: "Invalid body, or idempotency_key_required" },
    401: { description: "No bearer token" },
    404: { description: "No such cart" },
    409: {
      description:
        "price_changed (a price or promotion changed: with the updated cart), cart_empty, cart_not_open, item_unavailable, insufficient_stock, currency_mismatch, hold_conflict, or ship_to_required (TAX_MODE is not none and the cart has no destination)",
      problems: [
        "price_changed",
        "cart_empty",
        "cart_not_open",
        "item_unavailable",
        "insufficient_stock",
        "currency_mismatch",
        "hold_conflict",
        "ship_to_required",
      ],
    },
    503: {
      description: "tax_unavailable: the tax service failed or took longer than 2 s; no order was created (with Retry-After)",
      problems: ["tax_unavailable"],
    },
  },
  cartOf: (params) => ({ cartId: params.cart_id, what: "cart" }),
  async handler({ env, params, body, access, idempotencyKey }) {
    const result = await cartStubOr404(env, params.cart_id).checkout(access!, body.email, idempotencyKey!);
    if (result.ok) return json(result.order, 201, NO_STORE);
    switch (result.reason) {
      case "not_found":
        throw notFound("cart");
      case "cart_empty":
        throw new ApiError(409, "cart_empty", "The cart has no items to check out.");
      case "cart_not_open":
        throw new ApiError(409, "cart_not_open", `The cart is ${result.status}.`, { cart_status: result.status });
      case "price_changed":
        throw new ApiError(
          409,
          "price_changed",
          "Prices changed since the items were added; review the updated cart and check out again.",
          { cart: result.cart },
        );
      case "item_unavailable":
        throw new ApiError(409, "item_unavailable", `${result.sku} can no longer be bought in this cart; remove it and check out again.`, {
          sku: result.sku,
        });
      case "ship_to_required":
        throw new ApiError(409, "ship_to_required", "Tax needs to know where the goods go: set the cart's ship-to, then check out again.");
      case "tax_unavailable":
        throw new ApiError(
          503,
          "tax_unavailable",
          "The tax service did not answer in time; no order was created. Retry shortly.",
          {},
          { "retry-after": String(TAX_RETRY_AFTER_SECONDS) },
        );
      default:
        throw lineProblem(result);
    }
  },
});

export const getOrder = defineRoute({
  method: "GET",
  path: "/v1/orders/{order_id}",
  operationId: "getOrder",
  summary: "An order placed from the cart whose token is presented",
  tag: "orders",
  auth: "cart",
  params: OrderParams,
  responses: {
    200: { description: "The order", schema: Order },
    401: { description: "No bearer token" },
    404: { description: "No such order, or not this token's" },
  },
  cartOf: (params) => cartOfOrder(params.order_id),
  async handler({ env, params, access }) {
    const result = await orderStub(env, params.order_id).stub.order(access!);
    if (!result.ok) throw notFound("order");
    return json(result.order, 200, NO_STORE);
  },
});

export const cancelOrder = defineRoute({
  method: "POST",
  path: "/v1/orders/{order_id}/cancel",
  operationId: "cancelOrder",
  summary: "Cancel a pending order and release its stock",
  tag: "orders",
  auth: "cart",
  params: OrderParams,
  responses: {
    200: { description: "The cancelled order", schema: Order },
    401: { description: "No bearer token" },
    404: { description: "No such order" },
    409: { description: "invalid_transition: the order is no longer pending payment", problems: ["invalid_transition"] },
  },
  cartOf: (params) => cartOfOrder(params.order_id),
  async handler({ env, params, access }) {
    const result = await orderStub(env, params.order_id).stub.cancelOrder(access!);
    if (result.ok) return json(result.order, 200, NO_STORE);
    if (result.reason === "not_found") throw notFound("order");
    throw new ApiError(409, "invalid_transition", `A ${result.status} order cannot be cancelled.`, { order_status: result.status });
  },
});

export const getOrderForAdmin = defineRoute({
  method: "GET",
  path: "/v1/admin/orders/{order_id}",
  operationId: "getOrderForAdmin",
  summary: "One order in any status, read from its cart's object (strongly consistent; the list reads Postgres)",
  tag: "admin",
  auth: "admin",
  params: OrderParams,
  responses: {
    200: { description: "The order, with its payment events and refunds due", schema: AdminOrder },
    401: { description: "Missing or wrong admin token" },
    404: { description: "No such order" },
  },
  async handler({ env, params }) {
    const order = await orderStub(env, params.order_id).stub.orderForAdmin();
    if (order === null) throw notFound("order");
    return json(order, 200, NO_STORE);
  },
});
