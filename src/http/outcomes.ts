/**
 * Expected outcomes → HTTP problems: every refusal an object answers with, as data, becomes one
 * ApiError here, through exhaustive switches (a new reason fails the type check until it is
 * mapped). Routes call these; nothing else decides a refusal's status or code.
 */
import type { CartRefusal } from "../domain/cart";
import type { CodeRefusal } from "../domain/cart-pricing";
import type { InventoryRefusal } from "../domain/inventory";
import { ApiError, notFound } from "./problem";

/** Maps an inventory refusal to its HTTP problem. */
export function inventoryProblem(refusal: InventoryRefusal, sku: string): ApiError {
  switch (refusal.reason) {
    case "insufficient_stock":
      return new ApiError(409, "insufficient_stock", `Only ${refusal.available} of ${sku} can be held.`, { available: refusal.available });
    case "below_reserved":
      return new ApiError(409, "below_reserved", `on_hand of ${sku} cannot go below the ${refusal.reserved} units reserved.`, {
        reserved: refusal.reserved,
        on_hand: refusal.on_hand,
      });
    case "unknown_sku":
    case "hold_not_found":
      return notFound("SKU");
    case "quantity_limit_exceeded":
      return new ApiError(422, "quantity_limit_exceeded", `At most ${refusal.limit} of ${sku} fit in one line.`, { limit: refusal.limit });
    case "client_hold_limit":
      return new ApiError(
        409,
        "client_hold_limit",
        `You already hold ${refusal.held} of ${sku} across your carts; at most ${refusal.limit} may be held by one shopper.`,
        {
          limit: refusal.limit,
          held: refusal.held,
        },
      );
    case "amount_too_large":
      return new ApiError(
        422,
        "amount_too_large",
        `The total of this line of ${sku} would exceed the largest amount edgecart keeps exactly.`,
      );
    case "currency_mismatch":
      return new ApiError(409, "currency_mismatch", `${sku} is priced in ${refusal.currency}, not in the cart's currency.`, {
        currency: refusal.currency,
      });
    case "hold_owner_mismatch":
    case "hold_committed":
      return new ApiError(409, "hold_conflict", `The hold on ${sku} belongs to a finished order.`);
  }
}

/** The problem for a refusal about one line of a cart or order: the inventory problem, naming the SKU. */
export function lineProblem(refusal: InventoryRefusal & { sku: string }): ApiError {
  const problem = inventoryProblem(refusal, refusal.sku);
  return new ApiError(problem.status, problem.code, problem.detail, { ...problem.extras, sku: refusal.sku });
}

/** Maps a refused promotion code to its problem. */
export function codeProblem(refusal: CodeRefusal): ApiError {
  if (refusal.reason === "promotion_not_found")
    return new ApiError(404, "promotion_not_found", `No promotion has the code ${refusal.code}.`, { promotion_code: refusal.code });
  const why = {
    not_active: "is not active now",
    does_not_match_cart: "does not match this cart (its items, currency or minimum)",
    usage_limit_reached: "has been redeemed as often as it may be",
    not_combinable: "cannot be combined with a promotion this cart already has",
  }[refusal.why];
  return new ApiError(409, "promotion_not_applicable", `The code ${refusal.code} ${why}.`, {
    reason: refusal.why,
    promotion_code: refusal.code,
  });
}

/** Maps a cart refusal to its problem. */
export function cartProblem(refusal: CartRefusal): ApiError {
  switch (refusal.reason) {
    case "not_found":
      return notFound("cart");
    case "version_mismatch":
      return new ApiError(412, "version_mismatch", `The cart is at version ${refusal.version}; reload it and retry.`, {
        version: refusal.version,
      });
    case "cart_not_open":
      return new ApiError(409, "cart_not_open", `The cart is ${refusal.status} and can no longer change.`, { cart_status: refusal.status });
    default:
      return lineProblem(refusal);
  }
}
