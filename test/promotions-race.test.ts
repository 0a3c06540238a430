/**
 * The code race of a flash sale: many carts race for a code with a usage limit, give some back,
 * race again, then check out and pay. The limit is the oversell race applied to coupons; the
 * promotion's object serialises it the way a SKU object serialises stock.
 */
import { describe, expect, it } from "vitest";
import type { Cart, Order } from "../src/contracts";
import { call, newCart, sendPayment, stockedSku } from "./helpers";
import { checkout, enterCode, promotion, publish, putLine, redemptions, removeCode } from "./lib/promotions";

const CARTS = 500;
const LIMIT = 100;

/** Runs `work` over `items`, `width` at a time (every cart races within a batch; batches keep the runtime responsive). */
async function inBatches<T, R>(items: readonly T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += width) results.push(...(await Promise.all(items.slice(i, i + width).map(work))));
  return results;
}

describe("a limited code under a race", () => {
  it(`${CARTS} carts race for a code limited to ${LIMIT}: exactly ${LIMIT} discounted paid orders, nothing left held`, {
    timeout: 180_000,
  }, async () => {
    const sku = await stockedSku("RACE", CARTS * 2, { price: { amount: 1000, currency: "USD" } });
    const code = await publish(promotion({ usage_limit: LIMIT, value: { kind: "percent", basis_points: 2000 } }));
    const carts = await inBatches(Array.from({ length: CARTS }), 50, async () => {
      const cart = await newCart();
      await putLine(cart, sku, 1);
      return cart;
    });

    // Round one: every cart at once.
    const first = await Promise.all(carts.map((cart) => enterCode(cart, code.code!)));
    const statuses = first.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(LIMIT);
    expect(statuses.filter((s) => s === 409)).toHaveLength(CARTS - LIMIT);
    for (const refused of first.filter((r) => r.status === 409).slice(0, 5))
      expect(((await refused.json()) as { reason: string }).reason).toBe("usage_limit_reached");
    expect(await redemptions(code)).toEqual({ held: LIMIT, committed: 0 });

    // Ten winners remove the code, ten check out and cancel: twenty redemptions go back.
    const winners = carts.filter((_, i) => statuses[i] === 200);
    const losers = carts.filter((_, i) => statuses[i] !== 200);
    await Promise.all(winners.slice(0, 10).map(async (cart) => expect((await removeCode(cart, code.code!)).status).toBe(200)));
    await Promise.all(
      winners.slice(10, 20).map(async (cart) => {
        const order = (await (await checkout(cart)).json()) as Order;
        expect(order.discount_total.amount).toBe(200);
        expect((await call("POST", `/v1/orders/${order.id}/cancel`, { headers: cart.headers })).status).toBe(200);
      }),
    );
    expect(await redemptions(code)).toEqual({ held: LIMIT - 20, committed: 0 });

    // Round two: the losers race for the twenty.
    const second = await Promise.all(losers.map((cart) => enterCode(cart, code.code!)));
    expect(second.filter((r) => r.status === 200)).toHaveLength(20);

    // Every cart that holds the code checks out and pays what its order says, and so do fifty
    // carts that lost both rounds (full price: the limit is not theirs to take at checkout either).
    const holders = [...winners.slice(20), ...losers.filter((_, i) => second[i]!.status === 200)];
    const others = losers.filter((_, i) => second[i]!.status !== 200).slice(0, 50);
    const orders = await inBatches([...holders, ...others], 25, async (cart) => {
      const response = await checkout(cart);
      expect(response.status).toBe(201);
      const order = (await response.json()) as Order;
      expect((await sendPayment(order.id, order.total.amount, "USD")).status).toBe(204);
      return order;
    });
    const discounted = orders.filter((order) => order.discount_total.amount > 0);
    expect(discounted).toHaveLength(LIMIT);
    expect(new Set(discounted.map((order) => order.total.amount))).toEqual(new Set([800]));
    expect(orders.filter((order) => order.discount_total.amount === 0).map((order) => order.total.amount)).toEqual(Array(50).fill(1000));
    expect(await redemptions(code)).toEqual({ held: 0, committed: LIMIT });

    // A loser that never checked out cannot take the code now either.
    const late = losers.filter((_, i) => second[i]!.status !== 200).at(-1)!;
    expect(((await (await enterCode(late, code.code!)).json()) as { reason: string }).reason).toBe("usage_limit_reached");
    const view = (await (await call("GET", `/v1/carts/${late.id}`, { headers: late.headers })).json()) as Cart;
    expect(view.promotion_codes).toEqual([]);
    console.info(
      JSON.stringify({
        code_race: {
          carts: CARTS,
          usage_limit: LIMIT,
          first_round_won: LIMIT,
          given_back: 20,
          second_round_won: 20,
          paid_orders: orders.length,
          full_price_paid: 50,
          discounted_paid: discounted.length,
          held_after: 0,
          committed: LIMIT,
        },
      }),
    );
  });
});
