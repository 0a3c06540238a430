/**
 * The API reference at /docs: served from the static assets with its CSP, rendered from the
 * document the Worker serves (/v1/openapi.json), every operation of that document on the page,
 * with no CSP violation, no page error and no request to another origin.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ARTIFACTS, BASE, type Browser, openBrowser, WAIT_MS } from "./lib";

interface Operation {
  method: string;
  path: string;
  operationId: string;
  summary: string;
}

/** The operations of the served document. */
async function operations(): Promise<Operation[]> {
  const response = await fetch(`${BASE}/v1/openapi.json`);
  expect(response.status).toBe(200);
  const document = (await response.json()) as { paths: Record<string, Record<string, { operationId?: string; summary?: string }>> };
  const list: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (typeof operation !== "object" || operation === null || !operation.operationId) continue;
      list.push({ method: method.toUpperCase(), path, operationId: operation.operationId, summary: operation.summary ?? "" });
    }
  }
  return list;
}

/** Directive name → its sources. */
function directives(csp: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const part of csp.split(";")) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) map.set(name.toLowerCase(), sources);
  }
  return map;
}

const squash = (text: string) => text.replace(/\s+/g, " ").trim();

/**
 * A browser for the page: every CSP violation is also reported from its event (even one a library
 * catches), and a request to any other origin counts as a violation.
 */
async function openDocsBrowser(): Promise<Browser> {
  const opened = await openBrowser({ width: 1400, height: 1000 });
  const { page, violations } = opened;
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      console.error(
        `Content Security Policy violation: ${event.effectiveDirective} ${event.blockedURI} at ${event.sourceFile}:${event.lineNumber}`,
      );
    });
  });
  const origin = new URL(BASE).origin;
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.origin !== origin && url.protocol !== "data:") violations.push(`request to another origin: ${request.url()}`);
  });
  return opened;
}

let browser: Browser | undefined;
afterEach(async ({ task }) => {
  const seen = browser?.violations ?? [];
  await browser?.finish(task);
  browser = undefined;
  expect(seen, "CSP violations, page errors or requests to another origin").toEqual([]);
});

describe("API reference (/docs)", () => {
  it("/docs leads to /docs/, which the assets serve with a strict CSP (scripts from this origin only, no eval)", async () => {
    const bare = await fetch(`${BASE}/docs`, { redirect: "manual" });
    expect([301, 302, 307, 308]).toContain(bare.status);
    expect(new URL(bare.headers.get("location") ?? "", BASE).pathname).toBe("/docs/");

    const page = await fetch(`${BASE}/docs/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await page.text()).toContain('src="/docs/reference.js"');
    const csp = directives(page.headers.get("content-security-policy") ?? "");
    expect(csp.get("default-src")).toEqual(["'self'"]);
    expect(csp.get("script-src")).toEqual(["'self'"]);
    expect(csp.get("connect-src")).toEqual(["'self'"]);
    expect(csp.get("object-src")).toEqual(["'none'"]);
    expect(csp.get("frame-ancestors")).toEqual(["'none'"]);
    expect(csp.get("base-uri")).toEqual(["'none'"]);
    // Styles: this origin, plus the inline styles Scalar adds at run time (apidocs/_headers says why).
    expect(csp.get("style-src")).toEqual(["'self'", "'unsafe-inline'"]);
    for (const [name, sources] of csp) {
      expect(
        sources.filter((s) => /unsafe-eval|^https?:|^\*$|^data:|^blob:/.test(s)),
        name,
      ).toEqual([]);
    }
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");

    // The API keeps answering next to the assets (wrangler.toml run_worker_first).
    expect((await fetch(`${BASE}/health`)).status).toBe(200);
    const document = await fetch(`${BASE}/v1/openapi.json`);
    expect(document.headers.get("content-type")).toMatch(/^application\/json/);
    expect((await fetch(`${BASE}/v1/products?limit=1`)).status).toBe(200);
  });

  it("renders every operation of /v1/openapi.json (operation id and summary) with no CSP violation", async () => {
    const expected = await operations();
    expect(expected.length).toBeGreaterThan(20);

    browser = await openDocsBrowser();
    const { page } = browser;
    const loaded = new Set<string>();
    page.on("response", (response) => loaded.add(new URL(response.url()).pathname));

    const response = await page.goto(`${BASE}/docs`);
    expect(new URL(page.url()).pathname).toBe("/docs/");
    expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");

    // The document's title shows once it has loaded (from this origin's /v1/openapi.json).
    await page.getByRole("heading", { level: 1, name: "edgecart" }).waitFor();
    expect(loaded.has("/v1/openapi.json")).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}/docs-01-reference.png` });

    // Scalar renders an operation's section only once its placeholder comes within 1,200 px of the
    // viewport at a rendering frame (an IntersectionObserver): a section scrolled past between two
    // frames is never rendered. So the page is walked one viewport at a time, each step waiting two
    // animation frames (the observer reports after a frame), and from the top again while anything
    // is missing at the bottom. Rendering is CPU work that a loaded machine does slowly: the time is
    // up when nothing new has rendered for WAIT_MS, not at a fixed time.
    const missingFrom = (text: string) =>
      expected.flatMap((op) => [
        ...(text.includes(op.operationId) ? [] : [`${op.method} ${op.path}: operation id ${op.operationId}`]),
        ...(text.includes(squash(op.summary)) ? [] : [`${op.method} ${op.path}: summary "${op.summary}"`]),
      ]);
    // textContent while walking (cheap), then innerText once: what is rendered and shown.
    const missingNow = async () => missingFrom(squash(await page.evaluate(() => document.body.textContent ?? "")));
    let missing = await missingNow();
    let progressAt = Date.now();
    while (missing.length > 0 && Date.now() - progressAt < WAIT_MS) {
      await page.evaluate(async () => {
        const atBottom = window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 1;
        if (atBottom) window.scrollTo(0, 0);
        else window.scrollBy(0, window.innerHeight);
        await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
      });
      const now = await missingNow();
      if (now.length < missing.length) progressAt = Date.now();
      missing = now;
    }
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered, shown text is what counts here
    const shown = await page.evaluate(() => document.body.innerText);
    expect(missingFrom(squash(shown)), "operations of /v1/openapi.json not on the page").toEqual([]);
    await page.screenshot({ path: `${ARTIFACTS}/docs-02-scrolled.png` });

    // Each operation's section is headed by its summary.
    const headings = new Set((await page.getByRole("heading").allInnerTexts()).map(squash));
    expect(
      expected.filter((op) => !headings.has(squash(op.summary))).map((op) => op.operationId),
      "operations without a heading",
    ).toEqual([]);
  }, 240_000); // a budget of its own: rendering every section is CPU work, slow on a loaded machine

  it("its Test Request sends the call to this origin's API, within the CSP", async () => {
    browser = await openDocsBrowser();
    const { page } = browser;
    await page.goto(`${BASE}/docs/`);
    await page.getByRole("heading", { level: 1, name: "edgecart" }).waitFor();
    await page.getByRole("button", { name: "Test Request" }).first().click();
    const origin = new URL(BASE).origin;
    const isApi = (url: URL) => url.origin === origin && (url.pathname === "/health" || url.pathname.startsWith("/v1/"));
    const answered = page.waitForResponse((response) => isApi(new URL(response.url())));
    await page.getByRole("button", { name: "Send" }).first().click();
    const response = await answered;
    expect(response.status()).toBeLessThan(500);
    // The client shows the answer's status line.
    await page.getByText(`${response.status()} ${response.statusText()}`, { exact: true }).first().waitFor();
    await page.screenshot({ path: `${ARTIFACTS}/docs-03-test-request.png` });
  });
});
