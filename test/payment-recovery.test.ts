// A payment never marks paid an order whose stock was not secured, refunds due are visible, and
// the back office sees the archival backlog from the edge's registry of paid orders.
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { type AdminOrder, MAX_REPORT_DAYS, type Order } from "../src/contracts";
import { withDb } from "../src/db/client";
import { orders } from "../src/db/schema";
import { holdIdFor } from "../src/domain/cart";
import { encodeCursor } from "../src/http/cursor";
import { inventoryStub, paidOrdersStub } from "../src/objects/stubs";
import { ADMIN, call, createStockedProduct, eventually, expectProblem, newCart, sendPayment, unique } from "./helpers";

const put = (cart: { id: string; headers: Record<string, string> }, sku: string, quantity: number) =>
  call("PUT", `/v1/carts/${cart.id}/items/${sku}`, { body: { quantity }, headers: cart.headers });

async function placed(sku: string, quantity: number) {
  const cart = await newCart();
  expect((await put(cart, sku, quantity)).status).toBe(200);
  const response = await call("POST", `/v1/carts/${cart.id}/checkout`, {
    body: { email: "r@b.example" },
    headers: { ...cart.headers, "idempotency-key": unique("k") },
  });
  expect(response.status).toBe(201);
  return { cart, order: (await response.json()) as Order };
}

/** The order's hold in the SKU object lapses (its clock passed the payment window and grace). */
async function lapseHold(sku: string, cartId: string) {
  await runInDurableObject(inventoryStub(env, sku), (_i, state) =>
    state.storage.sql.exec("UPDATE holds SET expires_at = ? WHERE hold_id = ?", Date.now() - 1, holdIdFor(cartId, sku)),
  );
  await evictDurableObject(inventoryStub(env, sku));
}

const adminOrder = async (orderId: string) =>
  (await (await call("GET", `/v1/admin/orders/${orderId}`, { headers: ADMIN })).json()) as AdminOrder;
const levels = async (sku: string) => {
  const snapshot = await inventoryStub(env, sku).snapshot();
  if (!snapshot.ok) throw new Error(snapshot.reason);
  return { on_hand: snapshot.snapshot.on_hand, reserved: snapshot.snapshot.reserved };
};

describe("a payment whose hold lapsed", () => {
  it("takes the stock again when it is there and pays the order", async () => {
    const sku = unique("LATE");
    await createStockedProduct([sku], 5);
    const { cart, order } = await placed(sku, 2);
    await lapseHold(sku, cart.id);
    expect(await levels(sku)).toEqual({ on_hand: 5, reserved: 0 });

    expect((await sendPayment(order.id, order.total.amount, "USD")).status).toBe(204);
    expect((await adminOrder(order.id)).status).toBe("paid");
    expect(await levels(sku)).toEqual({ on_hand: 3, reserved: 0 });
    expect(await inventoryStub(env, sku).verify()).toMatchObject({ ok: true, sold: 2 });
  });

  it("leaves the order paid_unfulfillable with a refund due when its stock was sold elsewhere, and sells nothing", async () => {
    const [a, b] = [unique("GONE-A"), unique("GONE-B")];
    await createStockedProduct([a, b], 2);
    const cart = await newCart();
    expect((await put(cart, a, 1)).status).toBe(200);
    expect((await put(cart, b, 2)).status).toBe(200);
    const response = await call("POST", `/v1/carts/${cart.id}/checkout`, {
      body: { email: "r@b.example" },
      headers: { ...cart.headers, "idempotency-key": unique("k") },
    });
    const order = (await response.json()) as Order;
    await lapseHold(b, cart.id);
    const rival = await newCart();
    expect((await put(rival, b, 2)).status).toBe(200);

    expect((await sendPayment(order.id, order.total.amount, "USD", { paymentId: "pi_unfulfillable" })).status).toBe(204);
    const settled = await adminOrder(order.id);
    expect(settled).toMatchObject({ status: "paid_unfulfillable", payment_id: "pi_unfulfillable" });
    expect(settled.refunds_due).toEqual([{ payment_id: "pi_unfulfillable", amount: order.total, reason: "unfulfillable" }]);
    expect(settled.payments.map((p) => p.outcome)).toEqual(["paid_unfulfillable"]);
    // Nothing was sold: a's hold went back, b's stock stays the rival's.
    expect(await levels(a)).toEqual({ on_hand: 2, reserved: 0 });
    expect(await levels(b)).toEqual({ on_hand: 2, reserved: 2 });
    // The shopper sees it too, and the archive and the refunds list have it.
    expect(((await (await call("GET", `/v1/orders/${order.id}`, { headers: cart.headers })).json()) as Order).status).toBe(
      "paid_unfulfillable",
    );
    const archived = await eventually(
      () => withDb(env, (db) => db.select().from(orders).where(eq(orders.id, order.id))),
      (rows) => rows.length === 1,
    );
    expect(archived[0]!.status).toBe("paid_unfulfillable");
    const refunds = await eventually(
      async () =>
        (
          (await (await call("GET", "/v1/admin/refunds?limit=100", { headers: ADMIN })).json()) as {
            data: Array<{ order_id: string; reason: string }>;
          }
        ).data,
      (data) => data.some((r) => r.order_id === order.id),
    );
    expect(refunds.find((r) => r.order_id === order.id)).toMatchObject({
      payment_id: "pi_unfulfillable",
      reason: "unfulfillable",
      amount: order.total,
    });
    // A repeat of the same payment changes nothing.
    expect((await sendPayment(order.id, order.total.amount, "USD", { paymentId: "pi_unfulfillable" })).status).toBe(204);
    expect(await levels(b)).toEqual({ on_hand: 2, reserved: 2 });
  });
});

describe("refunds due", () => {
  it("shows a payment of a cancelled order on the order and in the refunds list, newest first", async () => {
    const sku = unique("REF");
    await createStockedProduct([sku], 5);
    const { cart, order } = await placed(sku, 1);
    expect((await call("POST", `/v1/orders/${order.id}/cancel`, { headers: cart.headers })).status).toBe(200);
    await expectProblem(await sendPayment(order.id, order.total.amount, "USD", { paymentId: "pi_late" }), 409, "order_not_payable");
    expect((await adminOrder(order.id)).refunds_due).toEqual([{ payment_id: "pi_late", amount: order.total, reason: "order_not_payable" }]);
    // The list holds every refund due, newest first, and other test files record theirs too (one
    // did, just after this one, on a clean clone): walk it a page of one at a time until this
    // order's appears, instead of expecting it on top.
    type Listed = { order_id: string; recorded_at: string };
    const walk = async (): Promise<Listed[]> => {
      const seen: Listed[] = [];
      let cursor: string | null = null;
      do {
        const page = (await (
          await call("GET", `/v1/admin/refunds?limit=1${cursor ? `&cursor=${cursor}` : ""}`, { headers: ADMIN })
        ).json()) as { data: Listed[]; next_cursor: string | null };
        expect(page.data).toHaveLength(1);
        seen.push(...page.data);
        cursor = page.next_cursor;
      } while (cursor !== null && !seen.some((r) => r.order_id === order.id) && seen.length < 50);
      return seen;
    };
    const seen = await eventually(walk, (listed) => listed.some((r) => r.order_id === order.id));
    expect(seen.find((r) => r.order_id === order.id)).toMatchObject({
      order_id: order.id,
      payment_id: "pi_late",
      reason: "order_not_payable",
      refunded_at: null,
    });
    const times = seen.map((r) => Date.parse(r.recorded_at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    await expectProblem(await call("GET", "/v1/admin/refunds?cursor=bogus", { headers: ADMIN }), 400, "invalid_request");
  });
});

describe("the archival backlog", () => {
  /** The moment `offset` days before now; `utcDay` names its UTC day (YYYY-MM-DD), as the registry's objects are named. */
  const day = (offset: number) => new Date(Date.now() - offset * 86_400_000);
  const utcDay = (at: Date | number) => new Date(at).toISOString().slice(0, 10);

  it("lists paid orders Postgres has not confirmed, oldest first across days, until they are confirmed", async () => {
    const ids = [0, 1, 2].map(() => `ord_${crypto.randomUUID().replaceAll("-", "")}${crypto.randomUUID().replaceAll("-", "")}`);
    const entries = ids.map((id, i) => ({
      order_id: id,
      cart_id: id.slice(4),
      status: "paid" as const,
      paid_at: day(2 - i).getTime(),
      total_amount: 100 * (i + 1),
      currency: "USD",
      archived_at: null,
    }));
    for (const entry of entries) await paidOrdersStub(env, utcDay(entry.paid_at)).record(entry);
    const from = utcDay(day(3));
    const listed: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await (
        await call("GET", `/v1/admin/orders/unarchived?limit=1&from=${from}${cursor ? `&cursor=${cursor}` : ""}`, { headers: ADMIN })
      ).json()) as { data: Array<{ id: string }>; next_cursor: string | null };
      listed.push(...page.data.map((o) => o.id));
      cursor = page.next_cursor;
    } while (cursor !== null);
    expect(listed.filter((id) => ids.includes(id))).toEqual(ids);

    await paidOrdersStub(env, utcDay(entries[1]!.paid_at)).record({ ...entries[1]!, archived_at: Date.now() });
    // A late, older message never undoes the confirmation.
    await paidOrdersStub(env, utcDay(entries[1]!.paid_at)).record(entries[1]!);
    const after = (await (await call("GET", `/v1/admin/orders/unarchived?limit=100&from=${from}`, { headers: ADMIN })).json()) as {
      data: Array<{ id: string }>;
    };
    expect(after.data.map((o) => o.id).filter((id) => ids.includes(id))).toEqual([ids[0], ids[2]]);
  });

  it("walks at most MAX_REPORT_DAYS of days: an older `from` or cursor is 400 on its own field, and the oldest day allowed answers", async () => {
    // The fuzzer found an 8,000-day walk (one registry object per day) that answered 500 and starved the runtime.
    const tooOld: Array<[string, string]> = [
      [`from=${utcDay(day(8000))}`, "query.from"],
      [`cursor=${encodeCursor({ d: utcDay(day(MAX_REPORT_DAYS + 1)), p: 0, i: `ord_${"0".repeat(64)}` })}`, "query.cursor"],
    ];
    for (const [query, path] of tooOld) {
      const problem = await expectProblem(
        await call("GET", `/v1/admin/orders/unarchived?${query}`, { headers: ADMIN }),
        400,
        "invalid_request",
      );
      expect(problem.errors, query).toEqual([{ path, message: `must be at most ${MAX_REPORT_DAYS} days before today` }]);
    }
    expect((await call("GET", `/v1/admin/orders/unarchived?from=${utcDay(day(MAX_REPORT_DAYS - 1))}`, { headers: ADMIN })).status).toBe(
      200,
    );
  });

  it("drops a real order from the backlog once Postgres has it", async () => {
    const sku = unique("BACKLOG");
    await createStockedProduct([sku], 5);
    const { order } = await placed(sku, 1);
    expect((await sendPayment(order.id, order.total.amount, "USD")).status).toBe(204);
    const backlog = await eventually(
      async () =>
        ((await (await call("GET", "/v1/admin/orders/unarchived?limit=100", { headers: ADMIN })).json()) as { data: Array<{ id: string }> })
          .data,
      (data) => !data.some((o) => o.id === order.id),
    );
    expect(backlog.some((o) => o.id === order.id)).toBe(false);
    expect(await withDb(env, (db) => db.select({ id: orders.id }).from(orders).where(eq(orders.id, order.id)))).toHaveLength(1);
  });
});
