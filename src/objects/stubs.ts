/**
 * Typed stub getters: the one place that names Durable Object instances.
 */

/** The inventory object of a SKU (one per SKU, named by the SKU). */
export function inventoryStub(env: Env, sku: string): DurableObjectStub<import("./inventory").InventoryObject> {
  return env.INVENTORY.getByName(sku);
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The idempotency record of one key in one credential scope, named by the hex SHA-256 of each
 * (src/http/idempotency.ts hashes them). Refuses anything else, so a raw token can never become
 * part of an object name by mistake.
 */
export function idempotencyStub(env: Env, scopeHash: string, keyHash: string): DurableObjectStub<import("./idempotency").IdempotencyObject> {
  if (!SHA256_HEX.test(scopeHash) || !SHA256_HEX.test(keyHash)) throw new Error("idempotency object names are built from SHA-256 hex digests only");
  return env.IDEMPOTENCY.getByName(`${scopeHash}:${keyHash}`);
}

/** A cart's object from its API id (the object id's hex form); null for an id this namespace never issued. */
export function cartStub(env: Env, cartId: string): DurableObjectStub<import("./cart").CartObject> | null {
  let id: DurableObjectId;
  try {
    id = env.CARTS.idFromString(cartId);
  } catch {
    return null;
  }
  return env.CARTS.get(id);
}
