/**
 * Sign-in, sign-out and the dashboard's headers; every page at 375 px wide, by keyboard.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, BASE, type Browser, openBrowser, screenshot, signIn } from "./lib";

let browser: Browser | undefined;
afterEach(async ({ task }) => {
  const seen = browser?.violations ?? [];
  await browser?.finish(task);
  browser = undefined;
  expect(seen, "CSP violations or page errors").toEqual([]);
});

describe("sign-in", () => {
  it("refuses a wrong token with a clear message, signs in with the right one (bearer header, no cookie) and signs out", async () => {
    browser = await openBrowser();
    const { page } = browser;
    const response = await page.goto(`${BASE}/admin/`);
    const csp = response!.headers()["content-security-policy"] ?? "";
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "connect-src 'self'",
      "frame-ancestors 'none'",
      "object-src 'none'",
    ]) {
      expect(csp).toContain(directive);
    }
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(response!.headers()["x-content-type-options"]).toBe("nosniff");

    await page.getByLabel("Admin token").fill(`wrong-${crypto.randomUUID()}`);
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.getByRole("alert");
    await alert.filter({ hasText: "The server refused this token" }).waitFor();
    expect(await alert.textContent()).toContain("401");
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await screenshot(page, "01-sign-in-refused");

    await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    expect(await page.evaluate(() => Object.values({ ...sessionStorage }))).toEqual([ADMIN_TOKEN]);
    expect(await page.evaluate(() => document.cookie)).toBe("");
    expect((await browser.context.cookies()).length).toBe(0);
    const admin = browser.apiRequests.filter((r) => new URL(r.url).pathname.startsWith("/v1/admin/reports/"));
    expect(admin.length).toBeGreaterThan(0);
    for (const request of admin) expect(request.headers.authorization).toBe(`Bearer ${ADMIN_TOKEN}`);

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("status").filter({ hasText: "Signed out" }).waitFor();
    await page.getByLabel("Admin token").waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await screenshot(page, "02-signed-out");
  });

  it("drops a token the server stops accepting and asks to sign in again", async () => {
    browser = await openBrowser();
    const { page } = browser;
    await signIn(page);
    await page.evaluate(() => sessionStorage.setItem("edgecart.admin-token", "revoked-token"));
    await page.getByRole("link", { name: "Orders" }).click();
    await page.getByRole("status").filter({ hasText: "no longer accepts" }).waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });
});

describe("small screens and keyboards", () => {
  it("works at 375 px wide on every page, reached by keyboard alone, with every control labelled", async () => {
    browser = await openBrowser({ width: 375, height: 800 });
    const { page } = browser;
    await page.goto(`${BASE}/admin/`);
    // The token field gets focus: type and press Enter.
    await page.waitForFunction(() => document.activeElement?.id === "token");
    await page.keyboard.type(ADMIN_TOKEN);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();

    for (const [link, heading, name] of [
      ["Overview", "Overview", "overview"],
      ["Inventory", "Inventory", "inventory"],
      ["Orders", "Orders", "orders"],
      ["Products", "Products", "products"],
      ["Promotions", "Promotions", "promotions"],
      ["Tax", "Tax settings", "tax"],
    ] as const) {
      // Tab through the page until the section's link has focus, then follow it with Enter.
      for (let i = 0; i < 200; i++) {
        const focused = await page.evaluate(() => ({
          text: document.activeElement?.textContent?.trim(),
          nav: document.activeElement?.closest("nav")?.getAttribute("aria-label"),
        }));
        if (focused.text === link && focused.nav === "Sections") break;
        await page.keyboard.press("Tab");
      }
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { level: 1, name: heading }).waitFor();
      // Focus moves to the new page's heading.
      await page.waitForFunction((h) => document.activeElement?.tagName === "H1" && document.activeElement.textContent === h, heading);
      const layout = await page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        width: document.documentElement.clientWidth,
      }));
      expect(layout.scroll, `${name} overflows sideways`).toBeLessThanOrEqual(layout.width);
      const unlabelled = await page.evaluate(() =>
        [...document.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLButtonElement>("input, select, button")]
          .filter(
            (el) =>
              !(el.labels && el.labels.length > 0) &&
              !el.getAttribute("aria-label") &&
              !el.getAttribute("aria-labelledby") &&
              !(el.tagName === "BUTTON" && el.textContent?.trim()),
          )
          .map((el) => el.outerHTML),
      );
      expect(unlabelled, `${name}: unlabelled controls`).toEqual([]);
      await screenshot(page, `10-mobile-${name}`);
    }
  });
});
