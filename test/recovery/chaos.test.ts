// The chaos run: a flash sale with checkouts and payments while Postgres is away for a long
// outage, objects evicted at random, every queue message delivered twice, and a restore in the
// middle. Prints the figures: orders paid, in Postgres, archived unlike the order paid, units oversold, stock
// conserved. (Real parts throughout: the outage is the relay cutting every Postgres connection.)
import {
  createExecutionContext,
  createMessageBatch,
  env,
  evictDurableObject,
  getQueueResult,
  runDurableObjectAlarm,
  runInDurableObject,
} from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import type { Order } from "../../src/contracts";
import worker from "../../src/index";
import { cartStub, inventoryStub } from "../../src/objects/stubs";
import { ADMIN, call, createStockedProduct, eventually, newCart, sendPayment, unique } from "../helpers";
import { archivedRows, mismatched } from "../lib/archived-orders";
import { watchTimerErrors } from "../lib/timer-errors";

const SHOPPERS = 40;

async function setOutage(on: boolean): Promise<void> {
  expect(await (await fetch(`http://${env.DATABASE_WS_PROXY}/outage?on=${on ? 1 : 0}`)).json()).toEqual({ outage: on });
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const evict = (stub: DurableObjectStub) => evictDurableObject(stub).catch(() => undefined);

/** A request sent again until it is answered below 500 (a client retrying), at most 5 times. */
async function answered(send: () => Promise<Response>): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const response = await send();
    if (response.status < 500 || attempt === 5) return response;
    await response.body?.cancel();
  }
}

/** The cart's outbox becomes due and its alarm runs (time passing for its resends). */
async function advanceOutbox(cartId: string): Promise<void> {
  const stub = cartStub(env, cartId)!;
  await runInDurableObject(stub, (_i, state) => {
    if (state.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'outbox'").toArray().length === 0) return;
    state.storage.sql.exec("UPDATE outbox SET next_attempt_at = ? WHERE confirmed_at IS NULL", Date.now() - 1);
  });
  if ((await runDurableObjectAlarm(stub).catch(() => null)) !== true) await runInDurableObject(stub, (instance) => instance.alarm());
}

// The outage cuts connections under the Postgres driver: it must fail its queries, never throw
// from a timer (an uncaught exception; src/db/client.ts, coalesceWrites).
const timers = watchTimerErrors();
afterAll(async () => {
  timers.stop();
  await setOutage(false);
});

describe("the chaos run", () => {
  it("sells without oversell, conserves stock and archives every paid order exactly once", async () => {
    const skus = [unique("CH-A"), unique("CH-B"), unique("CH-C")];
    const initial = new Map([
      [skus[0]!, 20],
      [skus[1]!, 12],
      [skus[2]!, 6],
    ]);
    await createStockedProduct(skus.slice(0, 1), 20);
    await createStockedProduct(skus.slice(1, 2), 12);
    await createStockedProduct(skus.slice(2), 6);
    const evictAll = async (carts: string[]) => {
      for (const id of carts) if (Math.random() < 0.5) await evict(cartStub(env, id)!);
      for (const sku of skus) if (Math.random() < 0.5) await evict(inventoryStub(env, sku));
    };

    // Postgres goes away before the sale and stays away through it.
    await setOutage(true);
    const shoppers = await Promise.all(Array.from({ length: SHOPPERS }, () => newCart()));
    const ids = shoppers.map((s) => s.id);
    await Promise.all(
      shoppers.map(async (cart) => {
        for (const sku of Math.random() < 0.6 ? [pick(skus)] : skus.slice(0, 2)) {
          const response = await answered(() =>
            call("PUT", `/v1/carts/${cart.id}/items/${sku}`, {
              body: { quantity: 1 + Math.floor(Math.random() * 3) },
              headers: cart.headers,
            }),
          );
          expect([200, 409]).toContain(response.status);
          await response.body?.cancel();
        }
      }),
    );
    await evictAll(ids);
    const placed = (
      await Promise.all(
        shoppers.map(async (cart) => {
          const key = unique("k");
          const response = await answered(() =>
            call("POST", `/v1/carts/${cart.id}/checkout`, {
              body: { email: "chaos@example.com" },
              headers: { ...cart.headers, "idempotency-key": key },
            }),
          );
          if (response.status === 201) return { cart, order: (await response.json()) as Order };
          await response.body?.cancel();
          return null;
        }),
      )
    ).filter((p) => p !== null);
    await evictAll(ids);
    // Most pay (every webhook delivered twice), some cancel, some walk away.
    const endings = await Promise.all(
      placed.map(async ({ cart, order }) => {
        const roll = Math.random();
        if (roll < 0.15)
          return (await answered(() => call("POST", `/v1/orders/${order.id}/cancel`, { headers: cart.headers }))).status === 200
            ? "cancelled"
            : "?";
        if (roll < 0.25) return "abandoned";
        const id = `msg_${crypto.randomUUID()}`;
        for (let i = 0; i < 2; i++)
          expect(
            (
              await answered(() =>
                sendPayment(order.id, order.total.amount, order.total.currency, { id, paymentId: `pi_${order.id.slice(4, 16)}` }),
              )
            ).status,
          ).toBe(204);
        return "paid";
      }),
    );
    const paidOrders = placed.filter((_, i) => endings[i] === "paid").map((p) => p.order);
    const paidIds = paidOrders.map((o) => o.id).sort();

    // The long outage: queue deliveries (each twice) fail, carts resend on their schedule.
    const bodies = await Promise.all(
      placed
        .filter((_, i) => endings[i] === "paid")
        .map((p) =>
          runInDurableObject(
            cartStub(env, p.cart.id)!,
            (_i, state) =>
              JSON.parse(state.storage.sql.exec<{ body: string }>("SELECT body FROM outbox WHERE kind = 'archive'").one().body) as unknown,
          ),
        ),
    );
    const deliver = async (attempts: number) => {
      const batch = createMessageBatch(
        "edgecart-orders",
        [...bodies, ...bodies].map((body, i) => ({
          id: `chaos-${attempts}-${i}-${crypto.randomUUID()}`,
          timestamp: new Date(),
          attempts,
          body,
        })),
      );
      const ctx = createExecutionContext();
      await worker.queue(batch, env, ctx);
      return getQueueResult(batch, ctx);
    };
    for (let round = 1; round <= 4; round++) {
      expect((await deliver(round)).retryMessages).toHaveLength(bodies.length * 2);
      await evictAll(ids);
      for (const { cart } of placed) await advanceOutbox(cart.id);
    }

    // Postgres is back. A restore runs in the middle of it all: every SKU object is live and
    // ahead of what Postgres saved, so it must change nothing.
    await setOutage(false);
    const levelsOf = async () =>
      Promise.all(skus.map(async (sku) => (await inventoryStub(env, sku).verify()) as { on_hand: number; reserved: number; sold: number }));
    const beforeRestore = await levelsOf();
    const restore = (await (await call("POST", "/v1/admin/maintenance/restore-inventory", { body: { skus }, headers: ADMIN })).json()) as {
      restored: number;
    };
    expect(restore.restored).toBe(0);
    expect((await levelsOf()).map(({ on_hand, sold }) => ({ on_hand, sold }))).toEqual(
      beforeRestore.map(({ on_hand, sold }) => ({ on_hand, sold })),
    );
    await deliver(5);
    await deliver(6);
    for (const { cart } of placed) await advanceOutbox(cart.id);

    const archived = await eventually(
      () => archivedRows(ids.map((id) => `ord_${id}`)),
      (rows) => rows.orders.length >= paidIds.length,
    );
    const archivedIds = archived.orders.map((r) => r.id);
    // Each order and line is one row by its primary key: a redelivery applied twice, or a stale
    // copy, would show as rows unlike the order as paid.
    const unlikePaid = mismatched(paidOrders, archived);
    let oversold = 0;
    let unconserved = 0;
    const final = await Promise.all(skus.map((sku) => inventoryStub(env, sku).verify()));
    final.forEach((check, i) => {
      const stock = initial.get(skus[i]!)!;
      if (check.sold > stock || check.on_hand < 0 || check.reserved > check.on_hand) oversold += Math.max(0, check.sold - stock);
      if (check.on_hand + check.sold !== stock || !check.ok) unconserved++;
    });
    console.log(
      `chaos: ${SHOPPERS} shoppers, ${placed.length} orders placed, paid ${paidIds.length}, in Postgres ${archivedIds.length}, archived unlike the order paid ${unlikePaid.length}, ` +
        `lost ${paidIds.filter((id) => !archivedIds.includes(id)).length}, units oversold ${oversold}, SKUs whose stock was not conserved ${unconserved}, ` +
        `sold ${final.map((c) => c.sold).join("/")} of ${[...initial.values()].join("/")}`,
    );
    expect({ archived: archivedIds, unlikePaid, oversold, unconserved }).toEqual({
      archived: paidIds,
      unlikePaid: [],
      oversold: 0,
      unconserved: 0,
    });
    expect(paidIds.length).toBeGreaterThan(0);
    expect(timers.thrown, "exceptions thrown from timers (uncaught)").toEqual([]);
  }, 240_000);
});
