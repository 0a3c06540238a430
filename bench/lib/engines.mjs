// The engines a flash sale runs against: same Worker, same runtime, same client. Each shopper is
// two requests, "create a cart" then "put the hot SKU in it" (quantity 1).

/** The SKU's product through the admin API (Postgres, then the SKU's object and KV), stocked. */
export async function createStockedSku(client, sku, stock) {
  const productId = sku.toLowerCase();
  await client.adminCall("PUT", `/v1/admin/products/${productId}`, {
    title: `Bench ${sku}`,
    status: "active",
    variants: [{ sku, title: sku, price: { amount: 4900, currency: "USD" } }],
  });
  await client.adminCall("PUT", `/v1/admin/inventory/${sku}`, { on_hand: stock });
  return productId;
}

const JSON_BODY = {};

/**
 * @typedef {{ status: number, body: any, ms: number, error?: string }} Answer
 * @typedef {{ outcome: "granted" | "refused" | "error", answer: Answer }} Reservation
 */
export const ENGINES = {
  noop: {
    describe: "POST /bench/noop, then PUT /bench/noop: two requests through the router and error seam that do nothing (the runtime's HTTP ceiling)",
    reserves: false,
    async setup() {},
    async createCart(client) {
      const answer = await client.request("POST", "/bench/noop", { body: JSON_BODY });
      return { ok: answer.status === 204, answer, cart: null };
    },
    async reserve(client) {
      const answer = await client.request("PUT", "/bench/noop", { body: { quantity: 1 } });
      return { outcome: answer.status === 204 ? "granted" : "error", answer };
    },
    async readBack() {
      return null;
    },
  },

  "durable-object": {
    describe: "POST /v1/carts (a CartObject), then PUT /v1/carts/{id}/items/{sku} quantity 1 (the cart holds the unit in the SKU's InventoryObject)",
    reserves: true,
    async setup(client, sku, stock) {
      await createStockedSku(client, sku, stock);
    },
    async createCart(client) {
      const answer = await client.request("POST", "/v1/carts", { body: JSON_BODY });
      return { ok: answer.status === 201, answer, cart: answer.body };
    },
    async reserve(client, sku, cart) {
      const answer = await client.request("PUT", `/v1/carts/${cart.id}/items/${sku}`, { body: { quantity: 1 }, headers: { authorization: `Bearer ${cart.token}` } });
      return { outcome: outcomeOf(answer), answer };
    },
    async readBack(client, sku) {
      const inventory = await client.adminCall("GET", `/v1/admin/inventory/${sku}`);
      return { on_hand: inventory.on_hand, reserved: inventory.reserved, available: inventory.available };
    },
  },

  "postgres-row-lock": {
    describe:
      "POST /bench/pg/carts (INSERT a cart row), then PUT /bench/pg/carts/{id}/items/{sku} quantity 1: one statement whose conditional UPDATE … SET available = available - 1 WHERE sku = $1 AND available >= 1 takes the row lock, plus the cart line; each request opens its Neon-driver pool (withDb), as Workers require",
    reserves: true,
    async setup(client, sku, stock) {
      await client.adminCall("PUT", `/bench/pg/stock/${sku}`, { available: stock });
    },
    async createCart(client) {
      const answer = await client.request("POST", "/bench/pg/carts", { body: JSON_BODY });
      return { ok: answer.status === 201, answer, cart: answer.body };
    },
    async reserve(client, sku, cart) {
      const answer = await client.request("PUT", `/bench/pg/carts/${cart.id}/items/${sku}`, { body: { quantity: 1 }, headers: { authorization: `Bearer ${cart.token}` } });
      return { outcome: outcomeOf(answer), answer };
    },
    async readBack(client, sku) {
      const level = await client.adminCall("GET", `/bench/pg/stock/${sku}`);
      return { reserved: level.reserved, available: level.available, lines: level.lines };
    },
  },
};

/** @returns {"granted" | "refused" | "error"} */
function outcomeOf(answer) {
  if (answer.status === 200) return "granted";
  if (answer.status === 409 && answer.body?.code === "insufficient_stock") return "refused";
  return "error";
}
