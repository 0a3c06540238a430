// Checkout with TAX_MODE=rates: the rate of the cart's destination country, published to the edge
// (KV, as the admin API publishes it), contained in the prices (inclusive) or added to them.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Cart, Order } from "../../src/contracts";
import { writeTaxRates } from "../../src/services/pricing-settings";
import { call, expectProblem, newCart, sendPayment, stockedSku } from "../helpers";
import { checkout, enterCode, promotion, publish, putLine } from "../lib/promotions";

async function shipTo(cart: Awaited<ReturnType<typeof newCart>>, country: string) {
  const response = await call("PUT", `/v1/carts/${cart.id}/ship-to`, { body: { country }, headers: cart.headers });
  expect(response.status).toBe(200);
  return (await response.json()) as Cart;
}

describe("tax by the rate table", () => {
  it("contains inclusive tax, adds exclusive tax, taxes after discounts, and charges it at checkout", async () => {
    await writeTaxRates(env.CATALOG, { DE: { basis_points: 1900, inclusive: true }, US: { basis_points: 725, inclusive: false } });
    const sku = await stockedSku("RATE", 20, { price: { amount: 1190, currency: "EUR" } });
    const de = await newCart({ currency: "EUR" });
    expect((await putLine(de, sku, 1)).tax_status).toBe("pending");
    await expectProblem(await checkout(de), 409, "ship_to_required");
    // Inclusive: round_half_even(1190 × 0.19 / 1.19) = 190, contained in the total.
    expect(await shipTo(de, "DE")).toMatchObject({
      tax_status: "calculated",
      tax_inclusive: true,
      tax_total: { amount: 190 },
      total: { amount: 1190 },
    });

    const us = await newCart({ currency: "EUR" });
    await putLine(us, sku, 1);
    const code = await publish(promotion({ value: { kind: "fixed", amounts: { EUR: 190 } } }));
    expect((await enterCode(us, code.code!)).status).toBe(200);
    // Exclusive, on what is left after the discount: (1190 − 190) × 7.25 % = 72.5 → 72 (half to even).
    expect(await shipTo(us, "US")).toMatchObject({
      tax_inclusive: false,
      discount_total: { amount: 190 },
      tax_total: { amount: 72 },
      total: { amount: 1072 },
    });
    const order = (await (await checkout(us)).json()) as Order;
    expect(order).toMatchObject({
      subtotal: { amount: 1190 },
      discount_total: { amount: 190 },
      tax_total: { amount: 72 },
      total: { amount: 1072 },
    });
    expect((await sendPayment(order.id, 1072, "EUR")).status).toBe(204);

    // A country with no rate in the table is not taxed there (the table lists where tax is due).
    const fr = await newCart({ currency: "EUR" });
    await putLine(fr, sku, 1);
    expect(await shipTo(fr, "FR")).toMatchObject({ tax_status: "calculated", tax_total: { amount: 0 }, total: { amount: 1190 } });
  });
});
