/**
 * Typed stub getters: the one place that names Durable Object instances.
 */

/** The inventory object of a SKU (one per SKU, named by the SKU). */
export function inventoryStub(env: Env, sku: string): DurableObjectStub<import("./inventory").InventoryObject> {
  return env.INVENTORY.getByName(sku);
}
