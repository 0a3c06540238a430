/**
 * An example storefront: the whole purchase through the typed client (@edgecart/client), against a
 * running edgecart (npm run dev, then npm run seed):
 *
 *   npm run example:storefront -- --base http://127.0.0.1:8787 [--sku SKU] [--email you@example.com]
 *
 * It reads the catalog, creates a cart, adds an item (If-Match), checks out (Idempotency-Key, and
 * the same key again to show the replay), pays as the payment provider would (a webhook signed
 * with PAYMENT_WEBHOOK_SECRET from the environment or .dev.vars, as `npm run pay` does), waits
 * until the order is paid, and prints each step. Any step that fails ends it with exit code 1.
 *
 * Node 22 runs this file as it is (type stripping): no build step.
 */

import { parseArgs } from "node:util";
import {
  type Cart,
  createEdgecartClient,
  type EdgecartClient,
  idempotent,
  ifMatch,
  isProblem,
  type Order,
  type Product,
  unwrap,
  versionOf,
  withCart,
} from "@edgecart/client";
import { baseUrl, setting } from "../scripts/lib/config.mjs";
import { signedPaymentEvent } from "../scripts/lib/payments.mjs";

const { values: args } = parseArgs({
  options: {
    base: { type: "string" },
    url: { type: "string" },
    sku: { type: "string" },
    email: { type: "string", default: "shopper@example.com" },
    "timeout-seconds": { type: "string", default: "120" },
  },
});
const base = (args.base ?? args.url ?? baseUrl([])).replace(/\/+$/, "");
const REQUEST_TIMEOUT_MS = 20_000;
const PAID_WITHIN_MS = 30_000;

let step = "start";
const started = Date.now();
const say = (text: string) => console.log(`storefront: ${text}`);
const begin = (name: string) => {
  step = name;
  say(`── ${name}`);
};

/** Money in minor units, shown in its currency. */
function money(value: { amount: number; currency: string }): string {
  const format = new Intl.NumberFormat("en-US", { style: "currency", currency: value.currency });
  return format.format(value.amount / 10 ** (format.resolvedOptions().maximumFractionDigits ?? 2));
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** The first variant of an active product with stock (or the one --sku names). */
async function pickVariant(shop: EdgecartClient): Promise<{ product: Product; variant: Product["variants"][number]; available: number }> {
  let cursor: string | undefined;
  let seen = 0;
  for (let page = 0; page < 10; page++) {
    const list = unwrap(await shop.GET("/v1/products", { params: { query: { limit: 50, ...(cursor ? { cursor } : {}) } } }));
    seen += list.data.length;
    for (const product of list.data) {
      for (const variant of product.variants) {
        if (args.sku !== undefined && variant.sku !== args.sku) continue;
        const { available } = unwrap(await shop.GET("/v1/skus/{sku}/availability", { params: { path: { sku: variant.sku } } }));
        say(`   ${variant.sku}: ${available} available`);
        if (available > 0) return { product, variant, available };
        if (args.sku !== undefined) throw new Error(`${args.sku} has no stock`);
      }
    }
    if (!list.next_cursor) break;
    cursor = list.next_cursor;
  }
  throw new Error(
    seen === 0 ? "the catalog is empty: run `npm run seed` first" : `no ${args.sku ?? "variant"} with stock among ${seen} products`,
  );
}

async function main(): Promise<void> {
  say(`edgecart at ${base}`);
  // Every request gives up after REQUEST_TIMEOUT_MS rather than hang.
  const shop = createEdgecartClient({
    baseUrl: base,
    fetch: (request) => fetch(request, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }),
  });

  begin("1. catalog");
  const { product, variant, available } = await pickVariant(shop);
  say(`   picked "${product.title} / ${variant.title}" (${variant.sku}) at ${money(variant.price)}, ${available} available`);

  begin("2. create a cart");
  const created = await idempotent(
    (key) => shop.POST("/v1/carts", { params: { header: { "idempotency-key": key } }, body: { currency: variant.price.currency } }),
    {
      onRetry: ({ reason, key }) => say(`   retrying with the same Idempotency-Key ${key} (${reason})`),
    },
  );
  const opened = unwrap(created);
  say(
    `   cart ${opened.id} (${opened.currency}, version ${opened.version}, ETag ${created.response.headers.get("etag")}), Idempotency-Key ${created.idempotencyKey}`,
  );
  // Every call about this cart (and its order) carries the cart's token.
  const cart = withCart(shop, opened.token);

  begin("3. add the item (If-Match)");
  const put = await cart.PUT("/v1/carts/{cart_id}/items/{sku}", {
    params: { path: { cart_id: opened.id, sku: variant.sku }, header: { "if-match": ifMatch(opened) } },
    body: { quantity: 1 },
  });
  let current: Cart = unwrap(put);
  check(
    versionOf(put.response) === current.version,
    `the ETag ${put.response.headers.get("etag")} does not name version ${current.version}`,
  );
  say(
    `   ${current.items.map((line) => `${line.quantity} x ${line.sku}`).join(", ")}; subtotal ${money(current.subtotal)}; version ${current.version}; held until ${current.expires_at}`,
  );
  // A change made against the version before is refused: someone (another tab) changed the cart.
  const stale = await cart.PUT("/v1/carts/{cart_id}/items/{sku}", {
    params: { path: { cart_id: opened.id, sku: variant.sku }, header: { "if-match": ifMatch(opened) } },
    body: { quantity: 2 },
  });
  check(
    stale.error !== undefined && isProblem(stale.error, "version_mismatch"),
    `a stale If-Match was not refused: ${stale.response.status} ${JSON.stringify(stale.error ?? stale.data)}`,
  );
  say(
    `   a change against version ${opened.version} is refused: ${stale.response.status} ${stale.error.code}, the cart is at version ${stale.error.version}`,
  );
  current = unwrap(await cart.GET("/v1/carts/{cart_id}", { params: { path: { cart_id: opened.id } } }));
  check(current.items.length === 1 && current.items[0]?.quantity === 1, `the cart changed: ${JSON.stringify(current.items)}`);

  begin("4. check out (Idempotency-Key)");
  const checkout = (key: string) =>
    cart.POST("/v1/carts/{cart_id}/checkout", {
      params: { path: { cart_id: opened.id }, header: { "idempotency-key": key } },
      body: { email: args.email },
    });
  let placed = await idempotent(checkout, {
    onRetry: ({ reason, key }) => say(`   retrying with the same Idempotency-Key ${key} (${reason})`),
  });
  if (placed.error !== undefined && isProblem(placed.error, "price_changed")) {
    // Not a retry: a new decision on new prices, so a new operation and a new key.
    say(
      `   prices changed: the subtotal is now ${money(placed.error.cart.subtotal)}; checking out again at the new prices, with a new key`,
    );
    placed = await idempotent(checkout);
  }
  const order: Order = unwrap(placed);
  say(
    `   order ${order.id}: ${order.status}, total ${money(order.total)}, pay by ${order.payment_expires_at}; Idempotency-Key ${placed.idempotencyKey}`,
  );
  // The same operation again (as after a lost answer): the same key replays the same order.
  const again = await idempotent(checkout, { key: placed.idempotencyKey });
  const replayed = unwrap(again);
  check(replayed.id === order.id, `the same key placed another order: ${replayed.id}`);
  say(`   the same key again: the same order ${replayed.id} (idempotent-replayed: ${again.response.headers.get("idempotent-replayed")})`);

  begin("5. pay (the payment provider's signed webhook)");
  const secret = setting("PAYMENT_WEBHOOK_SECRET");
  check(secret, "PAYMENT_WEBHOOK_SECRET is not set (environment, .dev.vars or .dev.vars.example)");
  const payment = signedPaymentEvent({ secret, orderId: order.id, amount: order.total.amount, currency: order.total.currency });
  const paid = await shop.POST("/v1/webhooks/payments", {
    params: { header: payment.headers },
    body: payment.event,
    // The signature covers these exact bytes.
    bodySerializer: () => payment.body,
  });
  check(paid.response.status === 204, `the webhook was answered ${paid.response.status}: ${JSON.stringify(paid.error)}`);
  say(`   ${payment.event.type} ${money(order.total)} (webhook-id ${payment.headers["webhook-id"]}) → ${paid.response.status}`);

  begin("6. wait for the order to be paid");
  const deadline = Date.now() + PAID_WITHIN_MS;
  let latest: Order;
  for (;;) {
    latest = unwrap(await cart.GET("/v1/orders/{order_id}", { params: { path: { order_id: order.id } } }));
    if (latest.status === "paid") break;
    check(latest.status === "pending_payment", `the order is ${latest.status}, not paid`);
    check(Date.now() < deadline, `the order is still ${latest.status} after ${PAID_WITHIN_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  say(`   order ${latest.id}: ${latest.status} at ${latest.paid_at}`);
  const after = unwrap(await cart.GET("/v1/carts/{cart_id}", { params: { path: { cart_id: opened.id } } }));
  check(after.status === "checked_out" && after.order_id === order.id, `the cart is ${after.status} (order ${after.order_id})`);
  say(`   cart ${after.id}: ${after.status}`);

  say(
    `done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${latest.lines.map((line) => `${line.quantity} x ${line.title}`).join(", ")} for ${money(latest.total)}, paid`,
  );
}

const timeoutSeconds = Number(args["timeout-seconds"]);
const watchdog = setTimeout(() => {
  console.error(`storefront: FAILED at step "${step}": no result after ${timeoutSeconds} s`);
  process.exit(1);
}, timeoutSeconds * 1000);

main().then(
  () => clearTimeout(watchdog),
  (error: unknown) => {
    console.error(`storefront: FAILED at step "${step}": ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
