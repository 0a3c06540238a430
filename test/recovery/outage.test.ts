// Postgres away for an hour: shoppers keep checking out and paying (all of it is edge state), the
// back office sees the backlog, queue retries and dead letters run out, crons fail; once Postgres
// is back, every paid order is in it exactly once. The outage is real: the relay the Worker
// reaches Postgres through cuts every connection (this project has a relay and a database of its
// own, so no other test sees it). The hour is simulated by moving each cart's outbox clock.
import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  env,
  getQueueResult,
  runDurableObjectAlarm,
  runInDurableObject,
} from "cloudflare:test";
import { inArray } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import type { Order } from "../../src/contracts";
import { withDb } from "../../src/db/client";
import { orders } from "../../src/db/schema";
import worker from "../../src/index";
import { cartStub } from "../../src/objects/stubs";
import { ADMIN, call, createStockedProduct, eventually, expectProblem, newCart, sendPayment, unique } from "../helpers";
import { watchTimerErrors } from "../lib/timer-errors";

async function setOutage(on: boolean): Promise<void> {
  const response = await fetch(`http://${env.DATABASE_WS_PROXY}/outage?on=${on ? 1 : 0}`);
  expect(await response.json()).toEqual({ outage: on });
}

/** The cart's outbox clock jumps to "due now", then its alarm runs (a resend, as time passes). */
async function advanceOutbox(cartId: string): Promise<void> {
  const stub = cartStub(env, cartId)!;
  await runInDurableObject(stub, (_i, state) =>
    state.storage.sql.exec("UPDATE outbox SET next_attempt_at = ? WHERE confirmed_at IS NULL", Date.now() - 1),
  );
  const ran = await runDurableObjectAlarm(stub).catch(() => null);
  if (ran !== true) await runInDurableObject(stub, (instance) => instance.alarm());
}

const outboxState = (cartId: string) =>
  runInDurableObject(cartStub(env, cartId)!, (_i, state) =>
    state.storage.sql
      .exec<{ kind: string; attempts: number; confirmed: number }>(
        "SELECT kind, attempts, confirmed_at IS NOT NULL AS confirmed FROM outbox ORDER BY seq",
      )
      .toArray(),
  );

// The outage cuts connections under the Postgres driver: it must fail its queries, never throw
// from a timer (an uncaught exception; src/db/client.ts, coalesceWrites).
const timers = watchTimerErrors();
afterAll(async () => {
  timers.stop();
  await setOutage(false);
});

describe("Postgres away for an hour", () => {
  it("keeps selling, shows the backlog, and archives every paid order exactly once after recovery", async () => {
    const sku = unique("OUT");
    await createStockedProduct([sku], 50);

    await setOutage(true);
    // The back office's Postgres reads answer 503 with Retry-After, never 500.
    const down = await call("GET", "/v1/admin/orders", { headers: ADMIN });
    await expectProblem(down, 503, "database_unavailable");
    expect(down.headers.get("retry-after")).toBe("5");

    // Shoppers check out and pay during the outage.
    const paid: Array<{ cartId: string; order: Order }> = [];
    for (let i = 0; i < 6; i++) {
      const cart = await newCart();
      expect(
        (await call("PUT", `/v1/carts/${cart.id}/items/${sku}`, { body: { quantity: 1 + (i % 3) }, headers: cart.headers })).status,
      ).toBe(200);
      const checkout = await call("POST", `/v1/carts/${cart.id}/checkout`, {
        body: { email: "out@example.com" },
        headers: { ...cart.headers, "idempotency-key": unique("k") },
      });
      expect(checkout.status).toBe(201);
      const order = (await checkout.json()) as Order;
      expect((await sendPayment(order.id, order.total.amount, "USD", { paymentId: `pi_out_${i}` })).status).toBe(204);
      paid.push({ cartId: cart.id, order });
    }
    const ids = paid.map((p) => p.order.id).sort();

    // The backlog comes from the edge's registry: every paid order, none confirmed.
    const backlog = await eventually(
      async () =>
        (
          (await (await call("GET", "/v1/admin/orders/unarchived?limit=100", { headers: ADMIN })).json()) as { data: Array<{ id: string }> }
        ).data.map((o) => o.id),
      (listed) => ids.every((id) => listed.includes(id)),
    );
    expect(ids.every((id) => backlog.includes(id))).toBe(true);

    // An hour of retries: every queue delivery fails and asks to be retried until Queues would
    // dead-letter it, the dead-letter consumer cannot record it either, the crons fail, and each
    // cart object sends its unconfirmed messages again on its schedule (1, 2, 4, … 32 minutes).
    const bodies = await Promise.all(
      paid.map(async ({ cartId }) =>
        runInDurableObject(
          cartStub(env, cartId)!,
          (_i, state) =>
            JSON.parse(state.storage.sql.exec<{ body: string }>("SELECT body FROM outbox WHERE kind = 'archive'").one().body) as unknown,
        ),
      ),
    );
    for (let attempt = 1; attempt <= 6; attempt++) {
      const batch = createMessageBatch(
        "edgecart-orders",
        bodies.map((body, i) => ({ id: `out-${attempt}-${i}-${crypto.randomUUID()}`, timestamp: new Date(), attempts: attempt, body })),
      );
      const ctx = createExecutionContext();
      await worker.queue(batch, env, ctx);
      expect((await getQueueResult(batch, ctx)).retryMessages).toHaveLength(bodies.length);
      const dead = createMessageBatch(
        "edgecart-orders-dlq",
        bodies.slice(0, 1).map((body) => ({ id: `dlq-${attempt}-${crypto.randomUUID()}`, timestamp: new Date(), attempts: attempt, body })),
      );
      const dctx = createExecutionContext();
      await worker.queue(dead, env, dctx);
      expect((await getQueueResult(dead, dctx)).retryBatch.retry).toBe(true);
      for (const cron of ["* * * * *", "*/15 * * * *"])
        await expect(worker.scheduled(createScheduledController({ cron }), env, createExecutionContext())).rejects.toThrow();
      for (const { cartId } of paid) await advanceOutbox(cartId);
    }
    for (const { cartId } of paid) {
      const archive = (await outboxState(cartId)).find((m) => m.kind === "archive")!;
      expect(archive.confirmed).toBe(0);
      expect(archive.attempts).toBeGreaterThanOrEqual(7);
    }

    // Postgres is back: the next resend of each cart reaches it; the consumer confirms.
    await setOutage(false);
    for (const { cartId } of paid) await advanceOutbox(cartId);
    const archivedRows = () => withDb(env, (db) => db.select().from(orders).where(inArray(orders.id, ids)).orderBy(orders.id));
    const archived = await eventually(archivedRows, (rows) => rows.length === ids.length);
    expect(archived.map((r) => r.id)).toEqual(ids);
    // Each as it was paid during the outage.
    expect(archived.map((r) => [r.id, r.status, r.paymentId, r.totalAmount]).sort()).toEqual(
      paid.map(({ order }, i) => [order.id, "paid", `pi_out_${i}`, order.total.amount]).sort(),
    );
    // Exactly once: further resends and deliveries change nothing, the rows as they were first
    // written (read again once every message is confirmed).
    for (const { cartId } of paid) await advanceOutbox(cartId);
    for (const { cartId } of paid) {
      const confirmed = await eventually(
        () => outboxState(cartId),
        (messages) => messages.every((m) => m.confirmed === 1),
      );
      expect(confirmed.every((m) => m.confirmed === 1)).toBe(true);
    }
    expect(await archivedRows()).toEqual(archived);
    const after = (await (await call("GET", "/v1/admin/orders/unarchived?limit=100", { headers: ADMIN })).json()) as {
      data: Array<{ id: string }>;
    };
    expect(after.data.filter((o) => ids.includes(o.id))).toEqual([]);
    expect(timers.thrown, "exceptions thrown from timers (uncaught)").toEqual([]);
  }, 180_000);
});
