// The engines a phase runs against: the same bench Worker, runtime, client and concurrency. Each
// engine says how to open a cart, put units of a SKU in it, stock a SKU and read its stock back.
import { Webhook } from "standardwebhooks";
import { CONNECT_RTTS } from "./db-proxy.mjs";

/** The SKU's product through the production admin API (Postgres, KV and the SKU's object), stocked. */
async function stockProduct(client, sku, stock, rttMs) {
  const productId = sku.toLowerCase();
  await client.adminCall("PUT", `/v1/admin/products/${productId}`, {
    title: `Bench ${sku}`,
    status: "active",
    variants: [{ sku, title: sku, price: { amount: 4900, currency: "USD" } }],
  });
  await client.adminCall("PUT", `/v1/admin/inventory/${sku}`, { on_hand: stock });
  // Calls from carts to this SKU's object pay the simulated round trip (kept in the object; the
  // carts wait it out, bench/worker/hop.ts).
  await client.adminCall("POST", `/bench/inventory/${sku}/configure`, { rtt_ms: rttMs });
}

/** @returns {"granted" | "refused" | "error"} */
function outcomeOf(answer) {
  if (answer.status === 200) return "granted";
  if (answer.status === 409 && answer.body?.code === "insufficient_stock") return "refused";
  return "error";
}

const cartAuth = (cart) => ({ authorization: `Bearer ${cart.token}` });

/**
 * Postgres engine factory: `conn` request | pooled, `lock` single | for-update. `roundTrips`: the
 * fewest simulated round trips one reservation waits (bench/lib/db-proxy.mjs).
 */
function postgres(conn, lock, roundTrips, describe) {
  return {
    describe,
    kind: "postgres",
    roundTrips,
    async setupSku(client, sku, stock) {
      await client.adminCall("PUT", `/bench/pg/stock/${sku}`, { available: stock });
    },
    async createCart(client) {
      const answer = await client.request("POST", `/bench/pg/${conn}/carts`, { body: {} });
      return { ok: answer.status === 201, answer, cart: answer.body };
    },
    async reserve(client, cart, sku) {
      const query = lock === "single" ? "" : `?lock=${lock}`;
      const answer = await client.request("PUT", `/bench/pg/${conn}/carts/${cart.id}/items/${sku}${query}`, {
        body: { quantity: 1 },
        headers: cartAuth(cart),
      });
      return { outcome: outcomeOf(answer), answer };
    },
    async readBack(client, sku) {
      const level = await client.adminCall("GET", `/bench/pg/stock/${sku}`);
      return { reserved: level.reserved, available: level.available, lines: level.lines };
    },
  };
}

/** The bare design (bench/worker/bare.ts): the same path as edgecart's with nothing but the two writes. */
const bareObject = {
  describe:
    "the runtime's floor under edgecart's hot path (bench/worker/bare.ts): the same shape, a cart token checked in the Worker (HMAC, no object), one object per cart, one RPC from it to the SKU's object and one commit in each, with nothing else (no expiry, alarm, prices, limits, ledger or validation library); RTT 0 only",
  kind: "bare",
  atZeroRttOnly: true,
  async setupSku(client, sku, stock) {
    await client.adminCall("PUT", `/bench/bare/stock/${sku}`, { available: stock });
  },
  async createCart(client) {
    const answer = await client.request("POST", "/bench/bare/carts", { body: {} });
    return { ok: answer.status === 201, answer, cart: answer.body };
  },
  /** The cart's first change without a line, which creates its object (as durable-object's makeCart). */
  async makeCart(client, cart) {
    const answer = await client.request("PUT", `/bench/bare/carts/${cart.id}`, { body: {}, headers: cartAuth(cart) });
    return { ok: answer.status === 200, answer };
  },
  async reserve(client, cart, sku) {
    const answer = await client.request("PUT", `/bench/bare/carts/${cart.id}/items/${sku}`, {
      body: { quantity: 1 },
      headers: cartAuth(cart),
    });
    return { outcome: outcomeOf(answer), answer };
  },
  async readBack(client, sku) {
    const level = await client.adminCall("GET", `/bench/bare/stock/${sku}`);
    return { reserved: level.reserved, available: level.available, lines: level.lines };
  },
};

export const ENGINES = {
  noop: {
    describe:
      "GET /health of the production Worker, as many requests per operation as the durable-object engine makes: the bench entry, the production router, error seam and log line, no storage (the runtime's HTTP ceiling for this Worker)",
    kind: "noop",
    atZeroRttOnly: true,
  },
  "durable-object": {
    describe:
      "edgecart's production API: POST /v1/carts (a signed token: no object until the first change), PUT /v1/carts/{id}/items/{sku} (the cart's CartObject holds the units in the SKU's InventoryObject), checkout and the signed payment webhook",
    kind: "durable-object",
    // The cart's call to the hot SKU's object.
    roundTrips: 1,
    async setupSku(client, sku, stock, rttMs = 0) {
      await stockProduct(client, sku, stock, rttMs);
    },
    async createCart(client) {
      const answer = await client.request("POST", "/v1/carts", { body: {} });
      return { ok: answer.status === 201, answer, cart: answer.body };
    },
    /**
     * Makes an opened cart's object exist, as a cart row exists for the central-database engines:
     * its first change (here its destination) creates the CartObject and its tables.
     */
    async makeCart(client, cart) {
      const answer = await client.request("PUT", `/v1/carts/${cart.id}/ship-to`, { body: { country: "US" }, headers: cartAuth(cart) });
      return { ok: answer.status === 200, answer };
    },
    async reserve(client, cart, sku) {
      const answer = await client.request("PUT", `/v1/carts/${cart.id}/items/${sku}`, { body: { quantity: 1 }, headers: cartAuth(cart) });
      return { outcome: outcomeOf(answer), answer };
    },
    async checkout(client, cart) {
      return client.request("POST", `/v1/carts/${cart.id}/checkout`, {
        body: { email: "shopper@example.com" },
        headers: { ...cartAuth(cart), "idempotency-key": crypto.randomUUID() },
      });
    },
    /** The payment provider: a Standard Webhooks `payment.succeeded`, signed as scripts/pay.mjs does. */
    async pay(client, order, secret) {
      const body = JSON.stringify({
        type: "payment.succeeded",
        data: {
          order_id: order.id,
          amount: order.total.amount,
          currency: order.total.currency,
          payment_id: `pi_bench_${crypto.randomUUID()}`,
        },
      });
      const id = `msg_${crypto.randomUUID()}`;
      const now = new Date();
      const signature = new Webhook(secret).sign(id, now, body);
      return client.request("POST", "/v1/webhooks/payments", {
        body,
        headers: {
          "content-type": "application/json",
          "webhook-id": id,
          "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
          "webhook-signature": signature,
        },
      });
    },
    async readBack(client, sku) {
      const inventory = await client.adminCall("GET", `/v1/admin/inventory/${sku}`);
      return { on_hand: inventory.on_hand, reserved: inventory.reserved, available: inventory.available };
    },
  },
  "bare-object": bareObject,
  "pg-request": postgres(
    "request",
    "single",
    // Opening the connection (TCP, the WebSocket upgrade), then Postgres's startup and the statement.
    CONNECT_RTTS + 2,
    "central Postgres, a connection per request (the production withDb: Neon's driver over WebSocket, as a Worker without a pooler pays it); a cart is a row; a reservation is ONE statement: token check, conditional UPDATE … SET available = available - 1 WHERE sku = $ AND available >= 1, cart line",
  ),
  "pg-pooled": postgres(
    "pooled",
    "single",
    1,
    "central Postgres through a Hyperdrive binding (node-postgres on env.HYPERDRIVE; locally the bench's pooling proxy: warm connections, startup answered next to the Worker); the same ONE-statement reservation",
  ),
  "pg-for-update": postgres(
    "pooled",
    "for-update",
    // BEGIN, the SELECT … FOR UPDATE, then COMMIT (or ROLLBACK when refused).
    3,
    "central Postgres through Hyperdrive, the textbook transaction: BEGIN; SELECT … FOR UPDATE; check; UPDATE + INSERT; COMMIT (the row lock is held across those round trips)",
  ),
};

export const ENGINE_NAMES = Object.keys(ENGINES);
