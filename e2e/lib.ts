/**
 * Helpers of the end-to-end tests: the browser (Debian's Chromium through playwright-core, never a
 * downloaded one), the HTTP API as a storefront and a back office would call it, and screenshots.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type BrowserContext, chromium, type Locator, type Page } from "playwright-core";
import { inject } from "vitest";

export const BASE = inject("baseUrl");
export const ADMIN_TOKEN = inject("adminToken");
const root = path.resolve(import.meta.dirname, "..");
export const ARTIFACTS = path.join(root, "artifacts", "e2e");

/** How long a condition may take to hold (archival and refresh cycles are seconds). */
export const WAIT_MS = 60_000;

const CHROMIUM_ARGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A unique name for what one test creates. */
export function unique(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`.toUpperCase();
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** CSP and Trusted Types violations and uncaught errors seen so far. */
  violations: string[];
  /** Requests the page sent to the API, with their headers. */
  apiRequests: Array<{ method: string; url: string; headers: Record<string, string> }>;
  /** Closes the browser; after a failed test, first saves what the page showed (artifacts/e2e/failed-*.png). */
  finish(task: { name: string; result?: { state?: string } }): Promise<void>;
}

/** A fresh Chromium (own --user-data-dir) with one page; en-US, in `timezoneId`. */
export async function openBrowser(options: { width?: number; height?: number; timezoneId?: string } = {}): Promise<Browser> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "edgecart-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
    locale: "en-US",
    timezoneId: options.timezoneId ?? "UTC",
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(WAIT_MS);
  const violations: string[] = [];
  const apiRequests: Browser["apiRequests"] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|Trusted Type/i.test(message.text())) violations.push(message.text());
  });
  page.on("pageerror", (error) => violations.push(`page error: ${error.message}`));
  page.on("request", (request) => {
    if (new URL(request.url()).pathname.startsWith("/v1/"))
      apiRequests.push({ method: request.method(), url: request.url(), headers: request.headers() });
  });
  return {
    context,
    page,
    violations,
    apiRequests,
    async finish(task) {
      if (task.result?.state === "fail") {
        await screenshot(page, `failed-${task.name.replace(/[^a-z0-9]+/gi, "-").slice(0, 80)}`).catch(() => undefined);
      }
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Signs in through the form and waits for the overview. */
export async function signIn(page: Page, token = ADMIN_TOKEN): Promise<void> {
  await page.goto(`${BASE}/admin/`);
  await page.getByLabel("Admin token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
}

/** Saves a full-page screenshot as artifacts/e2e/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Waits until `locator`'s text is exactly `text` (after trimming). */
export async function waitForText(locator: Locator, text: string): Promise<void> {
  await locator.filter({ hasText: new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s*$`) }).waitFor();
}

// ---- the HTTP API --------------------------------------------------------------------------------

export interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T;
}

/** Calls the API; `token` "admin" sends the admin token. */
export async function call<T = Record<string, unknown>>(
  method: string,
  pathname: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token === "admin" ? ADMIN_TOKEN : options.token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${BASE}${pathname}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
}

/** Expects a status, with the body in the failure message. */
export function expectStatus(answer: Answer<unknown>, status: number): void {
  if (answer.status !== status) throw new Error(`expected ${status}, got ${answer.status}: ${JSON.stringify(answer.body)}`);
}

export interface Variant {
  sku: string;
  amount: number;
  currency?: string;
  title?: string;
}

/** Creates a product through the admin API and sets each SKU's stock; returns its id. */
export async function createProduct(variants: Variant[], options: { title?: string; stock?: number } = {}): Promise<string> {
  const id = unique("e2e").toLowerCase();
  const put = await call("PUT", `/v1/admin/products/${id}`, {
    token: "admin",
    body: {
      title: options.title ?? `E2E product ${id}`,
      description: "Made by the end-to-end tests.",
      category: "e2e",
      status: "active",
      variants: variants.map((v) => ({
        sku: v.sku,
        title: v.title ?? `Variant ${v.sku}`,
        price: { amount: v.amount, currency: v.currency ?? "USD" },
      })),
    },
  });
  expectStatus(put, 201);
  for (const v of variants)
    expectStatus(await call("PUT", `/v1/admin/inventory/${v.sku}`, { token: "admin", body: { on_hand: options.stock ?? 50 } }), 200);
  return id;
}

export interface Cart {
  id: string;
  token: string;
}

/** Opens a cart in `currency`. */
export async function openCart(currency = "USD"): Promise<Cart> {
  const created = await call<{ id: string; token: string }>("POST", "/v1/carts", { body: { currency } });
  expectStatus(created, 201);
  return { id: created.body.id, token: created.body.token };
}

/** Sets a cart line (reserving stock). */
export async function setLine(cart: Cart, sku: string, quantity: number): Promise<void> {
  expectStatus(await call("PUT", `/v1/carts/${cart.id}/items/${sku}`, { token: cart.token, body: { quantity } }), 200);
}

export interface PlacedOrder {
  id: string;
  created_at: string;
  total: { amount: number; currency: string };
}

/** Checks a cart out; returns the pending order. */
export async function checkout(cart: Cart): Promise<PlacedOrder> {
  const placed = await call<PlacedOrder>("POST", `/v1/carts/${cart.id}/checkout`, {
    token: cart.token,
    headers: { "idempotency-key": crypto.randomUUID() },
    body: { email: "e2e@example.com" },
  });
  expectStatus(placed, 201);
  return placed.body;
}

/** `npm run pay -- <order_id>` against the test server (a signed payment webhook). */
export function pay(orderId: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "npm",
      ["run", "--silent", "pay", "--", orderId],
      { cwd: root, env: { ...process.env, PORT: String(inject("port")), ADMIN_TOKEN }, timeout: 60_000 },
      (error, stdout, stderr) => (error ? reject(new Error(`npm run pay failed: ${error.message}\n${stdout}${stderr}`)) : resolve(stdout)),
    );
  });
}

/** Polls `read` until `accept` holds (asynchronous work such as the archival queue), at most WAIT_MS. */
export async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
