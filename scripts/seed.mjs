// npm run seed: loads the demo catalog into a running edgecart (npm run dev) through the same
// admin API a back office uses. Idempotent: products are replaced with the same content, and
// stock is set only for SKUs that have none yet (so a re-seed never fights live carts).
//   npm run seed [-- --url http://127.0.0.1:8787]
import { baseUrl, setting } from "./lib/config.mjs";
import { FLASH_SALE } from "./lib/demo.mjs";

const url = baseUrl();
const token = setting("ADMIN_TOKEN");
const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };

const CATALOG = {
  apparel: {
    currency: "USD",
    items: ["Classic tee", "Heavy hoodie", "Rain jacket", "Wool socks"],
    variants: ["Black / S", "Black / M", "Black / L"],
    base: 1999,
  },
  home: { currency: "USD", items: ["Linen throw", "Desk lamp", "Ceramic vase", "Wall clock"], variants: ["Sand", "Slate"], base: 3499 },
  kitchen: {
    currency: "USD",
    items: ["Chef knife", "Cast iron pan", "Pour-over kettle", "Oak board"],
    variants: ["Standard", "Large"],
    base: 4599,
  },
  outdoors: {
    currency: "EUR",
    items: ["Trail pack", "Camp stove", "Trekking poles", "Headlamp"],
    variants: ["Green", "Orange", "Grey"],
    base: 5900,
  },
  books: { currency: "EUR", items: ["Field guide", "Cookbook", "Atlas", "Sketchbook"], variants: ["Paperback", "Hardcover"], base: 1800 },
  electronics: {
    currency: "EUR",
    items: ["Flash-sale earbuds", "Power bank", "USB-C hub", "Smart plug"],
    variants: ["White", "Black"],
    base: 2900,
  },
};

const slug = (text) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
const skuOf = (category, item, variant) => `${slug(category).slice(0, 3)}-${slug(item)}-${slug(variant)}`.toUpperCase().slice(0, 64);

/** The demo products, deterministic so re-seeding writes the same thing. */
function products() {
  const list = [];
  for (const [category, spec] of Object.entries(CATALOG)) {
    spec.items.forEach((item, i) => {
      list.push({
        id: `${category}-${slug(item)}`,
        body: {
          title: item,
          description: `${item} from the edgecart demo catalog.`,
          category,
          status: "active",
          variants: spec.variants.map((variant, v) => ({
            sku: skuOf(category, item, variant),
            title: variant,
            price: { amount: spec.base + i * 500 + v * 100, currency: spec.currency },
            ...(item === "Flash-sale earbuds" ? { max_line_quantity: 2 } : {}),
          })),
        },
        // The flash-sale item starts with exactly FLASH_SALE.stock units; the rest with a few dozen.
        stock: item === "Flash-sale earbuds" ? FLASH_SALE.stock : 20 + ((i * 7) % 30),
      });
    });
  }
  return list;
}

async function request(method, path, body) {
  const response = await fetch(`${url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function main() {
  const health = await fetch(`${url}/health`).catch(() => null);
  if (!health?.ok) {
    console.error(`seed: no edgecart at ${url} — start it with npm run dev`);
    process.exit(1);
  }
  const catalog = products();
  // npm run flash-sale relies on this SKU: fail here, not there, if the catalog above drifts.
  const flash = catalog.find((p) => p.id === FLASH_SALE.productId);
  if (!flash?.body.variants.some((v) => v.sku === FLASH_SALE.sku))
    throw new Error(`the demo catalog lacks ${FLASH_SALE.productId} / ${FLASH_SALE.sku}`);
  let created = 0,
    replaced = 0,
    stocked = 0,
    skus = 0;
  for (const product of catalog) {
    const put = await request("PUT", `/v1/admin/products/${product.id}`, product.body);
    if (put.status === 201) created++;
    else if (put.status === 200) replaced++;
    else throw new Error(`PUT ${product.id}: ${put.status} ${JSON.stringify(put.body)}`);
    for (const variant of product.body.variants) {
      skus++;
      const current = await request("GET", `/v1/admin/inventory/${variant.sku}`);
      if (current.status === 200 && (current.body.on_hand > 0 || current.body.reserved > 0)) continue;
      const set = await request("PUT", `/v1/admin/inventory/${variant.sku}`, { on_hand: product.stock });
      if (set.status !== 200) throw new Error(`stock ${variant.sku}: ${set.status} ${JSON.stringify(set.body)}`);
      stocked++;
    }
  }
  console.log(`seed: ${created} products created, ${replaced} replaced, ${skus} SKUs, ${stocked} stocked (${url})`);
  console.log(`seed: flash-sale SKU ${FLASH_SALE.sku} has ${FLASH_SALE.stock} units when first seeded (npm run flash-sale sells it)`);
}

main().catch((error) => {
  console.error(`seed: ${error.message}`);
  process.exit(1);
});
