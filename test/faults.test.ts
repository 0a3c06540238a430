// Fault injection across the purchase flow (add to cart → checkout → pay webhook → outbox → queue
// → Postgres). Rounds of shoppers race for a small stock while objects are evicted, all objects
// are aborted, SKU-object calls crash before or after their effect, holds expire mid-checkout,
// the outbox send dies, and every archival message is delivered again, twice, some to a consumer
// that fails after its insert. After each round: no oversell, stock conserved, ledger verified,
// lines equal holds, and Postgres holds every paid order exactly once and nothing else.
//
// How the faults are injected (one-shot interceptors, evictions, queue deliveries): test/lib/faults.ts;
// the checks after each round and after the run: test/lib/faults-checks.ts.
import { abortAllDurableObjects, env, runInDurableObject } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Order } from "../src/contracts";
import { cartStub, inventoryStub } from "../src/objects/stubs";
import { ADMIN, call, defineSku, newCart, signedWebhookHeaders, unique } from "./helpers";
import {
  chance,
  countFault,
  evictQuietly,
  type InterceptedMethod,
  injection,
  installInterceptors,
  type Mode,
  pick,
  runCartAlarm,
  type Shopper,
  untilAnswered,
} from "./lib/faults";
import { cartOutcomes, checkArchived, checkStock, checkSummary, redeliver, type Summary } from "./lib/faults-checks";

const ROUNDS = 14;
const SHOPPERS = 5;

describe("faults across the purchase flow", () => {
  beforeAll(installInterceptors);
  afterAll(() => vi.restoreAllMocks());

  it(`keeps stock exact and archives every paid order exactly once through ${ROUNDS} rounds of injected faults`, async () => {
    const summary: Summary = { rounds: 0, shoppers: 0, paid: 0, refusedAtCheckout: 0, oversold: 0, lost: 0, mismatched: 0, unconserved: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      summary.rounds++;
      // SKU objects defined as the catalog publisher would (the catalog itself is not under test).
      const skus = [unique("FLT-A"), unique("FLT-B")];
      const initial = new Map<string, number>();
      for (const sku of skus) {
        await defineSku(sku, { price: { amount: 700, currency: "USD" } });
        const onHand = 3 + Math.floor(Math.random() * 4);
        initial.set(sku, onHand);
        expect((await call("PUT", `/v1/admin/inventory/${sku}`, { body: { on_hand: onHand }, headers: ADMIN })).status).toBe(200);
      }
      const adjustments = new Map<string, number>(skus.map((s) => [s, 0]));

      const shoppers: Shopper[] = [];
      for (let i = 0; i < SHOPPERS; i++) {
        // Most shoppers want both SKUs (so a second add extends the first line's hold), in either order.
        const order = chance(0.5) ? skus : [...skus].reverse();
        const wants = (chance(0.75) ? order : order.slice(0, 1)).map((sku) => ({ sku, quantity: 1 + Math.floor(Math.random() * 2) }));
        shoppers.push({
          cart: await newCart(),
          wants,
          checkoutKey: unique("checkout"),
          webhookId: `msg_${crypto.randomUUID()}`,
          ending: pick(["pay", "pay", "pay", "pay_via_alarm", "cancel", "abandon"] as const),
          order: null,
        });
      }
      summary.shoppers += shoppers.length;
      const cartIds = new Set(shoppers.map((s) => s.cart.id));
      const restartAll = async () => {
        for (const s of shoppers) await evictQuietly(cartStub(env, s.cart.id)!);
        for (const sku of skus) await evictQuietly(inventoryStub(env, sku));
      };

      /** Between steps, nothing in flight: evictions, a full abort, a restock. */
      const betweenSteps = async () => {
        if (chance(0.5)) {
          for (const s of shoppers) if (chance(0.5)) await evictQuietly(cartStub(env, s.cart.id)!);
          countFault("evict cart objects");
        }
        if (chance(0.4)) {
          for (const sku of skus) await evictQuietly(inventoryStub(env, sku));
          countFault("evict SKU objects");
        }
        if (chance(0.15)) {
          await abortAllDurableObjects();
          countFault("abort all objects");
        }
        if (chance(0.15)) {
          const sku = pick(skus);
          const response = await call("POST", `/v1/admin/inventory/${sku}/adjustments`, {
            body: { delta: 1, reason: "restock" },
            headers: ADMIN,
          });
          expect(response.status).toBe(200);
          adjustments.set(sku, adjustments.get(sku)! + 1);
        }
      };

      /**
       * Arms one in-step fault at a random early call of the step. The kind rotates with the
       * round so that every kind is exercised in every run; where it lands is random.
       */
      const arm = (kinds: ReadonlyArray<{ method: InterceptedMethod; mode: Mode; grab?: boolean }>) => {
        const kind = kinds[round % kinds.length]!;
        const open = shoppers.filter((s) => s.order === null).map((s) => s.cart.id);
        // hold and commit see a call per shopper and line: land on the first or second; extend and
        // pricing may see only one call in a step.
        const countdown = kind.method === "hold" || kind.method === "commit" ? 1 + Math.floor(Math.random() * 2) : 1;
        injection.armed = { ...kind, countdown, victims: new Set(open.filter(() => chance(0.6))), grab: kind.grab ?? false };
      };
      const crashes = (method: InterceptedMethod) => [
        { method, mode: "crash_before" as const },
        { method, mode: "crash_after" as const },
      ];

      // Step 1 and 2: add each wanted SKU; then the first line's hold comes due for renewal (the
      // second add moved the cart's expiry past it) and each cart's alarm extends it.
      for (let line = 0; line < 2; line++) {
        arm(line === 0 ? crashes("hold") : [...crashes("extend"), ...crashes("hold")]);
        await Promise.all(
          shoppers.map(async (s) => {
            const want = s.wants[line];
            if (!want) return;
            const send = () =>
              call("PUT", `/v1/carts/${s.cart.id}/items/${want.sku}`, { body: { quantity: want.quantity }, headers: s.cart.headers });
            const response = await untilAnswered(send, async () => {
              await evictQuietly(cartStub(env, s.cart.id)!);
              await evictQuietly(inventoryStub(env, want.sku));
            });
            expect([200, 409]).toContain(response.status);
            await response.body?.cancel();
          }),
        );
        if (line === 1) {
          for (const s of shoppers) {
            const first = s.wants[0]?.sku;
            if (!first) continue;
            // The cart now believes its first line's hold lapses in 5 s: renewal is due.
            await runInDurableObject(cartStub(env, s.cart.id)!, (_i, state) => {
              const lines =
                state.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'lines'").toArray().length > 0;
              if (lines)
                state.storage.sql.exec(
                  "UPDATE lines SET hold_expires_at = MIN(hold_expires_at, ?) WHERE sku = ?",
                  Date.now() + 5000,
                  first,
                );
            });
            // A cart remembers its reads until it writes: restart it so it reads the moved clock back.
            await evictQuietly(cartStub(env, s.cart.id)!);
            await runCartAlarm(s.cart.id);
          }
        }
        injection.armed = null;
        await betweenSteps();
      }

      // Step 3: checkout, retried with the same Idempotency-Key after a crash.
      arm([
        { method: "pricing", mode: "expire_holds", grab: true },
        ...crashes("hold"),
        { method: "pricing", mode: "expire_holds", grab: false },
      ]);
      await Promise.all(
        shoppers.map(async (s) => {
          const send = () =>
            call("POST", `/v1/carts/${s.cart.id}/checkout`, {
              body: { email: "fault@example.com" },
              headers: { ...s.cart.headers, "idempotency-key": s.checkoutKey },
            });
          const response = await untilAnswered(send, restartAll);
          if (response.status === 201) s.order = (await response.json()) as Order;
          else {
            expect(response.status).toBe(409);
            const code = ((await response.json()) as { code: string }).code;
            expect(["cart_empty", "insufficient_stock"]).toContain(code);
            if (code === "insufficient_stock") summary.refusedAtCheckout++;
          }
        }),
      );
      injection.armed = null;
      await betweenSteps();

      // Step 4: pay (the provider redelivers until 2xx; or the object's alarm finishes the payment), cancel, or walk away.
      arm(crashes("commit"));
      injection.sendCrashArmed = round % 2 === 1;
      await Promise.all(
        shoppers.map(async (s) => {
          if (s.order === null) return;
          if (s.ending === "cancel") {
            const response = await untilAnswered(
              () => call("POST", `/v1/orders/${s.order!.id}/cancel`, { headers: s.cart.headers }),
              restartAll,
            );
            expect(response.status).toBe(200);
            await response.body?.cancel();
            return;
          }
          if (s.ending === "abandon") return;
          const body = JSON.stringify({
            type: "payment.succeeded",
            data: {
              order_id: s.order.id,
              amount: s.order.total.amount,
              currency: s.order.total.currency,
              payment_id: `pi_${s.cart.id.slice(0, 12)}`,
            },
          });
          const send = () => call("POST", "/v1/webhooks/payments", { body, headers: signedWebhookHeaders(body, { id: s.webhookId }) });
          const first = await send();
          if (first.status >= 500) {
            await first.body?.cancel();
            await restartAll().catch(() => undefined);
            // An interrupted payment is finished by the cart's alarm, or by the provider's redelivery.
            if (s.ending === "pay_via_alarm") await runCartAlarm(s.cart.id);
          } else {
            expect(first.status).toBe(204);
          }
          const again = await untilAnswered(send, restartAll);
          expect(again.status).toBe(204);
        }),
      );
      injection.armed = null;
      injection.sendCrashArmed = false;
      await betweenSteps();

      // Quiesce: every cart's alarm runs (interrupted payments, unsent outbox, released holds), and
      // a no-op change on each open cart repairs lines whose hold change was interrupted.
      for (const s of shoppers) {
        await runCartAlarm(s.cart.id);
        if (s.order === null) {
          const touch = await call("DELETE", `/v1/carts/${s.cart.id}/items/NOT-IN-CART`, { headers: s.cart.headers });
          expect(touch.status).toBe(200);
          await touch.body?.cancel();
        }
      }

      const { finalOrders, outboxBodies } = await cartOutcomes(shoppers);
      const paid = [...finalOrders.values()].filter((o) => o.status === "paid");
      summary.paid += paid.length;
      for (const s of shoppers) {
        if (s.order && (s.ending === "pay" || s.ending === "pay_via_alarm")) expect(finalOrders.get(s.cart.id)?.status).toBe("paid");
        if (s.order && s.ending === "cancel") expect(finalOrders.get(s.cart.id)?.status).toBe("cancelled");
        if (s.order && s.ending === "abandon") expect(finalOrders.get(s.cart.id)?.status).toBe("pending_payment");
      }

      await redeliver(outboxBodies);

      const archived = await checkArchived(shoppers, paid, summary);
      await checkStock({ skus, initial, adjustments, shoppers, cartIds }, paid, finalOrders, archived, summary);
    }

    checkSummary(summary, ROUNDS);
  }, 180_000);
});
