// npm run flash-sale [-- --shoppers 500 --concurrency 100 --stock 100 --url URL]
// A scripted flash sale against a running edgecart (npm run dev with RATE_LIMITS=off): a fresh
// product with `stock` units, then `shoppers` concurrent shoppers each create a cart and put one
// unit in it. Prints granted, refused, requests/s, and checks that exactly `stock` were granted
// and the SKU object's ledger agrees.
import { baseUrl, flag, setting } from "./lib/config.mjs";

const argv = process.argv.slice(2);
const url = baseUrl(argv);
const shoppers = Number(flag(argv, "shoppers") ?? 500);
const concurrency = Number(flag(argv, "concurrency") ?? 100);
const stock = Number(flag(argv, "stock") ?? 100);
const admin = { authorization: `Bearer ${setting("ADMIN_TOKEN")}`, "content-type": "application/json" };

async function request(method, path, body, headers = {}) {
  const response = await fetch(`${url}${path}`, { method, headers: { "content-type": "application/json", ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function main() {
  const run = Date.now().toString(36);
  const sku = `FLASH-${run}`.toUpperCase();
  const product = await request("PUT", `/v1/admin/products/flash-${run}`, { title: "Flash sale", status: "active", variants: [{ sku, title: "One", price: { amount: 4900, currency: "USD" } }] }, admin);
  if (product.status !== 201) throw new Error(`create product: ${product.status} ${JSON.stringify(product.body)}`);
  await request("PUT", `/v1/admin/inventory/${sku}`, { on_hand: stock }, admin);

  const outcomes = { granted: 0, refused: 0, other: {} };
  let next = 0;
  const started = performance.now();
  let requests = 0;
  async function shopper() {
    while (next < shoppers) {
      next++;
      const cart = await request("POST", "/v1/carts", {});
      requests++;
      if (cart.status === 429) throw new Error("rate limited: start the server with RATE_LIMITS=off npm run dev");
      const put = await request("PUT", `/v1/carts/${cart.body.id}/items/${sku}`, { quantity: 1 }, { authorization: `Bearer ${cart.body.token}` });
      requests++;
      if (put.status === 200) outcomes.granted++;
      else if (put.status === 409 && put.body.code === "insufficient_stock") outcomes.refused++;
      else outcomes.other[put.status] = (outcomes.other[put.status] ?? 0) + 1;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, shopper));
  const seconds = (performance.now() - started) / 1000;
  const inventory = await request("GET", `/v1/admin/inventory/${sku}`, undefined, admin);
  console.log(`flash-sale: ${shoppers} shoppers, ${concurrency} in flight, stock ${stock} (${url})`);
  console.log(`flash-sale: granted ${outcomes.granted}, refused ${outcomes.refused}, other ${JSON.stringify(outcomes.other)}`);
  console.log(`flash-sale: ${requests} requests in ${seconds.toFixed(2)} s = ${(requests / seconds).toFixed(0)} requests/s`);
  console.log(`flash-sale: SKU ${sku} on_hand ${inventory.body.on_hand}, reserved ${inventory.body.reserved}, available ${inventory.body.available}`);
  const expected = Math.min(stock, shoppers);
  const ok = outcomes.granted === expected && inventory.body.reserved === expected && inventory.body.available === stock - expected;
  console.log(ok ? `flash-sale: OK — exactly ${expected} granted, never oversold` : "flash-sale: FAILED — the numbers do not add up");
  process.exit(ok ? 0 : 1);
}

main().catch((error) => {
  console.error(`flash-sale: ${error.message}`);
  process.exit(1);
});
