/**
 * The HTTP side of "who may read a cart" (the rule itself: domain/cart-access.ts): the bearer
 * token is checked against the cart id in the Worker, before any object is touched; anything that
 * is not the cart's own token is 404 `not_found`, exactly as a cart that does not exist.
 */
import { settings } from "../config";
import { type CartAccess, cartAccess } from "../domain/cart-access";
import { notFound } from "./problem";

/** What the request's bearer token proves about cart `cartId`; 404 when it proves nothing. */
export async function cartAccessOf(env: Env, cartId: string, bearer: string, what: "cart" | "order" = "cart"): Promise<CartAccess> {
  const access = await cartAccess(settings(env).cartTokenSecrets, cartId, bearer);
  if (access === null) throw notFound(what);
  return access;
}
