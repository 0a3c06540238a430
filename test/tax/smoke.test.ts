// The `tax` project (vitest.config.ts): the Worker with TAX_MODE=external against this project's own
// tax service stub. End-to-end cart and checkout tests with external tax belong in test/tax/; to
// make the stub misbehave for one test only, register a scope named like that test's SKU prefix
// (`PUT <stub>/control/<prefix>`, see scripts/tax-stub.mjs) and use SKUs that start with it.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { settings } from "../../src/config";
import { call } from "../helpers";

describe("tax project", () => {
  it("runs the Worker with external tax pointed at the stub", async () => {
    const response = await call("GET", "/health");
    expect(response.status).toBe(200);
    await response.body?.cancel();
    const { taxMode, taxServiceUrl, taxServiceSecret } = settings(env);
    expect(taxMode).toBe("external");
    expect(taxServiceUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/tax$/);
    expect(taxServiceSecret).toMatch(/^whsec_/);
    const stub = await fetch(new URL("/health", taxServiceUrl));
    expect(await stub.json()).toEqual({ ok: true });
  });
});
