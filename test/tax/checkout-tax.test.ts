// Checkout with TAX_MODE=external against the real tax service stub on loopback (this project's
// own, test/global-setup.ts). Each test registers a stub scope named like its SKUs' prefix, so the
// stub's plain /tax endpoint picks that test's behaviour (scripts/tax-stub.mjs).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { settings } from "../../src/config";
import type { Cart, Order } from "../../src/contracts";
import { call, expectProblem, newCart, sendPayment, stockedSku, unique } from "../helpers";
import { checkout, putLine } from "../lib/promotions";

const STUB = new URL("/", settings(env).taxServiceUrl!).toString().replace(/\/$/, "");
const eur = (amount: number) => ({ amount, currency: "EUR" });

/** A stub scope with `behaviour`, and a SKU named under it (stock 10, `price` EUR). */
async function scoped(behaviour: Record<string, unknown>, price = 1050) {
  const scope = unique("TX");
  const response = await fetch(`${STUB}/control/${scope}`, { method: "PUT", body: JSON.stringify(behaviour) });
  expect(response.status).toBe(200);
  await response.body?.cancel();
  const sku = await stockedSku(scope, 10, { price: eur(price) });
  return {
    scope,
    sku,
    setBehaviour: (next: Record<string, unknown>) =>
      fetch(`${STUB}/control/${scope}`, { method: "PUT", body: JSON.stringify(next) }).then((r) => r.body?.cancel()),
  };
}

async function requests(scope: string): Promise<number> {
  return ((await (await fetch(`${STUB}/control/${scope}`)).json()) as { requests: number }).requests;
}

async function shipTo(cart: Awaited<ReturnType<typeof newCart>>, country = "DE") {
  const response = await call("PUT", `/v1/carts/${cart.id}/ship-to`, { body: { country, postal_code: "10115" }, headers: cart.headers });
  expect(response.status).toBe(200);
  return (await response.json()) as Cart;
}

async function view(cart: Awaited<ReturnType<typeof newCart>>) {
  return (await (await call("GET", `/v1/carts/${cart.id}`, { headers: cart.headers })).json()) as Cart;
}

describe("checkout with the external tax service", () => {
  it("adds the quoted tax, asks once per cart version, and the order charges it", async () => {
    const { scope, sku } = await scoped({ rate_bp: 1900 });
    const cart = await newCart({ currency: "EUR" });
    const added = await putLine(cart, sku, 1);
    expect(added.tax_status).toBe("pending");
    await shipTo(cart);
    const shown = await view(cart);
    // 1050 × 19 % = 199.5 → 200 (half to even).
    expect(shown).toMatchObject({
      tax_status: "calculated",
      tax_total: eur(200),
      total: eur(1250),
      tax_inclusive: false,
      ship_to: { country: "DE", region: null, postal_code: "10115" },
    });
    expect(shown.items[0]!.tax).toEqual(eur(200));
    await view(cart);
    expect(await requests(scope)).toBe(1);
    const placed = await checkout(cart);
    expect(placed.status).toBe(201);
    const order = (await placed.json()) as Order;
    expect(order).toMatchObject({ subtotal: eur(1050), tax_total: eur(200), total: eur(1250) });
    expect(await requests(scope)).toBe(1);
    expect((await sendPayment(order.id, 1250, "EUR")).status).toBe(204);
  });

  it("needs a destination first: 409 ship_to_required, and the cart says pending", async () => {
    const { sku } = await scoped({});
    const cart = await newCart({ currency: "EUR" });
    await putLine(cart, sku, 1);
    expect((await view(cart)).tax_status).toBe("pending");
    await expectProblem(await checkout(cart), 409, "ship_to_required");
  });

  for (const [label, behaviour] of [
    ["down", { mode: "down" }],
    ["slower than 2 s", { mode: "slow", delay_ms: 5000 }],
  ] as const) {
    it(`answers 503 tax_unavailable with Retry-After and creates no order when the service is ${label}; never zero tax`, async () => {
      const { sku, setBehaviour } = await scoped(behaviour);
      const cart = await newCart({ currency: "EUR" });
      await putLine(cart, sku, 2);
      const seen = await shipTo(cart);
      const started = Date.now();
      const refused = await checkout(cart, `same-key-${cart.id.slice(0, 8)}`);
      expect(Date.now() - started).toBeLessThan(10_000);
      await expectProblem(refused, 503, "tax_unavailable");
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
      await expectProblem(await call("GET", `/v1/orders/ord_${cart.id}`, { headers: cart.headers }), 404, "not_found");
      const after = await view(cart);
      expect(after).toMatchObject({ status: "open", version: seen.version, tax_status: "unavailable" });
      // The service recovers: the same Idempotency-Key now places the order, with its tax.
      await setBehaviour({ mode: "ok", rate_bp: 1000 });
      const placed = await checkout(cart, `same-key-${cart.id.slice(0, 8)}`);
      expect(placed.status).toBe(201);
      expect(((await placed.json()) as Order).tax_total).toEqual(eur(210));
    });
  }
});
