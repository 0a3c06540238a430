/**
 * Inventory: stock dropping while carts take it; setting and adjusting stock, refusals explained.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type Browser, call, createProduct, openBrowser, openCart, screenshot, setLine, signIn, unique, waitForText } from "./lib";

let browser: Browser | undefined;
afterEach(async ({ task }) => {
  const seen = browser?.violations ?? [];
  await browser?.finish(task);
  browser = undefined;
  expect(seen, "CSP violations or page errors").toEqual([]);
});

describe("inventory page", () => {
  it("finds a SKU from the suggestions and shows its stock drop while carts take it, with their holds", async () => {
    const sku = unique("E2E-DROP");
    await createProduct([{ sku, amount: 1500 }], { stock: 20 });
    browser = await openBrowser();
    const { page } = browser;
    await signIn(page);
    await page.getByRole("link", { name: "Inventory" }).click();
    // The SKU is suggested from the product list.
    await page.locator(`#sku-suggestions option[value="${sku}"]`).waitFor({ state: "attached" });
    await page.getByLabel("SKU", { exact: true }).fill(sku);
    await page.getByRole("button", { name: "Show stock" }).click();
    const field = (name: string) => page.locator(`[data-field="${name}"]`);
    await waitForText(field("available"), "20");
    await waitForText(field("reserved"), "0");

    const first = await openCart();
    await setLine(first, sku, 3);
    await waitForText(field("available"), "17");
    await waitForText(field("reserved"), "3");
    const second = await openCart();
    await setLine(second, sku, 5);
    await waitForText(field("available"), "12");
    await waitForText(field("reserved"), "8");
    await waitForText(field("on_hand"), "20");
    const holds = page.getByRole("region", { name: `Active holds on ${sku}` }).locator("tbody tr");
    await page.getByRole("heading", { name: "Active holds (2)" }).waitFor();
    expect(await holds.count()).toBe(2);
    expect((await holds.allTextContents()).join(" ")).toMatch(/in 1[45] minutes/);
    await screenshot(page, "20-inventory-holds");

    await setLine(first, sku, 0);
    await waitForText(field("available"), "15");
    await page.getByRole("heading", { name: "Active holds (1)" }).waitFor();
  });

  it("sets and adjusts stock showing the server's answer, and explains a below_reserved refusal", async () => {
    const sku = unique("E2E-ADJ");
    await createProduct([{ sku, amount: 900 }], { stock: 10 });
    const cart = await openCart();
    await setLine(cart, sku, 4);
    browser = await openBrowser();
    const { page } = browser;
    await signIn(page);
    await page.goto(`${page.url().split("#")[0]}#/inventory/${sku}`);
    const field = (name: string) => page.locator(`[data-field="${name}"]`);
    await waitForText(field("reserved"), "4");

    await page.getByLabel("Change (units, negative to remove)").fill("5");
    await page.getByLabel("Reason").fill("delivery");
    await page.getByRole("button", { name: "Adjust", exact: true }).click();
    await page
      .getByRole("status")
      .filter({ hasText: "Adjusted by +5 (delivery) — the server answered 200: on_hand 15, reserved 4, available 11." })
      .waitFor();
    await waitForText(field("on_hand"), "15");
    const adjustment = browser.apiRequests.find((r) => r.method === "POST" && r.url.endsWith(`/v1/admin/inventory/${sku}/adjustments`));
    expect(adjustment?.headers["idempotency-key"]).toMatch(/^[0-9a-f-]{36}$/);

    await page.getByLabel("New on hand").fill("2");
    await page.getByRole("button", { name: "Set on hand" }).click();
    const refusal = page.getByRole("alert").filter({ hasText: "below_reserved" });
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain("4 units are reserved by open carts and unpaid orders");
    expect(await refusal.textContent()).toContain("You asked for on_hand 2; it stays at 15");
    await screenshot(page, "21-inventory-below-reserved");
    expect((await call<{ on_hand: number }>("GET", `/v1/admin/inventory/${sku}`, { token: "admin" })).body.on_hand).toBe(15);

    await page.getByLabel("Change (units, negative to remove)").fill("-12");
    await page.getByLabel("Reason").fill("damaged");
    await page.getByRole("button", { name: "Adjust", exact: true }).click();
    await page.getByRole("alert").filter({ hasText: "You asked for on_hand 3" }).waitFor();

    await page.getByLabel("New on hand").fill("6");
    await page.getByRole("button", { name: "Set on hand" }).click();
    await page
      .getByRole("status")
      .filter({ hasText: "Stock set to 6 — the server answered 200: on_hand 6, reserved 4, available 2." })
      .waitFor();
    await waitForText(field("available"), "2");
    expect(
      (await call<{ on_hand: number; available: number }>("GET", `/v1/admin/inventory/${sku}`, { token: "admin" })).body,
    ).toMatchObject({ on_hand: 6, available: 2 });
    await screenshot(page, "22-inventory-set");
  });
});
