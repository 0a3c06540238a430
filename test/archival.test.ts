import { createExecutionContext, createMessageBatch, env, getQueueResult, runInDurableObject } from "cloudflare:test";
import { eq, inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { OrderArchivedV1 } from "../src/contracts";
import { withDb } from "../src/db/client";
import { deadLetters, inventoryLevels, orderLines, orders } from "../src/db/schema";
import worker from "../src/index";
import { inventoryStub } from "../src/objects/stubs";
import { retryDelaySeconds } from "../src/sync/archival";
import { ADMIN, call, createStockedProduct, eventually, unique } from "./helpers";

function hex64(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A valid archival message for a fresh order. */
function paidOrder(overrides: Partial<OrderArchivedV1["order"]> = {}): OrderArchivedV1 {
  const cartId = hex64();
  const sku = unique("ARCH");
  return {
    type: "order.paid",
    version: 1,
    order: {
      id: `ord_${cartId}`,
      cart_id: cartId,
      email: "a@b.example",
      status: "paid",
      total: { amount: 2500, currency: "USD" },
      payment_id: "pi_1",
      created_at: "2026-11-28T10:00:00.000Z",
      paid_at: "2026-11-28T10:05:00.000Z",
      payment_expires_at: "2026-11-28T10:30:00.000Z",
      lines: [
        {
          sku,
          product_id: "p",
          title: "T",
          quantity: 2,
          unit_price: { amount: 1250, currency: "USD" },
          line_total: { amount: 2500, currency: "USD" },
        },
      ],
      ...overrides,
    } as OrderArchivedV1["order"],
  };
}

async function deliver(bodies: unknown[], options: { attempts?: number; environment?: Env } = {}) {
  const batch = createMessageBatch(
    "edgecart-orders",
    bodies.map((body, i) => ({ id: `m-${crypto.randomUUID()}-${i}`, timestamp: new Date(), attempts: options.attempts ?? 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, options.environment ?? env, ctx);
  return { batch, result: await getQueueResult(batch, ctx) };
}

/** The archived rows of `ids`, whole, in a stable order (for checking that a redelivery changed nothing). */
async function archivedRows(ids: string[]) {
  return withDb(env, async (db) => ({
    orders: await db.select().from(orders).where(inArray(orders.id, ids)).orderBy(orders.id),
    lines: await db.select().from(orderLines).where(inArray(orderLines.orderId, ids)).orderBy(orderLines.orderId, orderLines.sku),
  }));
}

async function archivedCount(ids: string[]) {
  return withDb(env, async (db) => ({
    orders: (await db.select().from(orders).where(inArray(orders.id, ids))).length,
    lines: (await db.select().from(orderLines).where(inArray(orderLines.orderId, ids))).length,
  }));
}

describe("order archival consumer", () => {
  it("writes each order once however often it is delivered", async () => {
    const messages = [paidOrder(), paidOrder(), paidOrder()];
    const ids = messages.map((m) => m.order.id);
    const first = await deliver(messages);
    expect(first.result.explicitAcks).toHaveLength(3);
    const written = await archivedRows(ids);
    expect(written.orders.map((o) => o.id)).toEqual([...ids].sort());
    expect(written.lines).toHaveLength(3);
    // The same orders again, one of them twice and once as a stale copy with other values: the
    // rows (ids being primary keys, their number cannot grow) keep what was first written.
    const stale = { ...messages[1]!, order: { ...messages[1]!.order, email: "other@b.example", payment_id: "pi_stale" } };
    const second = await deliver([messages[0], stale, messages[0]]);
    expect(second.result.explicitAcks).toHaveLength(3);
    expect(await archivedRows(ids)).toEqual(written);
  });

  it("adds nothing on redelivery after the insert committed but the ack was lost", async () => {
    const message = paidOrder();
    await deliver([message]);
    const written = await archivedRows([message.order.id]);
    expect({ orders: written.orders.length, lines: written.lines.length }).toEqual({ orders: 1, lines: 1 });
    const again = await deliver([message], { attempts: 2 });
    expect(again.result.explicitAcks).toHaveLength(1);
    expect(again.result.retryMessages).toEqual([]);
    expect(await archivedRows([message.order.id])).toEqual(written);
  });

  it("dead-letters a poison message and archives the rest of its batch", async () => {
    const good = [paidOrder(), paidOrder()];
    const poison = { type: "order.paid", version: 1, order: { id: "not-an-order" }, marker: unique("poison") };
    const { result } = await deliver([good[0], poison, good[1]]);
    expect(result.explicitAcks).toHaveLength(3);
    expect(await archivedCount(good.map((m) => m.order.id))).toEqual({ orders: 2, lines: 2 });
    const recorded = await eventually(
      () => withDb(env, (db) => db.select().from(deadLetters)),
      (rows) => rows.some((r) => (r.body as { marker?: string }).marker === poison.marker),
    );
    const row = recorded.find((r) => (r.body as { marker?: string }).marker === poison.marker)!;
    expect(row.queue).toBe("edgecart-orders");
    expect(row.error).toContain("order.id");
  });

  it("retries the batch with growing delays when the database is unreachable", async () => {
    const unreachable = { ...env, DATABASE_URL: "postgres://postgres@127.0.0.1:9/none" } as Env;
    const message = paidOrder();
    const first = await deliver([message], { attempts: 1, environment: unreachable });
    const third = await deliver([message], { attempts: 3, environment: unreachable });
    expect(first.result.explicitAcks).toEqual([]);
    // The test harness records retries without their delay; the delay policy is checked directly.
    expect(first.result.retryMessages.map((m) => m.msgId)).toEqual(first.batch.messages.map((m) => m.id));
    expect(third.result.retryMessages).toHaveLength(1);
    expect([1, 2, 3, 4, 10].map(retryDelaySeconds)).toEqual([2, 4, 8, 16, 300]);
    expect(await archivedCount([message.order.id])).toEqual({ orders: 0, lines: 0 });
  });
});

describe("concurrent database work", () => {
  it("keeps concurrent catalog writes and archival batches apart (no statement lands in another's session)", async () => {
    const ids = Array.from({ length: 30 }, () => unique("conc"));
    const messages = Array.from({ length: 10 }, () => paidOrder());
    const [puts] = await Promise.all([
      Promise.all(
        ids.map((id) =>
          call("PUT", `/v1/admin/products/${id}`, {
            body: {
              title: "C",
              status: "active",
              variants: [{ sku: id.toUpperCase(), title: "V", price: { amount: 100, currency: "USD" } }],
            },
            headers: ADMIN,
          }),
        ),
      ),
      Promise.all(messages.map((m) => deliver([m]))),
    ]);
    expect(puts.map((r) => r.status)).toEqual(ids.map(() => 201));
    expect(await archivedCount(messages.map((m) => m.order.id))).toEqual({ orders: 10, lines: 10 });
    for (const id of ids) expect((await inventoryStub(env, id.toUpperCase()).pricing())?.product_id).toBe(id);
  });
});

describe("inventory levels in Postgres", () => {
  async function level(sku: string) {
    return withDb(env, async (db) => (await db.select().from(inventoryLevels).where(eq(inventoryLevels.sku, sku)))[0]);
  }

  it("reaches Postgres within seconds of a change, coalescing bursts, newest ledger position winning", async () => {
    const sku = unique("LVL");
    await createStockedProduct([sku], 40);
    const stub = inventoryStub(env, sku);
    await Promise.all(Array.from({ length: 25 }, (_, i) => stub.hold(`h${i}`, `c${i}`, 1, 900)));
    const row = await eventually(
      () => level(sku),
      (r) => r?.reserved === 25,
    );
    expect(row).toMatchObject({ sku, onHand: 40, reserved: 25, available: 15, sold: 0 });
    const staleReport = {
      type: "inventory.level",
      version: 1,
      sku,
      on_hand: 1,
      reserved: 0,
      available: 1,
      sold: 0,
      ledger_seq: 1,
      reported_at: new Date().toISOString(),
    };
    const batch = createMessageBatch("edgecart-inventory", [{ id: "stale", timestamp: new Date(), attempts: 1, body: staleReport }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).ackAll).toBe(true);
    expect(await level(sku)).toMatchObject({ onHand: 40, reserved: 25 });
  });

  it("snapshots every SKU on the reconciliation cron and restores SKU objects from Postgres after a disaster", async () => {
    const skus = [unique("DR1"), unique("DR2")];
    await createStockedProduct(skus, 30);
    await call("POST", `/v1/admin/inventory/${skus[0]}/adjustments`, { body: { delta: -4, reason: "damaged" }, headers: ADMIN });
    const ctx = createExecutionContext();
    const { createScheduledController } = await import("cloudflare:test");
    await worker.scheduled(createScheduledController({ cron: "*/15 * * * *" }), env, ctx);
    expect(await level(skus[0]!)).toMatchObject({ onHand: 26 });
    expect(await level(skus[1]!)).toMatchObject({ onHand: 30 });

    // Disaster: both objects lose everything.
    for (const sku of skus) await runInDurableObject(inventoryStub(env, sku), (_i, state) => state.storage.deleteAll());
    const { evictDurableObject } = await import("cloudflare:test");
    for (const sku of skus) await evictDurableObject(inventoryStub(env, sku));
    expect((await call("GET", `/v1/skus/${skus[0]}/availability`)).status).toBe(404);

    const response = await call("POST", "/v1/admin/maintenance/restore-inventory", { body: { skus }, headers: ADMIN });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      restored: 2,
      skipped: 0,
      data: [...skus].sort().map((sku) => ({ sku, on_hand: sku === skus[0] ? 26 : 30, outcome: "restored" })),
    });
    expect(await (await call("GET", `/v1/skus/${skus[0]}/availability`)).json()).toEqual({ sku: skus[0], available: 26 });
    expect((await inventoryStub(env, skus[1]!).pricing())?.price).toEqual({ amount: 1999, currency: "USD" });
  });
});
