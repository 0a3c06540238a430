/**
 * Promotions and tax settings in the dashboard: creating a promotion (refused in the tab while a
 * field cannot be sent), what the API then holds, editing it, a code another promotion has,
 * deleting it; adding, changing and deleting a country's tax rate.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type Browser, call, createProduct, openBrowser, screenshot, signIn, unique } from "./lib";

let browser: Browser | undefined;
afterEach(async ({ task }) => {
  const seen = browser?.violations ?? [];
  await browser?.finish(task);
  browser = undefined;
  expect(seen, "CSP violations or page errors").toEqual([]);
});

type Promotion = {
  id: string;
  code: string | null;
  value: { kind: string; basis_points?: number };
  target: { kind: string; skus?: string[] };
  conditions: { min_quantity?: number };
  usage_limit: number | null;
  priority: number;
  version: number;
  published_version: number;
  ends_at: string | null;
  redemptions?: { held: number; committed: number };
};

describe("promotions page", () => {
  it("creates a code promotion on some SKUs, edits it, refuses its code to another promotion, and deletes it", async () => {
    const sku = unique("E2E-PROMO");
    await createProduct([{ sku, amount: 2500 }]);
    const id = unique("e2e-promo").toLowerCase();
    const code = unique("E2E").replace("-", "");
    browser = await openBrowser();
    const { page } = browser;
    await signIn(page);
    await page.getByRole("link", { name: "Promotions", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Promotions" }).waitFor();
    await page.getByRole("link", { name: "New promotion" }).click();

    await page.locator("#promo-id").fill(id);
    await page.locator("#promo-code").fill(code.toLowerCase());
    await page.locator("#promo-percent").fill("12.345");
    await page.locator("#promo-targetKind").selectOption("skus");
    await page.locator("#promo-targets").fill(sku);
    await page.locator("#promo-allocation").selectOption("each");
    await page.locator("#promo-minQuantity").fill("2");
    await page.locator("#promo-usageLimit").fill("3");
    await page.locator("#promo-endsAt").fill("2099-12-31T23:00:00");
    // More than 2 decimals cannot be sent: refused in the tab, nothing reaches the server.
    await page.getByRole("button", { name: "Create promotion" }).click();
    await page.getByRole("alert").filter({ hasText: "at most 2 decimals" }).waitFor();
    expect((await call("GET", `/v1/admin/promotions/${id}`, { token: "admin" })).status).toBe(404);

    await page.locator("#promo-percent").fill("12.5");
    await page.getByRole("button", { name: "Create promotion" }).click();
    await page.getByRole("heading", { level: 1, name: id }).waitFor();
    await page.locator('[data-field="value"]').filter({ hasText: "12.5 % off" }).waitFor();
    await page.locator('[data-field="held"]').filter({ hasText: "0" }).waitFor();
    await page.locator('[data-field="left"]').filter({ hasText: "3" }).waitFor();
    await screenshot(page, "60-promotion-created");

    const created = await call<Promotion>("GET", `/v1/admin/promotions/${id}`, { token: "admin" });
    expect(created.body).toMatchObject({
      code,
      value: { kind: "percent", basis_points: 1250 },
      target: { kind: "skus", skus: [sku] },
      allocation: "each",
      conditions: { min_quantity: 2 },
      usage_limit: 3,
      version: 1,
      published_version: 1,
      redemptions: { held: 0, committed: 0 },
    });
    // The end was typed in the browser's time zone (UTC here).
    expect(created.body.ends_at).toBe("2099-12-31T23:00:00.000Z");

    await page.locator("#promo-percent").fill("15");
    await page.locator("#promo-priority").fill("3");
    await page.getByRole("button", { name: "Save promotion" }).click();
    await page.getByRole("status").filter({ hasText: "Saved version 2" }).waitFor();
    await page.locator('[data-field="value"]').filter({ hasText: "15 % off" }).waitFor();
    expect((await call<Promotion>("GET", `/v1/admin/promotions/${id}`, { token: "admin" })).body).toMatchObject({
      value: { basis_points: 1500 },
      priority: 3,
      version: 2,
    });
    await screenshot(page, "61-promotion-edited");

    // Another promotion cannot take the code, whatever its case.
    await page.getByRole("link", { name: "← All promotions" }).click();
    await page.getByRole("link", { name: "New promotion" }).click();
    const other = unique("e2e-other").toLowerCase();
    await page.locator("#promo-id").fill(other);
    await page.locator("#promo-code").fill(code.toLowerCase());
    await page.locator("#promo-percent").fill("5");
    await page.getByRole("button", { name: "Create promotion" }).click();
    await page.getByRole("alert").filter({ hasText: "409 promotion_code_taken" }).waitFor();
    expect((await call("GET", `/v1/admin/promotions/${other}`, { token: "admin" })).status).toBe(404);

    // The list finds it by code; delete it from its page.
    await page.locator("#code-search").fill(code.toLowerCase());
    await page.getByRole("button", { name: "Find" }).click();
    await page.getByRole("region", { name: "Promotions" }).locator(`tr[data-promotion="${id}"]`).waitFor();
    await screenshot(page, "62-promotions-list");
    await page.getByRole("link", { name: id, exact: true }).click();
    await page.getByRole("button", { name: "Delete…" }).click();
    await page.getByRole("button", { name: "Delete promotion" }).click();
    await page
      .getByRole("status")
      .filter({ hasText: `Deleted ${id}` })
      .waitFor();
    expect((await call("GET", `/v1/admin/promotions/${id}`, { token: "admin" })).status).toBe(404);
  });
});

describe("tax settings page", () => {
  it("shows the tax mode, and adds, changes and deletes a country's rate", async () => {
    browser = await openBrowser();
    const { page } = browser;
    await signIn(page);
    await page.getByRole("link", { name: "Tax", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Tax settings" }).waitFor();
    await page.locator('[data-field="mode"]').filter({ hasText: "none" }).waitFor();

    const country = "QE";
    await page.getByLabel(/^Country/).fill("qe");
    await page.getByLabel(/^Rate in percent/).fill("101");
    await page.getByRole("button", { name: "Save rate" }).click();
    await page.getByRole("alert").filter({ hasText: "from 0 to 100" }).waitFor();
    expect((await call("GET", `/v1/admin/tax-rates/${country}`, { token: "admin" })).status).toBe(404);

    await page.getByLabel(/^Rate in percent/).fill("19");
    await page.getByRole("button", { name: "Save rate" }).click();
    await page.getByRole("status").filter({ hasText: "QE: 19 %, included in prices (version 1). Carts use it now." }).waitFor();
    const row = page.getByRole("region", { name: "Tax rates" }).locator(`tr[data-country="${country}"]`);
    await row.locator('[data-field="rate"]').filter({ hasText: "19 %" }).waitFor();

    await page.getByRole("button", { name: `Edit ${country}` }).click();
    await page.getByLabel(/^Rate in percent/).fill("7.5");
    await page.getByLabel(/Included in prices/).uncheck();
    await page.getByRole("button", { name: "Save rate" }).click();
    await page.getByRole("status").filter({ hasText: "added to prices (version 2)" }).waitFor();
    await row.locator('[data-field="rate"]').filter({ hasText: "7.5 %" }).waitFor();
    expect((await call("GET", `/v1/admin/tax-rates/${country}`, { token: "admin" })).body).toMatchObject({
      basis_points: 750,
      inclusive: false,
      version: 2,
    });
    await screenshot(page, "70-tax-rates");

    await page.getByRole("button", { name: `Delete ${country}…` }).click();
    await page.getByRole("button", { name: `Delete ${country}`, exact: true }).click();
    await page
      .getByRole("status")
      .filter({ hasText: `Deleted the rate of ${country}` })
      .waitFor();
    await row.waitFor({ state: "detached" });
    expect((await call("GET", `/v1/admin/tax-rates/${country}`, { token: "admin" })).status).toBe(404);
  });
});
