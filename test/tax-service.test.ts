// The external tax service client (src/services/tax-service.ts) against the real stub
// (scripts/tax-stub.mjs) on loopback, started by test/global-setup.ts. Each test uses a scope of
// its own (`/s/<scope>/tax`), so files and tests running side by side never share a behaviour.
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { type TaxableLine, taxRequest } from "../src/domain/tax";
import { quoteExternalTax, TAX_SERVICE_BUDGET_MS } from "../src/services/tax-service";
import { TEST_TAX_SERVICE_SECRET } from "./secrets";

const STUB = new URL(env.TAX_SERVICE_URL).origin;
/** However busy the machine, a timed-out call must be back within the budget and this. */
const SLACK_MS = 1_000;

interface StubState {
  mode: string;
  requests: number;
  answered: number;
  bad_signatures: number;
  last: { content_type: string; webhook_id: string; webhook_timestamp: string; webhook_signature: string; body: string } | null;
}

/** A fresh scope on the stub with `behaviour` (e.g. { mode: "slow", delay_ms: 5000 }). */
async function scope(behaviour: Record<string, unknown> = {}): Promise<string> {
  const name = `ts-${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const response = await fetch(`${STUB}/control/${name}`, { method: "PUT", body: JSON.stringify(behaviour) });
  expect(response.status).toBe(200);
  await response.body?.cancel();
  return name;
}

async function stubState(name: string): Promise<StubState> {
  return (await fetch(`${STUB}/control/${name}`)).json();
}

/** The test env with the service URL of `name`'s scope (and any other var overridden). */
function envFor(name: string, overrides: Record<string, string> = {}): Env {
  return { ...env, TAX_SERVICE_URL: `${STUB}/s/${name}/tax`, ...overrides } as Env;
}

function line(sku: string, taxable: number): TaxableLine {
  return { sku, product_id: `p-${sku}`, category: null, quantity: 1, taxable };
}

// 1050 × 19 % = 199.5 → 200 and 50 × 19 % = 9.5 → 10 (half to even); 0 → 0.
const BODY = taxRequest(
  { currency: "EUR", lines: [line("B-2", 50), line("A-1", 1050), line("C-3", 0)] },
  { country: "de", region: null, postal_code: " 10115 " },
);

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = Date.now();
  const result = await work();
  return { result, ms: Date.now() - started };
}

describe("quoteExternalTax against the stub", () => {
  it("answers each line's tax, in the request's order, for exactly the signed body", async () => {
    const name = await scope({ rate_bp: 1900 });
    expect(await quoteExternalTax(envFor(name), BODY)).toEqual({
      ok: true,
      lines: [
        { sku: "A-1", tax: 200 },
        { sku: "B-2", tax: 10 },
        { sku: "C-3", tax: 0 },
      ],
    });
    const state = await stubState(name);
    expect(state).toMatchObject({ requests: 1, answered: 1, bad_signatures: 0 });
    expect(state.last?.body).toBe(BODY);
    expect(state.last?.content_type).toBe("application/json");
    expect(state.last?.webhook_id).toMatch(/^taxq_[0-9a-f-]{36}$/);
    expect(state.last?.webhook_signature).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    // The same headers verify with the Standard Webhooks library too.
    expect(() =>
      new Webhook(TEST_TAX_SERVICE_SECRET).verify(
        BODY,
        {
          "webhook-id": state.last!.webhook_id,
          "webhook-timestamp": state.last!.webhook_timestamp,
          "webhook-signature": state.last!.webhook_signature,
        },
        { jsonParse: false },
      ),
    ).not.toThrow();
  });

  it("an empty cart is an empty quote", async () => {
    const name = await scope();
    const body = taxRequest({ currency: "EUR", lines: [] }, { country: "DE", region: null, postal_code: null });
    expect(await quoteExternalTax(envFor(name), body)).toEqual({ ok: true, lines: [] });
  });

  it("is refused by the service when signed with another secret: rejected", async () => {
    const name = await scope();
    const other = `whsec_${btoa("another-secret-of-32-bytes-long!")}`;
    expect(await quoteExternalTax(envFor(name, { TAX_SERVICE_SECRET: other }), BODY)).toEqual({ ok: false, reason: "rejected" });
    expect(await stubState(name)).toMatchObject({ requests: 1, answered: 0, bad_signatures: 1 });
  });

  it("a service that is down fails at once: 503 is rejected, a closed socket unreachable", async () => {
    const down = await timed(async () => quoteExternalTax(envFor(await scope({ mode: "down" })), BODY));
    expect(down.result).toEqual({ ok: false, reason: "rejected" });
    expect(down.ms).toBeLessThan(TAX_SERVICE_BUDGET_MS);
    const closed = await timed(async () => quoteExternalTax(envFor(await scope({ mode: "close" })), BODY));
    expect(closed.result).toEqual({ ok: false, reason: "unreachable" });
    expect(closed.ms).toBeLessThan(TAX_SERVICE_BUDGET_MS);
  });

  it("a service that answers after 5 s times out, and the call is back within the 2 s budget", async () => {
    const name = await scope({ mode: "slow", delay_ms: 5_000 });
    const { result, ms } = await timed(() => quoteExternalTax(envFor(name), BODY));
    expect(result).toEqual({ ok: false, reason: "timeout" });
    expect(ms).toBeLessThan(TAX_SERVICE_BUDGET_MS + SLACK_MS);
    // The stub saw the request and never answered it (the client hung up first).
    expect(await stubState(name)).toMatchObject({ requests: 1, answered: 0 });
  });

  it("a body that trickles past the budget times out too (the budget covers reading the answer)", async () => {
    const name = await scope({ mode: "slow_body", delay_ms: 5_000 });
    const { result, ms } = await timed(() => quoteExternalTax(envFor(name), BODY));
    expect(result).toEqual({ ok: false, reason: "timeout" });
    expect(ms).toBeLessThan(TAX_SERVICE_BUDGET_MS + SLACK_MS);
  });

  it("a caller may shorten the budget, never lengthen it", async () => {
    const name = await scope({ mode: "slow", delay_ms: 5_000 });
    const short = await timed(() => quoteExternalTax(envFor(name), BODY, { budgetMs: 200 }));
    expect(short.result).toEqual({ ok: false, reason: "timeout" });
    expect(short.ms).toBeLessThan(200 + SLACK_MS);
    const long = await timed(() => quoteExternalTax(envFor(name), BODY, { budgetMs: 60_000 }));
    expect(long.result).toEqual({ ok: false, reason: "timeout" });
    expect(long.ms).toBeLessThan(TAX_SERVICE_BUDGET_MS + SLACK_MS);
    expect(await quoteExternalTax(envFor(name), BODY, { budgetMs: 0 })).toEqual({ ok: false, reason: "timeout" });
  });

  it.each(["garbage", "missing_sku", "extra_sku", "duplicate_sku", "negative_tax", "fractional_tax"])(
    "a 2xx that breaks the contract (%s) is invalid_response",
    async (mode) => {
      const name = await scope({ mode });
      expect(await quoteExternalTax(envFor(name), BODY)).toEqual({ ok: false, reason: "invalid_response" });
      expect(await stubState(name)).toMatchObject({ requests: 1, bad_signatures: 0 });
    },
  );

  it.each([500, 400, 302, 204])("an answer %i is rejected (redirects are not followed)", async (status) => {
    const name = await scope({ mode: "status", status });
    expect(await quoteExternalTax(envFor(name), BODY)).toEqual({ ok: false, reason: status === 204 ? "invalid_response" : "rejected" });
  });

  it("is not_configured, and asks nothing, without a usable URL or secret or with an unknown TAX_MODE", async () => {
    const name = await scope();
    const cases: Record<string, string>[] = [
      { TAX_SERVICE_URL: "" },
      { TAX_SERVICE_URL: "not a url" },
      { TAX_SERVICE_URL: `http://tax.example/s/${name}/tax` }, // plain http beyond loopback
      { TAX_SERVICE_SECRET: "" },
      { TAX_SERVICE_SECRET: "whsec_not*base64!" },
      { TAX_MODE: "extrenal" },
    ];
    for (const overrides of cases) {
      expect(await quoteExternalTax(envFor(name, overrides), BODY), JSON.stringify(overrides)).toEqual({
        ok: false,
        reason: "not_configured",
      });
    }
    expect((await stubState(name)).requests).toBe(0);
  });

  it("refuses a body that is not a tax request (a bug in the caller, not a service failure)", async () => {
    const name = await scope();
    await expect(quoteExternalTax(envFor(name), "{")).rejects.toThrow(TypeError);
    await expect(quoteExternalTax(envFor(name), JSON.stringify({ lines: [{ amount: 1 }] }))).rejects.toThrow(TypeError);
    await expect(quoteExternalTax(envFor(name), JSON.stringify({ lines: [{ sku: "A" }, { sku: "A" }] }))).rejects.toThrow(TypeError);
    expect((await stubState(name)).requests).toBe(0);
  });

  it("on the stub's plain /tax, a scope named like the SKUs' prefix picks the behaviour (how Worker-level tests isolate)", async () => {
    const prefix = await scope({ mode: "down" });
    const body = taxRequest({ currency: "EUR", lines: [line(`${prefix}-sku`, 100)] }, { country: "DE", region: null, postal_code: null });
    expect(await quoteExternalTax(env, body)).toEqual({ ok: false, reason: "rejected" });
    expect((await stubState(prefix)).requests).toBe(1);
    await fetch(`${STUB}/control/${prefix}`, { method: "PUT", body: JSON.stringify({ rate_bp: 2500 }) }).then((r) => r.body?.cancel());
    expect(await quoteExternalTax(env, body)).toEqual({ ok: true, lines: [{ sku: `${prefix}-sku`, tax: 25 }] });
  });
});
