// The end-of-round checks of test/faults.test.ts: what each cart object says happened, the queue
// faults, Postgres against the paid orders, every SKU's stock and holds, and the run's summary.
// The faults themselves are injected by test/lib/faults.ts.
import { env, runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import type { Order, OrderArchivedV1 } from "../../src/contracts";
import { cartStub, inventoryStub } from "../../src/objects/stubs";
import { accessOf, eventually } from "../helpers";
import { archivedRows, mismatched } from "./archived-orders";
import { chance, countFault, deliverFailingAfterInsert, deliverUntilAcked, faults, holdOf, type Shopper, skewed } from "./faults";

/** What the run counted, over all rounds; the final check wants no oversell, loss or archive unlike the order paid. */
export interface Summary {
  rounds: number;
  shoppers: number;
  paid: number;
  refusedAtCheckout: number;
  oversold: number;
  lost: number;
  /** Archived orders whose rows are not the order as paid (a redelivery applied twice, a stale copy). */
  mismatched: number;
  unconserved: number;
}

/** One round's SKUs: their initial stock, the restocks since, and the round's shoppers. */
export interface Round {
  skus: string[];
  initial: Map<string, number>;
  adjustments: Map<string, number>;
  shoppers: Shopper[];
  cartIds: Set<string>;
}

/** What each cart object says happened: its order, if any, and every message its outbox sent. */
export async function cartOutcomes(shoppers: Shopper[]): Promise<{ finalOrders: Map<string, Order>; outboxBodies: OrderArchivedV1[] }> {
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
  return { finalOrders, outboxBodies };
}

/** Queue faults, when the round sent anything: a consumer that dies after its insert, then every message delivered twice more. */
export async function redeliver(outboxBodies: OrderArchivedV1[]): Promise<void> {
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
}

/**
 * Postgres: every paid order exactly once, as it was paid (status, total, lines); no order that was
 * not paid. Returns what was archived.
 */
export async function checkArchived(shoppers: Shopper[], paid: Order[], summary: Summary) {
  const roundOrderIds = shoppers.map((s) => `ord_${s.cart.id}`);
  const paidIds = paid.map((o) => o.id).sort();
  // Archival is asynchronous (the real queue delivery may still be running): read until settled.
  const archived = await eventually(
    () => archivedRows(roundOrderIds),
    (r) => JSON.stringify(r.orders.map((o) => o.id)) === JSON.stringify(paidIds),
  );
  const archivedIds = archived.orders.map((r) => r.id);
  summary.lost += paidIds.filter((id) => !archivedIds.includes(id)).length;
  summary.mismatched += mismatched(paid, archived).length;
  expect(archivedIds).toEqual(paidIds);
  expect(archived.lines.length).toBe(paid.reduce((n, o) => n + o.lines.length, 0));
  return archived;
}

/** Stock: no oversell, conserved, ledger verified, and every cart's holds match its state. */
export async function checkStock(
  { skus, initial, adjustments, shoppers, cartIds }: Round,
  paid: Order[],
  finalOrders: Map<string, Order>,
  archived: { lines: Array<{ sku: string; quantity: number }> },
  summary: Summary,
): Promise<void> {
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

/** After the last round: the summary logged, nothing oversold, lost or archived unlike it was paid, and every fault kind fired. */
export function checkSummary(summary: Summary, ROUNDS: number): void {
  const total = [...faults.values()].reduce((a, b) => a + b, 0);
  console.log(
    `faults: ${total} injected over ${summary.rounds} rounds (${summary.shoppers} shoppers, ${summary.paid} orders paid, ${summary.refusedAtCheckout} checkouts refused after their holds lapsed): ${JSON.stringify(Object.fromEntries([...faults].sort()))}; ` +
      `oversold ${summary.oversold}, stock not conserved ${summary.unconserved}, lost orders ${summary.lost}, archived unlike the order paid ${summary.mismatched}`,
  );
  expect({ oversold: summary.oversold, unconserved: summary.unconserved, lost: summary.lost, mismatched: summary.mismatched }).toEqual({
    oversold: 0,
    unconserved: 0,
    lost: 0,
    mismatched: 0,
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
}
