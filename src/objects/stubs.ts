/**
 * Typed stub getters: the one place that names Durable Object instances. The stub types come
 * from the generated `Env` (worker-configuration.d.ts), so this module imports no object class.
 */
import { log } from "../platform/log";

/** The inventory object of a SKU (one per SKU, named by the SKU). */
export function inventoryStub(env: Env, sku: string) {
  return env.INVENTORY.getByName(sku);
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The idempotency record of one key in one credential scope, named by the hex SHA-256 of each.
 * Refuses anything else, so a raw token can never become part of an object name by mistake.
 */
export function idempotencyStub(env: Env, scopeHash: string, keyHash: string, region: "eu" | null = null) {
  if (!SHA256_HEX.test(scopeHash) || !SHA256_HEX.test(keyHash))
    throw new Error("idempotency object names are built from SHA-256 hex digests only");
  const name = `${scopeHash}:${keyHash}`;
  // An EU cart's records (a stored answer may hold its token or the shopper's email) stay in the EU.
  return region === "eu"
    ? inJurisdiction(
        () => env.IDEMPOTENCY.jurisdiction("eu").getByName(name),
        () => env.IDEMPOTENCY.getByName(name),
      )
    : env.IDEMPOTENCY.getByName(name);
}

/**
 * Runs `placed` (an EU-jurisdiction placement). Local workerd (wrangler dev, tests) has no
 * jurisdictions and says so; only then `fallback` places it normally, and that is logged.
 */
function inJurisdiction<T>(placed: () => T, fallback: () => T): T {
  try {
    return placed();
  } catch (error) {
    if (!(error instanceof Error) || !/not implemented in workerd/i.test(error.message)) throw error;
    log("warn", "jurisdictions are not available in this runtime (local workerd); placed outside the EU");
    return fallback();
  }
}

/** The registry of the orders paid on a UTC day (`YYYY-MM-DD`). */
export function paidOrdersStub(env: Env, day: string) {
  return env.PAID_ORDERS.getByName(day);
}

/** A cart's object from its API id (the object id's hex form); null for an id this namespace never issued. */
export function cartStub(env: Env, cartId: string) {
  let id: DurableObjectId;
  try {
    id = env.CARTS.idFromString(cartId);
  } catch {
    return null;
  }
  return env.CARTS.get(id);
}

/**
 * A new cart object id. An EU cart's id is made in the EU jurisdiction: the id itself encodes it,
 * so every later request reaches the object where its state lives. Local workerd (wrangler dev,
 * tests) has no jurisdictions and says so; only then the cart is placed normally (and logged).
 */
export function newCartId(env: Env, region: "eu" | null): DurableObjectId {
  if (region !== "eu") return env.CARTS.newUniqueId();
  return inJurisdiction(
    () => env.CARTS.newUniqueId({ jurisdiction: "eu" }),
    () => env.CARTS.newUniqueId(),
  );
}

/** The object that keeps a promotion's definition and counts its redemptions (`promotionObjectName`). */
export function promotionStub(env: Env, name: string) {
  return env.PROMOTIONS.getByName(name);
}
