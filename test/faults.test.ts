// Fault injection across the purchase flow (add to cart → checkout → pay webhook → outbox → queue
// → Postgres). Rounds of shoppers race for a small stock while objects are evicted, all objects
// are aborted, SKU-object calls crash before or after their effect, holds expire mid-checkout,
// the outbox send dies, and every archival message is delivered again, twice, some to a consumer
// that fails after its insert. After each round: no oversell, stock conserved, ledger verified,
// lines equal holds, and Postgres holds every paid order exactly once and nothing else.
//
// How crashes are injected: a one-shot interceptor on the SKU object's methods throws before or
// after the method's effect (the caller never learns the answer), then the objects involved are
// evicted, losing their memory as after a restart. (`ctx.abort()` inside runInDurableObject is no
// use here: the pool reports its broken output gate as an uncaught error that fails the test.)
//
// workers-sdk #11031 (concurrent Durable Object calls that throw inside the test pool): the
// throwing faults are one-shot (one call throws, then the interceptor disarms), so at most one
// injected exception is in flight at a time, and abortAllDurableObjects() runs only between
// steps, when no request is in flight, never under concurrent calls.
import { abortAllDurableObjects, createExecutionContext, createMessageBatch, env, evictDurableObject, getQueueResult, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Order, OrderArchivedV1 } from "../src/contracts";
import { withDb } from "../src/db/client";
import { orderLines, orders } from "../src/db/schema";
import { sha256Hex } from "../src/platform/crypto";
import worker from "../src/index";
import { InventoryObject } from "../src/objects/inventory";
import { OrderDesk } from "../src/objects/order-desk";
import { cartStub, inventoryStub } from "../src/objects/stubs";
import { ADMIN, accessOf, call, defineSku, eventually, newCart, signedWebhookHeaders, unique } from "./helpers";

const ROUNDS = 14;
const SHOPPERS = 5;

// ---- fault accounting ---------------------------------------------------------------------------

const faults = new Map<string, number>();
function countFault(label: string): void {
  faults.set(label, (faults.get(label) ?? 0) + 1);
}

// ---- one-shot interceptors inside the objects ---------------------------------------------------

type InterceptedMethod = "hold" | "extend" | "commit" | "release" | "pricing";
type Mode = "crash_before" | "crash_after" | "expire_holds";

/** The armed fault: the `countdown`-th call of `method` (any SKU object) fails as `mode` says. */
let armed: { method: InterceptedMethod; countdown: number; mode: Mode; victims: ReadonlySet<string>; grab: boolean } | null = null;
/** The armed outbox fault: the next drainOutbox dies before sending (after the paid commit). */
let sendCrashArmed = false;
/** Carts whose holds a fault expired behind their back (their lines may exceed their holds). */
const skewed = new Set<string>();

const HOLD_TTL_MS = 900_000;

/** SQL of the SKU object the interceptor runs in (the DO's `ctx` is protected in its type). */
function sqlOf(instance: InventoryObject): SqlStorage {
  return (Reflect.get(instance, "ctx") as DurableObjectState).storage.sql;
}

function installInterceptors(): void {
  const proto = InventoryObject.prototype as unknown as Record<InterceptedMethod, (...args: unknown[]) => Promise<unknown>>;
  const originals = Object.fromEntries((["hold", "extend", "commit", "release", "pricing", "snapshot"] as const).map((m) => [m, (proto as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[m]!]));
  for (const method of ["hold", "extend", "commit", "release", "pricing"] as const) {
    vi.spyOn(proto, method).mockImplementation(async function (this: InventoryObject, ...args: unknown[]) {
      const original = originals[method]!;
      const fault = armed;
      if (fault === null || fault.method !== method || --fault.countdown > 0) return original.apply(this, args);
      armed = null;
      switch (fault.mode) {
        case "crash_before":
          countFault(`crash before ${method}`);
          throw new Error(`injected fault: object crashed before ${method}`);
        case "crash_after":
          await original.apply(this, args);
          countFault(`crash after ${method}`);
          throw new Error(`injected fault: object crashed after ${method}, its answer lost`);
        case "expire_holds": {
          // The SKU object's clock passes the cart holds' expiry while a checkout is running
          // (clock skew between objects); optionally another shopper grabs what was freed. The
          // object keeps its state in memory, so the lapse goes through its own release path.
          const now = Date.now();
          for (const owner of fault.victims) {
            const lapsing = sqlOf(this).exec<{ hold_id: string }>("SELECT hold_id FROM holds WHERE owner_id = ? AND expires_at < ?", owner, now + HOLD_TTL_MS + 60_000).toArray();
            for (const { hold_id } of lapsing) await originals.release!.apply(this, [hold_id]);
            if (lapsing.length > 0) skewed.add(owner);
          }
          const snapshot = (await originals.snapshot!.apply(this, [])) as { ok: boolean; snapshot?: { available: number } };
          const free = snapshot.snapshot?.available ?? 0;
          if (fault.grab && free > 0) await originals.hold!.apply(this, [`competitor:${crypto.randomUUID()}`, "competitor", free, 900, {}]);
          countFault("holds expired during checkout");
          return original.apply(this, args);
        }
      }
    });
  }
  const drain = OrderDesk.prototype.drainOutbox;
  vi.spyOn(OrderDesk.prototype, "drainOutbox").mockImplementation(async function (this: OrderDesk, now: number) {
    if (sendCrashArmed) {
      sendCrashArmed = false;
      countFault("crash between paid commit and outbox send");
      throw new Error("injected fault: worker died before the outbox send");
    }
    return drain.call(this, now);
  });
}

// ---- shoppers -----------------------------------------------------------------------------------

type CartHandle = Awaited<ReturnType<typeof newCart>>;

interface Shopper {
  cart: CartHandle;
  wants: Array<{ sku: string; quantity: number }>;
  checkoutKey: string;
  webhookId: string;
  ending: "pay" | "pay_via_alarm" | "cancel" | "abandon";
  order: Order | null;
}

/** Sends a request until it gets a non-5xx answer (a client retrying after a crash), at most 6 times. */
async function untilAnswered(send: () => Promise<Response>, onFailure: () => Promise<void>): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const response = await send();
    if (response.status < 500) return response;
    await response.body?.cancel();
    expect(attempt, "a request kept failing after the faults stopped").toBeLessThan(6);
    await onFailure();
  }
}

async function evictQuietly(stub: DurableObjectStub): Promise<void> {
  // Rejects when the object is not running; nothing to evict then.
  await evictDurableObject(stub).catch(() => undefined);
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const chance = (p: number) => Math.random() < p;

/**
 * Runs a cart's alarm now. An alarm that throws (an injected fault hit it) is retried, as the
 * runtime retries failed alarms.
 */
async function runCartAlarm(cartId: string): Promise<void> {
  const stub = cartStub(env, cartId)!;
  const ran = await runDurableObjectAlarm(stub).catch(() => null);
  if (ran === null) await runInDurableObject(stub, (instance) => instance.alarm());
}

async function holdOf(sku: string, cartId: string): Promise<number> {
  return (await inventoryStub(env, sku).holdOf(`cart:${cartId}:${sku}`)).quantity;
}

/**
 * Delivers `bodies` to the order consumer as one batch and redelivers whatever it asks to retry,
 * as Queues would, until every message is acked. Returns how many deliveries it took.
 */
async function deliverUntilAcked(bodies: unknown[], attempts: number): Promise<number> {
  let pending = bodies;
  let deliveries = 0;
  while (pending.length > 0) {
    expect(deliveries, "the consumer kept asking for redelivery").toBeLessThan(6);
    const batch = createMessageBatch("edgecart-orders", pending.map((body, i) => ({ id: `m-${crypto.randomUUID()}-${i}`, timestamp: new Date(), attempts: attempts + deliveries, body })));
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const acked = new Set((await getQueueResult(batch, ctx)).explicitAcks);
    pending = pending.filter((_, i) => !acked.has(batch.messages[i]!.id));
    deliveries++;
  }
  return deliveries;
}

/**
 * A delivery that dies after the consumer's Postgres insert committed: every ack fails (as if the
 * invocation was killed right there). Returns whether the batch ended unacknowledged — the
 * handler threw or asked for every message again — so that Queues would redeliver it.
 */
async function deliverFailingAfterInsert(bodies: unknown[]): Promise<boolean> {
  let acked = 0;
  let retried = 0;
  const messages = bodies.map((body, i) => ({
    id: `m-${crypto.randomUUID()}-${i}`,
    timestamp: new Date(),
    attempts: 1,
    body,
    ack() {
      throw new Error("injected fault: consumer died after its insert, before the ack");
    },
    retry() {
      retried++;
    },
  }));
  const batch = {
    queue: "edgecart-orders",
    messages,
    ackAll() {
      acked++;
    },
    retryAll() {
      retried += messages.length;
    },
  } as unknown as MessageBatch;
  try {
    await worker.queue(batch, env, createExecutionContext());
  } catch {
    return acked === 0;
  }
  return acked === 0 && retried >= messages.length;
}

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
          const response = await call("POST", `/v1/admin/inventory/${sku}/adjustments`, { body: { delta: 1, reason: "restock" }, headers: ADMIN });
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
        armed = { ...kind, countdown, victims: new Set(open.filter(() => chance(0.6))), grab: kind.grab ?? false };
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
            const send = () => call("PUT", `/v1/carts/${s.cart.id}/items/${want.sku}`, { body: { quantity: want.quantity }, headers: s.cart.headers });
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
              const lines = state.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'lines'").toArray().length > 0;
              if (lines) state.storage.sql.exec("UPDATE lines SET hold_expires_at = MIN(hold_expires_at, ?) WHERE sku = ?", Date.now() + 5000, first);
            });
            await runCartAlarm(s.cart.id);
          }
        }
        armed = null;
        await betweenSteps();
      }

      // Step 3: checkout, retried with the same Idempotency-Key after a crash.
      arm([{ method: "pricing", mode: "expire_holds", grab: true }, ...crashes("hold"), { method: "pricing", mode: "expire_holds", grab: false }]);
      await Promise.all(
        shoppers.map(async (s) => {
          const send = () => call("POST", `/v1/carts/${s.cart.id}/checkout`, { body: { email: "fault@example.com" }, headers: { ...s.cart.headers, "idempotency-key": s.checkoutKey } });
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
      armed = null;
      await betweenSteps();

      // Step 4: pay (the provider redelivers until 2xx; or the object's alarm finishes the payment), cancel, or walk away.
      arm(crashes("commit"));
      sendCrashArmed = round % 2 === 1;
      await Promise.all(
        shoppers.map(async (s) => {
          if (s.order === null) return;
          if (s.ending === "cancel") {
            const response = await untilAnswered(() => call("POST", `/v1/orders/${s.order!.id}/cancel`, { headers: s.cart.headers }), restartAll);
            expect(response.status).toBe(200);
            await response.body?.cancel();
            return;
          }
          if (s.ending === "abandon") return;
          const body = JSON.stringify({ type: "payment.succeeded", data: { order_id: s.order.id, amount: s.order.total.amount, currency: s.order.total.currency, payment_id: `pi_${s.cart.id.slice(0, 12)}` } });
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
      armed = null;
      sendCrashArmed = false;
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
          const placed = state.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outbox'").toArray().length > 0;
          return placed ? state.storage.sql.exec<{ body: string; sent_at: number | null }>("SELECT body, sent_at FROM outbox").toArray() : [];
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
            lines: await db.select({ orderId: orderLines.orderId, sku: orderLines.sku, quantity: orderLines.quantity }).from(orderLines).where(inArray(orderLines.orderId, roundOrderIds)),
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
        const soldToOrders = paid.flatMap((o) => o.lines).filter((l) => l.sku === sku).reduce((n, l) => n + l.quantity, 0);
        const soldInPostgres = archived.lines.filter((l) => l.sku === sku).reduce((n, l) => n + l.quantity, 0);
        const stock = initial.get(sku)! + adjustments.get(sku)!;
        if (check.on_hand < 0 || check.sold > stock || check.sold !== soldToOrders) summary.oversold++;
        if (check.on_hand + check.sold !== stock) summary.unconserved++;
        expect({ sold: check.sold, inPostgres: soldInPostgres, onHandPlusSold: check.on_hand + check.sold }).toEqual({ sold: soldToOrders, inPostgres: soldToOrders, onHandPlusSold: stock });
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
        for (const hold of snapshot.snapshot.holds) expect(cartIds.has(hold.owner_id) || hold.owner_id === "competitor", `unexpected hold ${hold.hold_id}`).toBe(true);
      }
    }

    const total = [...faults.values()].reduce((a, b) => a + b, 0);
    console.log(
      `faults: ${total} injected over ${summary.rounds} rounds (${summary.shoppers} shoppers, ${summary.paid} orders paid, ${summary.refusedAtCheckout} checkouts refused after their holds lapsed): ${JSON.stringify(Object.fromEntries([...faults].sort()))}; ` +
        `oversold ${summary.oversold}, stock not conserved ${summary.unconserved}, lost orders ${summary.lost}, duplicate orders ${summary.duplicates}`,
    );
    expect({ oversold: summary.oversold, unconserved: summary.unconserved, lost: summary.lost, duplicates: summary.duplicates }).toEqual({ oversold: 0, unconserved: 0, lost: 0, duplicates: 0 });
    expect(summary.paid).toBeGreaterThan(0);
    expect(total).toBeGreaterThanOrEqual(ROUNDS * 4);
    for (const kind of ["crash before hold", "crash after hold", "crash before extend", "crash after extend", "crash before commit", "crash after commit", "crash between paid commit and outbox send", "holds expired during checkout", "evict cart objects", "evict SKU objects", "abort all objects", "consumer failed after its insert", "queue message delivered again"]) {
      expect(faults.get(kind) ?? 0, `fault kind "${kind}" never fired`).toBeGreaterThan(0);
    }
  }, 180_000);
});
