/**
 * Orders and sales: a paid order (paid with `npm run pay`) found in the filtered list and opened;
 * the day's sale drawn on the overview's chart.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  type Browser,
  call,
  checkout,
  createProduct,
  eventually,
  openBrowser,
  openCart,
  pay,
  screenshot,
  setLine,
  signIn,
  unique,
} from "./lib";

let browser: Browser | undefined;
afterEach(async ({ task }) => {
  const seen = browser?.violations ?? [];
  await browser?.finish(task);
  browser = undefined;
  expect(seen, "CSP violations or page errors").toEqual([]);
});

type Listed = { data: Array<{ id: string }>; next_cursor: string | null };

/** Whether the archive lists `orderId` among the paid orders of `day` (walking its pages). */
async function archived(orderId: string, day: string): Promise<boolean> {
  let cursor: string | null = null;
  do {
    const page: { body: Listed } = await call<Listed>(
      "GET",
      `/v1/admin/orders?status=paid&from=${day}&to=${day}&limit=100${cursor ? `&cursor=${cursor}` : ""}`,
      { token: "admin" },
    );
    if (page.body.data.some((o) => o.id === orderId)) return true;
    cursor = page.body.next_cursor;
  } while (cursor !== null);
  return false;
}

describe("orders page", () => {
  it("finds an order paid with npm run pay in the list filtered by status and day, and shows its detail in the browser's time zone", async () => {
    const sku = unique("E2E-PAID");
    await createProduct([{ sku, amount: 2599, title: "Blue / L" }], { stock: 10 });
    const cart = await openCart();
    await setLine(cart, sku, 2);
    const order = await checkout(cart);
    expect(await pay(order.id)).toContain("order is now paid");
    const day = order.created_at.slice(0, 10);
    await eventually(() => archived(order.id, day), Boolean, `order ${order.id} in the archive`);

    browser = await openBrowser({ timezoneId: "Asia/Tokyo" });
    const { page } = browser;
    await signIn(page);
    await page.getByRole("link", { name: "Orders" }).click();
    await page.getByLabel("Status", { exact: true }).selectOption("paid");
    await page.getByLabel("Created from (UTC day)").fill(day);
    await page.getByLabel("Created to (UTC day)").fill(day);
    await page.getByRole("button", { name: "Show orders" }).click();
    expect(page.url()).toContain(`status=paid&from=${day}&to=${day}`);
    const row = page.locator(`tr[data-order="${order.id}"]`);
    const rows = page.getByRole("region", { name: "Orders" }).locator("tbody tr");
    // Other tests' orders may come first: page with "Older" until it shows.
    for (let pageNumber = 1; ; pageNumber++) {
      await page.getByText(`Page ${pageNumber}`, { exact: true }).waitFor();
      await rows.first().waitFor();
      if (await row.isVisible()) break;
      await page.getByRole("button", { name: "Older →" }).click();
    }
    expect(await row.textContent()).toContain("$51.98");
    await screenshot(page, "30-orders-list");

    await row.getByRole("link").click();
    await page.getByRole("heading", { level: 1, name: "Order" }).waitFor();
    const status = page.locator('[data-field="status"]');
    await status.filter({ hasText: "paid" }).waitFor();
    expect(await page.locator('[data-field="total"]').textContent()).toBe("$51.98");
    const lines = page.getByRole("region", { name: "Order lines" });
    expect(await lines.textContent()).toContain(sku);
    expect(await lines.textContent()).toContain("$25.99");
    // Times are shown in the browser's zone (Tokyo here), the instant kept in datetime.
    const created = page.locator(`time[datetime="${order.created_at}"]`).first();
    const tokyo = new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeStyle: "medium", timeZone: "Asia/Tokyo" }).format(
      new Date(order.created_at),
    );
    expect(await created.textContent()).toBe(tokyo);
    expect(await page.locator('[data-field="payment"]').textContent()).toMatch(/^Paid /);
    await screenshot(page, "31-order-detail");
  });
});

describe("overview", () => {
  it("draws the day's sale on the sales chart and shows today's revenue in yen without decimals", async () => {
    const sku = unique("E2E-YEN");
    await createProduct([{ sku, amount: 1234, currency: "JPY" }], { stock: 10 });
    const cart = await openCart("JPY");
    await setLine(cart, sku, 3);
    const order = await checkout(cart);
    expect(order.total).toEqual({ amount: 3702, currency: "JPY" });
    await pay(order.id);
    const paid = await call<{ paid_at: string }>("GET", `/v1/admin/orders/${order.id}`, { token: "admin" });
    const day = paid.body.paid_at.slice(0, 10);

    browser = await openBrowser();
    const { page } = browser;
    await signIn(page);
    // The chart shows one currency at a time; this test is the only one that sells in yen.
    const currency = page.getByLabel("Currency", { exact: true });
    await currency.locator("option", { hasText: /^JPY$/ }).waitFor({ state: "attached" });
    await currency.selectOption("JPY");
    // Refreshes every few seconds until the archived sale is drawn.
    await page.locator(`.chart[data-currency="JPY"][data-drawn~="${day}=3702"]`).waitFor();
    const today = new Date().toISOString().slice(0, 10);
    if (today === day) {
      const tile = page.locator('.tile[data-currency="JPY"]');
      await tile.waitFor();
      expect(await tile.locator(".tile-value").textContent()).toBe("¥3,702");
      expect(await tile.textContent()).toContain("1 order · 3 units");
    }
    await page.getByText("Sales as a table").click();
    await page.getByRole("region", { name: "Paid orders per UTC day and currency" }).filter({ hasText: "¥3,702" }).waitFor();
    const top = page.getByRole("region", { name: "Top SKUs by units sold" });
    await top.filter({ hasText: sku }).waitFor();
    await screenshot(page, "40-overview");
  });
});
