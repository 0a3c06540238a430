// Fault injection across the purchase flow (add to cart → checkout → pay webhook → outbox → queue
// → Postgres). Rounds of shoppers race for a small stock while objects are evicted, all objects
// are aborted, SKU-object calls crash before or after their effect, holds expire mid-checkout,
// the outbox send dies, and every archival message is delivered again, twice, some to a consumer
// that fails after its insert. After each round: no oversell, stock conserved, ledger verified,
// lines equal holds, and Postgres holds every paid order exactly once and nothing else.
//
// How the faults are injected (one-shot interceptors, evictions, queue deliveries): test/lib/faults.ts.
import { abortAllDurableObjects, env, runInDurableObject } from "cloudflare:test";
import { inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Order, OrderArchivedV1 } from "../src/contracts";
import { withDb } from "../src/db/client";
import { orderLines, orders } from "../src/db/schema";
import { cartStub, inventoryStub } from "../src/objects/stubs";
import { ADMIN, accessOf, call, defineSku, eventually, newCart, signedWebhookHeaders, unique } from "./helpers";
import {
  chance,
  countFault,
  deliverFailingAfterInsert,
  deliverUntilAcked,
  evictQuietly,
  faults,
  holdOf,
  type InterceptedMethod,
  injection,
  installInterceptors,
  type Mode,
  pick,
  runCartAlarm,
  type Shopper,
  skewed,
  untilAnswered,
} from "./lib/faults";

const ROUNDS = 14;
const SHOPPERS = 5;

describe("faults across the purchase flow", () => {
  beforeAll(installInterceptors);
  afterAll(() => vi.restoreAllMocks());

  it(`keeps stock exact and archives every paid order exactly once through ${ROUNDS} rounds of injected faults`, async () => {
    const summary = { rounds: 0, shoppers: 0, paid: 0, refusedAtCheckout: 0, oversold: 0, lost: 0, duplicates: 0, unconserved: 0 };
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

      // What each cart object says happened.
      const finalOrders = new Map<string, Order>();
      const outboxBodies: OrderArchivedV1[] = [];
      for (const s of shoppers) {
        const stub = cartStub(env, s.cart.id)!;
        const order = await stub.orderForAdmin();
        if (order) finalOrders.set(s.cart.id, order);
        const outbox = await runInDurableObject(stub, (_i, state) => {
          // The order's tables exist once an order was placed.
          const placed =
            state.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outbox'").toArray().length > 0;
          return placed
            ? state.storage.sql.exec<{ body: string; sent_at: number | null }>("SELECT body, sent_at FROM outbox").toArray()
            : [];
        });
        // 0 lost on the real path: the outbox sent everything it holds.
        expect(outbox.filter((m) => m.sent_at === null)).toEqual([]);
        for (const m of outbox) outboxBodies.push(JSON.parse(m.body) as OrderArchivedV1);
      }
      const paid = [...finalOrders.values()].filter((o) => o.status === "paid");
      summary.paid += paid.length;
      for (const s of shoppers) {
        if (s.order && (s.ending === "pay" || s.ending === "pay_via_alarm")) expect(finalOrders.get(s.cart.id)?.status).toBe("paid");
        if (s.order && s.ending === "cancel") expect(finalOrders.get(s.cart.id)?.status).toBe("cancelled");
        if (s.order && s.ending === "abandon") expect(finalOrders.get(s.cart.id)?.status).toBe("pending_payment");
      }

      // Queue faults: a consumer that dies after its insert, then every message delivered twice more.
      if (outboxBodies.length > 0) {
        if (chance(0.6)) {
          expect(await deliverFailingAfterInsert(outboxBodies), "the batch must end unacknowledged so Queues redeliver it").toBe(true);
          countFault("consumer failed after its insert");
        }
        for (let i = 0; i < 2; i++) {
          await deliverUntilAcked(outboxBodies, i + 2);
          countFault("queue message delivered again");
        }
      }

      // Postgres: every paid order exactly once, lines included; no order that was not paid.
      const roundOrderIds = shoppers.map((s) => `ord_${s.cart.id}`);
      const paidIds = paid.map((o) => o.id).sort();
      // Archival is asynchronous (the real queue delivery may still be running): read until settled.
      const archived = await eventually(
        () =>
          withDb(env, async (db) => ({
            orders: await db.select({ id: orders.id }).from(orders).where(inArray(orders.id, roundOrderIds)),
            lines: await db
              .select({ orderId: orderLines.orderId, sku: orderLines.sku, quantity: orderLines.quantity })
              .from(orderLines)
              .where(inArray(orderLines.orderId, roundOrderIds)),
          })),
        (r) => JSON.stringify(r.orders.map((o) => o.id).sort()) === JSON.stringify(paidIds),
        20,
      );
      const archivedIds = archived.orders.map((r) => r.id).sort();
      summary.lost += paidIds.filter((id) => !archivedIds.includes(id)).length;
      summary.duplicates += archivedIds.length - new Set(archivedIds).size;
      expect(archivedIds).toEqual(paidIds);
      expect(archived.lines.length).toBe(paid.reduce((n, o) => n + o.lines.length, 0));

      // Stock: no oversell, conserved, ledger verified, and every cart's holds match its state.
      for (const sku of skus) {
        const check = await inventoryStub(env, sku).verify();
        expect(check.ok, JSON.stringify(check)).toBe(true);
        const soldToOrders = paid
          .flatMap((o) => o.lines)
          .filter((l) => l.sku === sku)
          .reduce((n, l) => n + l.quantity, 0);
        const soldInPostgres = archived.lines.filter((l) => l.sku === sku).reduce((n, l) => n + l.quantity, 0);
        const stock = initial.get(sku)! + adjustments.get(sku)!;
        if (check.on_hand < 0 || check.sold > stock || check.sold !== soldToOrders) summary.oversold++;
        if (check.on_hand + check.sold !== stock) summary.unconserved++;
        expect({ sold: check.sold, inPostgres: soldInPostgres, onHandPlusSold: check.on_hand + check.sold }).toEqual({
          sold: soldToOrders,
          inPostgres: soldToOrders,
          onHandPlusSold: stock,
        });
        expect(check.on_hand).toBeGreaterThanOrEqual(check.reserved);

        for (const s of shoppers) {
          const order = finalOrders.get(s.cart.id);
          const held = await holdOf(sku, s.cart.id);
          if (order) {
            const line = order.lines.find((l) => l.sku === sku)?.quantity ?? 0;
            expect(held, `${order.status} order ${order.id} on ${sku}`).toBe(order.status === "pending_payment" ? line : 0);
          } else {
            const cart = await cartStub(env, s.cart.id)!.view(await accessOf(s.cart));
            if (!cart.ok) throw new Error("cart vanished");
            const line = cart.cart.items.find((i) => i.sku === sku)?.quantity ?? 0;
            if (skewed.has(s.cart.id)) expect(held).toBeLessThanOrEqual(line);
            else expect(held, `open cart ${s.cart.id} on ${sku}`).toBe(line);
          }
        }
        // Anything else held belongs to the competitor a fault let in.
        const snapshot = await inventoryStub(env, sku).snapshot();
        if (!snapshot.ok) throw new Error(snapshot.reason);
        for (const hold of snapshot.snapshot.holds)
          expect(cartIds.has(hold.owner_id) || hold.owner_id === "competitor", `unexpected hold ${hold.hold_id}`).toBe(true);
      }
    }

    const total = [...faults.values()].reduce((a, b) => a + b, 0);
    console.log(
      `faults: ${total} injected over ${summary.rounds} rounds (${summary.shoppers} shoppers, ${summary.paid} orders paid, ${summary.refusedAtCheckout} checkouts refused after their holds lapsed): ${JSON.stringify(Object.fromEntries([...faults].sort()))}; ` +
        `oversold ${summary.oversold}, stock not conserved ${summary.unconserved}, lost orders ${summary.lost}, duplicate orders ${summary.duplicates}`,
    );
    expect({ oversold: summary.oversold, unconserved: summary.unconserved, lost: summary.lost, duplicates: summary.duplicates }).toEqual({
      oversold: 0,
      unconserved: 0,
      lost: 0,
      duplicates: 0,
    });
    expect(summary.paid).toBeGreaterThan(0);
    expect(total).toBeGreaterThanOrEqual(ROUNDS * 4);
    for (const kind of [
      "crash before hold",
      "crash after hold",
      "crash before extend",
      "crash after extend",
      "crash before commit",
      "crash after commit",
      "crash between paid commit and outbox send",
      "holds expired during checkout",
      "evict cart objects",
      "evict SKU objects",
      "abort all objects",
      "consumer failed after its insert",
      "queue message delivered again",
    ]) {
      expect(faults.get(kind) ?? 0, `fault kind "${kind}" never fired`).toBeGreaterThan(0);
    }
  }, 180_000);
});
