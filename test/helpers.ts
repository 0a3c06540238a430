/**
 * Test helpers: requests through the real Worker entry (`exports.default.fetch`), in the runtime.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { expect } from "vitest";
import type { SkuPricing } from "../src/contracts";
import { type CartAccess, cartAccess } from "../src/domain/cart-access";
import worker from "../src/index";
import { inventoryStub } from "../src/objects/stubs";
import { expectContract } from "./lib/contract";
import { TEST_ADMIN_TOKEN, TEST_CART_TOKEN_SECRET, TEST_WEBHOOK_SECRET } from "./secrets";

export const BASE = "http://edgecart.test";
export const ADMIN = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

type CallInit = { body?: unknown; headers?: Record<string, string> };

/** The request `call` sends: `body` objects as JSON. */
function request(method: string, path: string, init: CallInit): Request<unknown, IncomingRequestCfProperties> {
  const headers: Record<string, string> = { ...init.headers };
  let body: BodyInit | undefined;
  if (init.body !== undefined) {
    if (typeof init.body === "string" || init.body instanceof Uint8Array) body = init.body as BodyInit;
    else {
      body = JSON.stringify(init.body);
      headers["content-type"] ??= "application/json";
    }
  }
  return new Request(`${BASE}${path}`, { method, headers, body });
}

/** Sends a request to the Worker. `body` objects are sent as JSON. */
export async function call(method: string, path: string, init: CallInit = {}): Promise<Response> {
  const response = await exports.default.fetch(request(method, path, init));
  // Every answer the suite sees must be one the OpenAPI document describes (test/lib/contract.ts).
  await expectContract(method, `${BASE}${path}`, response);
  return response;
}

/**
 * As `call`, through the Worker's handler with an execution context of the test's own: it returns
 * once the request's background work (`ctx.waitUntil`: KV fills, memos) has finished too, so a test
 * can check what that work did or did not write.
 */
export async function callSettled(method: string, path: string, init: CallInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(request(method, path, init), env, ctx);
  await waitOnExecutionContext(ctx);
  await expectContract(method, `${BASE}${path}`, response);
  return response;
}

/** Asserts an RFC 9457 problem with the given status and code and returns its body. */
export async function expectProblem(response: Response, status: number, code: string): Promise<Record<string, unknown>> {
  const body = (await response.json()) as Record<string, unknown>;
  expect({ status: response.status, code: body.code }).toEqual({ status, code });
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  expect(body).toMatchObject({ status, code, type: `tag:edgecart.dev,2026:problems/${code}` });
  expect(typeof body.title).toBe("string");
  expect(typeof body.detail).toBe("string");
  expect(body.request_id).toBe(response.headers.get("x-request-id"));
  expect(JSON.stringify(body)).not.toMatch(/\bat .*\.(ts|js):\d+/);
  return body;
}

/**
 * A unique name for objects and records created by one test: 48 random bits. (With 32, a few
 * thousand names of one kind in a suite repeat about once in a thousand runs.)
 */
export function unique(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

/** Defines a SKU in its inventory object directly (as the catalog publisher does). */
export async function defineSku(sku: string, overrides: Partial<SkuPricing> = {}): Promise<SkuPricing> {
  return inventoryStub(env, sku).define({
    sku,
    product_id: `product-${sku}`,
    title: sku,
    price: { amount: 1000, currency: "USD" },
    status: "active",
    max_line_quantity: null,
    version: 1,
    ...overrides,
  });
}

/** A product body for `PUT /v1/admin/products/{id}`. */
export function productBody(
  variants: Array<{ sku: string; amount?: number; currency?: string; max_line_quantity?: number }>,
  extra: Record<string, unknown> = {},
) {
  return {
    title: "Test product",
    status: "active",
    variants: variants.map((v) => ({
      sku: v.sku,
      title: `Variant ${v.sku}`,
      price: { amount: v.amount ?? 1999, currency: v.currency ?? "USD" },
      ...(v.max_line_quantity !== undefined ? { max_line_quantity: v.max_line_quantity } : {}),
    })),
    ...extra,
  };
}

/** Creates a product through the admin API and stocks each SKU; returns the product id. */
export async function createStockedProduct(
  skus: string[],
  onHand = 100,
  extra: Record<string, unknown> = {},
  price: { amount?: number; currency?: string } = {},
): Promise<string> {
  const id = unique("product");
  const response = await call("PUT", `/v1/admin/products/${id}`, {
    body: productBody(
      skus.map((sku) => ({ sku, ...price })),
      extra,
    ),
    headers: ADMIN,
  });
  expect(response.status).toBe(201);
  for (const sku of skus) {
    const stocked = await call("PUT", `/v1/admin/inventory/${sku}`, { body: { on_hand: onHand }, headers: ADMIN });
    expect(stocked.status).toBe(200);
  }
  return id;
}

let ipsNamed = crypto.getRandomValues(new Uint32Array(1))[0]!;
/**
 * An IPv4 address no other call in this runtime gets: the next of the 130,048 host addresses (.1 to
 * .254) of 198.18.0.0/15, from a random start. Per-IP rate limits count exactly, so a test's client
 * (or storefront shopper) must not share its count with another's; random addresses repeated.
 */
export function uniqueIp(): string {
  const n = ipsNamed++ % (2 * 256 * 254);
  const subnet = Math.floor(n / 254);
  return `198.${18 + (subnet >> 8)}.${subnet & 255}.${(n % 254) + 1}`;
}

/** A client IP header of its own (`uniqueIp`), so per-IP rate limits of one test do not touch another. */
export function clientIpHeader(): Record<string, string> {
  return { "cf-connecting-ip": uniqueIp() };
}

/** Creates a cart through the API; returns its id, token and the headers to act as its holder. */
export async function newCart(body: Record<string, unknown> = {}, ip: Record<string, string> = clientIpHeader()) {
  const response = await call("POST", "/v1/carts", { body, headers: ip });
  expect(response.status).toBe(201);
  const cart = (await response.json()) as {
    id: string;
    token: string;
    version: number;
    currency: string;
    region: string | null;
    expires_at: string;
    status: string;
  };
  return { ...cart, headers: { authorization: `Bearer ${cart.token}`, ...ip } };
}

/** Standard Webhooks headers signing `body` with the test secret (optionally at another time or id). */
export function signedWebhookHeaders(body: string, options: { id?: string; at?: Date; secret?: string } = {}): Record<string, string> {
  const id = options.id ?? `msg_${crypto.randomUUID()}`;
  const at = options.at ?? new Date();
  const signature = new Webhook(options.secret ?? TEST_WEBHOOK_SECRET).sign(id, at, body);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": signature,
    "content-type": "application/json",
  };
}

/** Sends a signed payment webhook for an order. */
export async function sendPayment(
  orderId: string,
  amount: number,
  currency: string,
  options: { type?: string; id?: string; paymentId?: string; at?: Date } = {},
): Promise<Response> {
  const body = JSON.stringify({
    type: options.type ?? "payment.succeeded",
    data: { order_id: orderId, amount, currency, payment_id: options.paymentId ?? "pi_test" },
    provider_field: "ignored",
  });
  return call("POST", "/v1/webhooks/payments", { body, headers: signedWebhookHeaders(body, options) });
}

/**
 * Polls `read` every 25 ms until `accept` holds or `withinMs` have passed, and returns the last
 * value read (a bounded wait for asynchronous work such as queue delivery). The bound is time, not
 * a number of reads, and generous: it is spent only by a test that is failing, and a loaded machine
 * (two cores, a suite's files side by side) can take seconds over a delivery that usually takes
 * milliseconds.
 */
export async function eventually<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  { withinMs = 10_000 }: { withinMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + withinMs;
  let value = await read();
  while (!accept(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    value = await read();
  }
  return value;
}

/**
 * Defines a SKU in its inventory object and stocks it, without the catalog in Postgres (for tests
 * about carts, orders and stock rather than the catalog). Returns the SKU.
 */
export async function stockedSku(prefix: string, onHand: number, overrides: Partial<SkuPricing> = {}): Promise<string> {
  const sku = unique(prefix);
  await defineSku(sku, overrides);
  const stocked = await inventoryStub(env, sku).setOnHand(onHand);
  expect(stocked.ok).toBe(true);
  return sku;
}

/** What a cart's token proves to its object, as the Worker checks it (for calling the object directly). */
export async function accessOf(cart: { id: string; token: string }): Promise<CartAccess> {
  const access = await cartAccess([TEST_CART_TOKEN_SECRET], cart.id, cart.token);
  if (access === null) throw new Error(`not the token of cart ${cart.id}`);
  return access;
}
