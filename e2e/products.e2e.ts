/**
 * Products: editing a title and a price in the dashboard, and the storefront answering it;
 * archiving.
 */
import { afterEach, describe, expect, it } from "vitest";
import { BASE, type Browser, call, createProduct, eventually, openBrowser, screenshot, signIn, unique } from "./lib";

let browser: Browser | undefined;
afterEach(async ({ task }) => {
  const seen = browser?.violations ?? [];
  await browser?.finish(task);
  browser = undefined;
  expect(seen, "CSP violations or page errors").toEqual([]);
});

type Product = {
  title: string;
  status: string;
  version: number;
  variants: Array<{ sku: string; price: { amount: number; currency: string } }>;
};

describe("products page", () => {
  it("edits a title and a variant price, and the storefront answers the new price; then archives the product", async () => {
    const [small, large] = [unique("E2E-PRICE-S"), unique("E2E-PRICE-L")];
    const id = await createProduct([
      { sku: small, amount: 1999, title: "Small" },
      { sku: large, amount: 2499, title: "Large" },
    ]);
    browser = await openBrowser();
    const { page } = browser;
    await signIn(page);
    await page.getByRole("link", { name: "Products" }).click();
    const link = page.getByRole("link", { name: id, exact: true });
    const rows = page.getByRole("region", { name: "Products" }).locator("tbody tr[data-product]");
    await rows.first().waitFor();
    // Products are listed by id, 50 at a time: load more until this one shows.
    while (!(await link.isVisible())) {
      const shown = await rows.count();
      await page.getByRole("button", { name: "Load more" }).click();
      await rows.nth(shown).waitFor();
    }
    await screenshot(page, "50-products");
    await link.click();
    await page.getByLabel("Title", { exact: true }).waitFor();
    expect(await page.locator(`[data-price="${small}"]`).textContent()).toBe("$19.99");

    // A price with more decimals than the currency has is refused before anything is sent.
    await page.getByLabel(/^Small/).fill("21.555");
    await page.getByRole("button", { name: "Save product" }).click();
    await page.getByRole("alert").filter({ hasText: "not a valid amount" }).waitFor();
    expect((await call<Product>("GET", `/v1/admin/products/${id}`, { token: "admin" })).body.version).toBe(1);

    await page.getByLabel("Title", { exact: true }).fill("Renamed by the dashboard");
    await page.getByLabel(/^Small/).fill("21.50");
    await page.getByRole("button", { name: "Save product" }).click();
    await page.getByRole("status").filter({ hasText: "Saved version 2" }).waitFor();
    await page.locator(`[data-price="${small}"]`).filter({ hasText: "$21.50" }).waitFor();
    await screenshot(page, "51-product-edited");

    const storefront = await eventually(
      () => call<Product>("GET", `/v1/products/${id}`),
      (answer) => answer.status === 200 && answer.body.variants[0]?.price.amount === 2150,
      "the storefront's new price",
    );
    expect(storefront.body).toMatchObject({
      title: "Renamed by the dashboard",
      status: "active",
      variants: [
        { sku: small, price: { amount: 2150, currency: "USD" } },
        { sku: large, price: { amount: 2499, currency: "USD" } },
      ],
    });

    await page.getByRole("button", { name: "Archive…" }).click();
    await page.getByRole("button", { name: "Archive product" }).click();
    await page.getByRole("status").filter({ hasText: "Archived" }).waitFor();
    await page.locator(".page-head .badge", { hasText: "archived" }).waitFor();
    expect((await call<Product>("GET", `/v1/admin/products/${id}`, { token: "admin" })).body.status).toBe("archived");
    const cart = await call<{ id: string; token: string }>("POST", "/v1/carts", { body: { currency: "USD" } });
    const refused = await call("PUT", `/v1/carts/${cart.body.id}/items/${small}`, { token: cart.body.token, body: { quantity: 1 } });
    expect(refused.status).toBe(404);
    expect(page.url().startsWith(`${BASE}/admin/`)).toBe(true);
  });
});
