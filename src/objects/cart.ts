import { DurableObject } from "cloudflare:workers";

/** One shopping cart: lines, holds, totals, expiry, checkout. */
export class CartObject extends DurableObject<Env> {}
