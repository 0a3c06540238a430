// npm run flash-sale [-- --shoppers 500 --concurrency 100 --stock 100 --sku SKU --url URL]
// A scripted flash sale against a running edgecart (npm run dev with RATE_LIMITS=off):
// `shoppers` concurrent shoppers each create a cart and put one unit of the SKU in it, while
// exactly `stock` units are available. Prints granted, refused, requests/s, and checks that
// exactly min(stock, shoppers) were granted and that the SKU's object agrees (reserved and
// available moved by exactly that much).
//
// The SKU is the demo catalog's flash-sale SKU (npm run seed), or --sku. The script leaves it as
// it found it: on_hand is set for the sale and put back afterwards, and every unit the shoppers
// hold is released. Only without a seeded catalog does it create a product of its own (category
// "flash-sale"), and it archives that product at the end.
import { baseUrl, flag, setting } from "./lib/config.mjs";
import { FLASH_SALE } from "./lib/demo.mjs";

const argv = process.argv.slice(2);
const url = baseUrl(argv);
const shoppers = Number(flag(argv, "shoppers") ?? 500);
const concurrency = Number(flag(argv, "concurrency") ?? 100);
const stock = Number(flag(argv, "stock") ?? FLASH_SALE.stock);
const chosenSku = flag(argv, "sku");
const admin = { authorization: `Bearer ${setting("ADMIN_TOKEN")}` };

async function request(method, path, body, headers = {}) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** Runs `work` over `items` with at most `limit` in flight; `work` returning false stops new items. */
async function pool(items, limit, work) {
  let next = 0;
  let go = true;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (go && next < items.length) if ((await work(items[next++])) === false) go = false;
    }),
  );
}

/** The active product variant with this SKU (walks the public catalog), or null. */
async function findVariant(sku) {
  let cursor;
  do {
    const page = await request("GET", `/v1/products?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    if (page.status !== 200) throw new Error(`list products: ${page.status} ${JSON.stringify(page.body)}`);
    for (const product of page.body.data) {
      const variant = product.variants.find((v) => v.sku === sku);
      if (variant) return { product, variant };
    }
    cursor = page.body.next_cursor;
  } while (cursor);
  return null;
}

/** The SKU's stock levels; a SKU never stocked counts as 0 on hand. */
async function levels(sku) {
  const inventory = await request("GET", `/v1/admin/inventory/${sku}`, undefined, admin);
  if (inventory.status === 404) return { on_hand: 0, reserved: 0, available: 0 };
  if (inventory.status !== 200) throw new Error(`inventory of ${sku}: ${inventory.status} ${JSON.stringify(inventory.body)}`);
  return inventory.body;
}

async function setOnHand(sku, onHand) {
  const set = await request("PUT", `/v1/admin/inventory/${sku}`, { on_hand: onHand }, admin);
  if (set.status !== 200) throw new Error(`set on_hand of ${sku} to ${onHand}: ${set.status} ${JSON.stringify(set.body)}`);
}

/** The SKU to sell and its currency: the seeded one, --sku, or (no seed) a product of its own. */
async function chooseSku() {
  const sku = chosenSku ?? FLASH_SALE.sku;
  const found = await findVariant(sku);
  if (found) return { sku, currency: found.variant.price.currency, ownProduct: null };
  if (chosenSku) throw new Error(`SKU ${chosenSku} is in no active product`);
  const run = Date.now().toString(36);
  const ownProduct = `flash-sale-${run}`;
  const own = `FLASH-${run}`.toUpperCase();
  const product = await request(
    "PUT",
    `/v1/admin/products/${ownProduct}`,
    {
      title: "Flash sale (npm run flash-sale)",
      category: "flash-sale",
      status: "active",
      variants: [{ sku: own, title: "One", price: { amount: 4900, currency: "USD" } }],
    },
    admin,
  );
  if (product.status !== 201) throw new Error(`create product: ${product.status} ${JSON.stringify(product.body)}`);
  console.log(
    `flash-sale: no ${FLASH_SALE.sku} in the catalog (run npm run seed to use it): selling ${own} of product ${ownProduct}, archived at the end`,
  );
  return { sku: own, currency: "USD", ownProduct };
}

async function main() {
  const health = await fetch(`${url}/health`).catch(() => null);
  if (!health?.ok) throw new Error(`no edgecart at ${url}: start it with RATE_LIMITS=off npm run dev`);
  const { sku, currency, ownProduct } = await chooseSku();
  const before = await levels(sku);
  // Exactly `stock` units available for the sale, whatever other carts hold.
  await setOnHand(sku, before.reserved + stock);
  const granted = []; // { id, token } of the carts that hold a unit
  let ok = false;
  try {
    const outcomes = { granted: 0, refused: 0, other: {} };
    const other = (what) => (outcomes.other[what] = (outcomes.other[what] ?? 0) + 1);
    let requests = 0;
    let limited = false;
    const started = performance.now();
    await pool(Array.from({ length: shoppers }), concurrency, async () => {
      const cart = await request("POST", "/v1/carts", { currency });
      requests++;
      if (cart.status === 429) {
        limited = true;
        return false;
      }
      if (cart.status !== 201) return void other(`cart ${cart.status}`);
      const put = await request(
        "PUT",
        `/v1/carts/${cart.body.id}/items/${sku}`,
        { quantity: 1 },
        { authorization: `Bearer ${cart.body.token}` },
      );
      requests++;
      if (put.status === 200) {
        outcomes.granted++;
        granted.push({ id: cart.body.id, token: cart.body.token });
      } else if (put.status === 409 && put.body.code === "insufficient_stock") outcomes.refused++;
      else other(`${put.status} ${put.body?.code ?? ""}`.trim());
    });
    if (limited) throw new Error("rate limited: start the server with RATE_LIMITS=off npm run dev");
    const seconds = (performance.now() - started) / 1000;
    const after = await levels(sku);
    const expected = Math.min(stock, shoppers);
    console.log(`flash-sale: ${shoppers} shoppers, ${concurrency} in flight, stock ${stock} of ${sku} (${currency}) at ${url}`);
    console.log(`flash-sale: granted ${outcomes.granted}, refused ${outcomes.refused}, other ${JSON.stringify(outcomes.other)}`);
    console.log(`flash-sale: ${requests} requests in ${seconds.toFixed(2)} s = ${(requests / seconds).toFixed(0)} requests/s`);
    console.log(`flash-sale: SKU ${sku} reserved ${before.reserved} → ${after.reserved}, available ${stock} → ${after.available}`);
    ok = outcomes.granted === expected && after.reserved - before.reserved === expected && after.available === stock - expected;
    console.log(
      ok
        ? `flash-sale: OK — exactly ${expected} granted, never oversold`
        : "flash-sale: FAILED — the numbers do not add up (or something else changed this SKU meanwhile)",
    );
  } finally {
    // Leave the SKU as it was found: the shoppers' units released, on_hand put back.
    await pool(granted, concurrency, (cart) =>
      request("DELETE", `/v1/carts/${cart.id}/items/${sku}`, undefined, { authorization: `Bearer ${cart.token}` }).then((r) => {
        if (r.status !== 200) console.error(`flash-sale: releasing cart ${cart.id}: ${r.status} ${JSON.stringify(r.body)}`);
      }),
    );
    if (ownProduct) {
      const archived = await request("DELETE", `/v1/admin/products/${ownProduct}`, undefined, admin);
      console.log(
        `flash-sale: product ${ownProduct} ${archived.status === 204 ? "archived" : `not archived: ${archived.status} ${JSON.stringify(archived.body)}`}`,
      );
    } else {
      await setOnHand(sku, before.on_hand).catch((error) => console.error(`flash-sale: ${error.message}`));
      const final = await levels(sku);
      console.log(
        `flash-sale: ${granted.length} held units released; ${sku} back to on_hand ${final.on_hand}, reserved ${final.reserved}, available ${final.available}`,
      );
    }
  }
  process.exit(ok ? 0 : 1);
}

main().catch((error) => {
  console.error(`flash-sale: ${error.message}`);
  process.exit(1);
});
