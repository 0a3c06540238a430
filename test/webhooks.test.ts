// Outgoing webhooks, in the Workers runtime, against a real HTTP receiver on loopback (a Node
// server started by test/global-setup.ts, test/lib/webhook-receiver.ts). Order events come from
// real cart objects through the real queue; a report delivered again is driven through the consumer
// with createMessageBatch. Delivery, retries and redelivery: test/webhooks-delivery.test.ts.
import { createExecutionContext, env, runInDurableObject } from "cloudflare:test";
import { and, eq, sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import type { StockAlert, WebhookEndpoint, WebhookEventPayload } from "../src/contracts";
import { withDb } from "../src/db/client";
import { orderLines, orders, webhookDeliveries, webhookEvents } from "../src/db/schema";
import worker from "../src/index";
import { cartStub, inventoryStub } from "../src/objects/stubs";
import { ADMIN, call, eventually, expectProblem, sendPayment, stockedSku, unique } from "./helpers";
import { attempts, consume, endpoint, placedOrder, RECEIVER, received, receivedWhen, removeEndpoints, verified } from "./lib/webhooks";

afterEach(removeEndpoints);

describe("webhook endpoints (admin API)", () => {
  it("creates an endpoint with a whsec_ secret shown once, lists and reads it without the secret, disables, deletes it", async () => {
    const name = unique("crud");
    const made = await endpoint(name, ["order.paid", "inventory.low"], { description: "ERP" });
    expect(made).toMatchObject({
      url: `${RECEIVER}/hook/${name}`,
      event_types: ["order.paid", "inventory.low"],
      description: "ERP",
      enabled: true,
    });
    expect(made.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(() => new Webhook(made.secret)).not.toThrow();

    const read = await call("GET", `/v1/admin/webhook-endpoints/${made.id}`, { headers: ADMIN });
    expect(read.status).toBe(200);
    const shown = (await read.json()) as WebhookEndpoint & { secret?: string };
    expect(shown.secret).toBeUndefined();
    const list = (await (await call("GET", "/v1/admin/webhook-endpoints?limit=100", { headers: ADMIN })).json()) as {
      data: WebhookEndpoint[];
    };
    expect(list.data.find((e) => e.id === made.id)).toEqual(shown);
    expect(JSON.stringify(list)).not.toContain(made.secret);

    const disabled = await call("PUT", `/v1/admin/webhook-endpoints/${made.id}`, {
      body: { url: made.url, event_types: ["order.paid"], enabled: false },
      headers: ADMIN,
    });
    expect(disabled.status).toBe(200);
    expect(await disabled.json()).toMatchObject({ id: made.id, enabled: false, event_types: ["order.paid"], description: null });

    const idempotent = await call("POST", "/v1/admin/webhook-endpoints", {
      body: { url: made.url, event_types: ["order.paid"] },
      headers: { ...ADMIN, "idempotency-key": crypto.randomUUID() },
    });
    expect(idempotent.status).toBe(400);
    const unknownType = await call("POST", "/v1/admin/webhook-endpoints", {
      body: { url: made.url, event_types: ["order.shipped"] },
      headers: ADMIN,
    });
    await expectProblem(unknownType, 400, "invalid_request");

    expect((await call("DELETE", `/v1/admin/webhook-endpoints/${made.id}`, { headers: ADMIN })).status).toBe(204);
    await expectProblem(await call("GET", `/v1/admin/webhook-endpoints/${made.id}`, { headers: ADMIN }), 404, "not_found");
  });

  it("refuses private, link-local, CGNAT and plain-http URLs on create and replace", async () => {
    for (const url of [
      "https://10.0.0.7/hook",
      "https://169.254.169.254/latest",
      "https://100.64.1.1/x",
      "https://[fd00::1]/x",
      "https://192.168.0.1/x",
      "http://hooks.example.com/x",
      "https://localhost.localdomain/x",
    ]) {
      const response = await call("POST", "/v1/admin/webhook-endpoints", { body: { url, event_types: ["order.paid"] }, headers: ADMIN });
      await expectProblem(response, 422, "url_not_allowed");
    }
    const made = await endpoint(unique("replace"), ["order.paid"]);
    const replaced = await call("PUT", `/v1/admin/webhook-endpoints/${made.id}`, {
      body: { url: "https://172.16.3.4/x", event_types: ["order.paid"] },
      headers: ADMIN,
    });
    await expectProblem(replaced, 422, "url_not_allowed");
    // Loopback is refused too once WEBHOOKS_ALLOW_LOOPBACK is off (production's default).
    const response = await worker.fetch(
      new Request("http://edgecart.test/v1/admin/webhook-endpoints", {
        method: "POST",
        headers: { ...ADMIN, "content-type": "application/json" },
        body: JSON.stringify({ url: `${RECEIVER}/hook/x`, event_types: ["order.paid"] }),
      }),
      { ...env, WEBHOOKS_ALLOW_LOOPBACK: "off" },
      createExecutionContext(),
    );
    await expectProblem(response, 422, "url_not_allowed");
  });
});

describe("order events", () => {
  it("sends order.paid once, signed, with the amounts Postgres archived, and the cart's outbox is confirmed", async () => {
    const name = unique("paid");
    const hook = await endpoint(name, ["order.paid"]);
    const { order, sku, cart } = await placedOrder();
    expect((await sendPayment(order.id, order.total.amount, "USD", { paymentId: "pi_hook" })).status).toBe(204);

    const requests = await receivedWhen(name, (r) => r.some((q) => q.body.includes(order.id)));
    const mine = requests.filter((q) => q.body.includes(order.id));
    expect(mine).toHaveLength(1);
    const event = verified(hook.secret, mine[0]!);
    expect(mine[0]!.headers["webhook-id"]).toBe(event.id);
    expect(event.type).toBe("order.paid");
    if (event.type !== "order.paid") throw new Error("unreachable");
    expect(event.data).toMatchObject({ id: order.id, status: "paid", total: { amount: 3998, currency: "USD" }, payment_id: "pi_hook" });

    // The same amounts as the archive in Postgres.
    const archive = await eventually(
      () =>
        withDb(env, async (db) => ({
          order: await db.select().from(orders).where(eq(orders.id, order.id)),
          lines: await db.select().from(orderLines).where(eq(orderLines.orderId, order.id)),
        })),
      (a) => a.order.length === 1,
    );
    expect(event.data.total).toEqual({ amount: archive.order[0]!.totalAmount, currency: archive.order[0]!.currency });
    expect(event.data.lines.map((l) => [l.sku, l.quantity, l.unit_price.amount, l.line_total.amount])).toEqual(
      archive.lines.map((l) => [l.sku, l.quantity, l.unitAmount, l.lineAmount]),
    );
    expect(event.data.lines[0]!.sku).toBe(sku);

    // The cart object's event message is confirmed by the fan-out, like its other outbox messages.
    const stub = cartStub(env, cart.id)!;
    const outbox = await eventually(
      () =>
        runInDurableObject(stub, async (_o, state) =>
          state.storage.sql
            .exec<{ kind: string; confirmed_at: number | null }>("SELECT kind, confirmed_at FROM outbox WHERE kind = 'event'")
            .toArray(),
        ),
      (rows) => rows.length === 1 && rows[0]!.confirmed_at !== null,
    );
    expect(outbox).toHaveLength(1);
    // The endpoint takes every order.paid of the run, and other test files pay orders in the same
    // Postgres meanwhile: only this order's event is this test's (as webhooks-delivery.test.ts does).
    // The attempt is recorded after the receiver answered, so it is waited for.
    const listed = await eventually(
      async () => (await attempts(hook.id)).filter((a) => a.event_id === event.id),
      (rows) => rows.length > 0,
    );
    expect(listed).toMatchObject([
      {
        event_id: event.id,
        event_type: "order.paid",
        status_code: 204,
        attempt: 1,
        error: null,
        next_retry_at: null,
        delivery_status: "delivered",
      },
    ]);
    expect(listed[0]!.latency_ms).toBeGreaterThanOrEqual(0);
    // Read again now that the attempt is recorded: a second send of this event, before or after
    // the recorded one, has arrived by now.
    expect((await received(name)).filter((q) => q.body.includes(order.id))).toEqual(mine);
  });

  it("sends order.cancelled to an enabled endpoint and nothing to a disabled one", async () => {
    const on = unique("cancel-on");
    const off = unique("cancel-off");
    await endpoint(on, ["order.cancelled", "order.expired"]);
    const disabled = await endpoint(off, ["order.cancelled", "order.expired"], { enabled: false });
    const { order, cart } = await placedOrder();
    expect((await call("POST", `/v1/orders/${order.id}/cancel`, { headers: cart.headers })).status).toBe(200);

    const requests = await receivedWhen(on, (r) => r.some((q) => q.body.includes(order.id)));
    const event = JSON.parse(requests.find((q) => q.body.includes(order.id))!.body) as WebhookEventPayload;
    expect(event).toMatchObject({
      type: "order.cancelled",
      data: { id: order.id, status: "cancelled", total: { amount: 3998, currency: "USD" } },
    });
    // Give any stray delivery to the disabled endpoint the same time again.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(await received(off)).toEqual([]);
    expect(await attempts(disabled.id)).toEqual([]);
  });
});

describe("stock events", () => {
  it("sends one inventory.low per crossing of the SKU's threshold, and inventory.out_of_stock when it runs out", async () => {
    const name = unique("stock");
    const hook = await endpoint(name, ["inventory.low", "inventory.out_of_stock"]);
    const sku = await stockedSku("LOW", 10);
    const threshold = await call("PUT", `/v1/admin/stock-alerts/${sku}`, { body: { low_stock_threshold: 3 }, headers: ADMIN });
    expect(await threshold.json()).toMatchObject({ sku, low_stock_threshold: 3, effective_threshold: 3 });
    const stub = inventoryStub(env, sku);

    /** Sets on_hand and waits until the webhooks consumer has seen the SKU in `state`. */
    async function level(onHand: number, state: StockAlert["state"]) {
      await stub.setOnHand(onHand);
      const alert = await eventually(
        async () => (await (await call("GET", `/v1/admin/stock-alerts/${sku}`, { headers: ADMIN })).json()) as StockAlert,
        (a) => a.state === state,
      );
      expect(alert.state).toBe(state);
    }
    const events = async () =>
      (await received(name)).map((r) => verified(hook.secret, r)).filter((e) => "sku" in e.data && e.data.sku === sku);

    await level(9, "ok");
    await level(3, "low");
    await level(2, "low");
    await level(1, "low");
    await level(8, "ok");
    await level(2, "low");
    await level(0, "out");
    const sent = await eventually(events, (e) => e.length >= 3);
    expect(sent.map((e) => [e.type, "available" in e.data ? e.data.available : null])).toEqual([
      ["inventory.low", 3],
      ["inventory.low", 2],
      ["inventory.out_of_stock", 0],
    ]);

    // The same report delivered again (at-least-once) emits nothing. The consumer stores each event
    // and its deliveries before it acks the report, so Postgres shows any second emission at once.
    const stored = () =>
      withDb(env, (db) =>
        db
          .select({ type: webhookEvents.type })
          .from(webhookDeliveries)
          .innerJoin(webhookEvents, eq(webhookDeliveries.eventId, webhookEvents.id))
          .where(and(eq(webhookDeliveries.endpointId, hook.id), sql`${webhookEvents.payload} -> 'data' ->> 'sku' = ${sku}`)),
      );
    expect(await stored()).toHaveLength(3);
    const report = await stub.levelReport();
    expect((await consume([report])).explicitAcks).toHaveLength(1);
    expect(await stored()).toHaveLength(3);
  });
});
