// A restore rebuilds SKU objects that lost their state from the levels Postgres saved, and never
// rewinds a live object that is ahead of Postgres; after a restore the SKU's reports are accepted.
import { createExecutionContext, createScheduledController, env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { Order } from "../src/contracts";
import { withDb } from "../src/db/client";
import { inventoryLevels } from "../src/db/schema";
import worker from "../src/index";
import { inventoryStub } from "../src/objects/stubs";
import { ADMIN, call, createStockedProduct, eventually, newCart, sendPayment, unique } from "./helpers";

const level = (sku: string) => withDb(env, async (db) => (await db.select().from(inventoryLevels).where(eq(inventoryLevels.sku, sku)))[0]);
const snapshotCron = () => worker.scheduled(createScheduledController({ cron: "*/15 * * * *" }), env, createExecutionContext());
const restore = async (skus: string[]) =>
  (await call("POST", "/v1/admin/maintenance/restore-inventory", { body: { skus }, headers: ADMIN })).json() as Promise<{
    restored: number;
    skipped: number;
    data: Array<{ outcome: string; reason?: string }>;
  }>;
const levels = async (sku: string) => {
  const snapshot = await inventoryStub(env, sku).snapshot();
  if (!snapshot.ok) throw new Error(snapshot.reason);
  return { on_hand: snapshot.snapshot.on_hand, reserved: snapshot.snapshot.reserved, available: snapshot.snapshot.available };
};

async function sell(sku: string, quantity: number): Promise<void> {
  const cart = await newCart();
  expect((await call("PUT", `/v1/carts/${cart.id}/items/${sku}`, { body: { quantity }, headers: cart.headers })).status).toBe(200);
  const order = (await (
    await call("POST", `/v1/carts/${cart.id}/checkout`, {
      body: { email: "s@b.example" },
      headers: { ...cart.headers, "idempotency-key": unique("k") },
    })
  ).json()) as Order;
  expect((await sendPayment(order.id, order.total.amount, "USD", { paymentId: `pi_${unique("r")}` })).status).toBe(204);
}

describe("restore", () => {
  it("changes nothing on a live object that sold since the last snapshot", async () => {
    const sku = unique("LIVE");
    await createStockedProduct([sku], 10);
    await snapshotCron();
    expect(await level(sku)).toMatchObject({ onHand: 10 });
    await sell(sku, 3);
    const cart = await newCart();
    expect((await call("PUT", `/v1/carts/${cart.id}/items/${sku}`, { body: { quantity: 2 }, headers: cart.headers })).status).toBe(200);
    const before = await levels(sku);
    expect(before).toEqual({ on_hand: 7, reserved: 2, available: 5 });

    const result = await restore([sku]);
    expect(result).toMatchObject({
      restored: 0,
      skipped: 1,
      data: [{ outcome: "skipped", reason: "live: its ledger is at or past the saved position" }],
    });
    expect(await levels(sku)).toEqual(before);
    expect(await inventoryStub(env, sku).verify()).toMatchObject({ ok: true, sold: 3 });
  });

  it("rebuilds an object that lost its state, and its later level reports are accepted again", async () => {
    const sku = unique("LOST");
    await createStockedProduct([sku], 20);
    await sell(sku, 4);
    await snapshotCron();
    const saved = await level(sku);
    expect(saved).toMatchObject({ onHand: 16, sold: 4 });

    await runInDurableObject(inventoryStub(env, sku), (_i, state) => state.storage.deleteAll());
    await evictDurableObject(inventoryStub(env, sku));
    expect(await restore([sku])).toMatchObject({ restored: 1, skipped: 0 });
    expect(await levels(sku)).toEqual({ on_hand: 16, reserved: 0, available: 16 });
    expect((await inventoryStub(env, sku).levelReport())?.ledger_seq).toBeGreaterThan(saved!.ledgerSeq);

    // A sale after the restore reaches Postgres (its ledger continued past the saved position).
    await sell(sku, 1);
    const reported = await eventually(
      () => level(sku),
      (row) => row?.onHand === 15,
    );
    expect(reported).toMatchObject({ onHand: 15, sold: 5 });
    expect(await inventoryStub(env, sku).verify()).toMatchObject({ ok: true });
  });
});
