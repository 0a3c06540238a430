// Outgoing webhooks, in the Workers runtime, against a real HTTP receiver on loopback (a Node
// server started by test/global-setup.ts, test/lib/webhook-receiver.ts). Order events come from
// real cart objects through the real queue; retries are driven through the consumer with
// createMessageBatch so the schedule's delays need not pass.
import { createExecutionContext, createMessageBatch, env, getQueueResult, runInDurableObject } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, inject, it } from "vitest";
import type { CreatedWebhookEndpoint, Order, StockAlert, WebhookAttempt, WebhookEndpoint, WebhookEventPayload } from "../src/contracts";
import { withDb } from "../src/db/client";
import { deadLetters, orderLines, orders, webhookDeliveries } from "../src/db/schema";
import { fanOut } from "../src/db/webhooks";
import worker from "../src/index";
import { cartStub, inventoryStub } from "../src/objects/stubs";
import { newId } from "../src/sync/webhooks";
import { ADMIN, call, createStockedProduct, eventually, expectProblem, newCart, sendPayment, stockedSku, unique } from "./helpers";

const RECEIVER = inject("webhookReceiver");

interface Received {
  headers: Record<string, string>;
  body: string;
  answered: number;
}

/** What the receiver got at /hook/<name>, oldest first. */
async function received(name: string): Promise<Received[]> {
  return (await (await fetch(`${RECEIVER}/_requests/${name}`)).json()) as Received[];
}

/** Makes the receiver answer `status` to the first `fail` requests of each webhook-id at <name>. */
async function failFirst(name: string, fail: number, status = 500): Promise<void> {
  await fetch(`${RECEIVER}/_config/${name}`, { method: "PUT", body: JSON.stringify({ fail, status }) });
}

/** Polls the receiver until `accept` holds (queue delivery takes a second or two). */
async function receivedWhen(name: string, accept: (requests: Received[]) => boolean, ms = 15_000): Promise<Received[]> {
  return eventually(() => received(name), accept, ms / 25);
}

const created: string[] = [];
afterEach(async () => {
  // Endpoints live in the shared Postgres: leave none to receive other tests' events.
  await Promise.all(created.splice(0).map((id) => call("DELETE", `/v1/admin/webhook-endpoints/${id}`, { headers: ADMIN })));
});

/** Registers an endpoint at the receiver's /hook/<name>. */
async function endpoint(name: string, eventTypes: string[], extra: Record<string, unknown> = {}): Promise<CreatedWebhookEndpoint> {
  const response = await call("POST", "/v1/admin/webhook-endpoints", {
    body: { url: `${RECEIVER}/hook/${name}`, event_types: eventTypes, ...extra },
    headers: ADMIN,
  });
  expect(response.status).toBe(201);
  const body = (await response.json()) as CreatedWebhookEndpoint;
  created.push(body.id);
  return body;
}

/** Verifies a received request with the standardwebhooks package; returns the event. */
function verified(secret: string, request: Received): WebhookEventPayload {
  return new Webhook(secret).verify(request.body, request.headers) as WebhookEventPayload;
}

async function attempts(endpointId: string): Promise<WebhookAttempt[]> {
  const response = await call("GET", `/v1/admin/webhook-deliveries?endpoint=${endpointId}&limit=100`, { headers: ADMIN });
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: WebhookAttempt[] }).data;
}

/** Runs the webhooks consumer on one batch (as Queues would), with `environment`'s vars. */
async function consume(bodies: unknown[], options: { attempts?: number; environment?: Env } = {}) {
  const batch = createMessageBatch(
    "edgecart-webhooks",
    bodies.map((body, i) => ({ id: `wh-${crypto.randomUUID()}-${i}`, timestamp: new Date(), attempts: options.attempts ?? 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, options.environment ?? env, ctx);
  return getQueueResult(batch, ctx);
}

/** Stores `event` with a delivery to `endpointId` without queueing it (the test drives the attempts). */
async function storedDelivery(endpointId: string, event: WebhookEventPayload): Promise<string> {
  await withDb(env, (db) =>
    fanOut(db, {
      events: [event],
      reports: [],
      decide: () => ({ state: "ok", events: [] }),
      wants: () => [endpointId],
      newDeliveryId: () => newId("whd_"),
    }),
  );
  const rows = await withDb(env, (db) => db.select().from(webhookDeliveries).where(eq(webhookDeliveries.eventId, event.id)));
  expect(rows.map((row) => row.endpointId)).toEqual([endpointId]);
  return rows[0]!.id;
}

function lowEvent(sku = unique("SYN")): WebhookEventPayload {
  return {
    id: newId("evt_"),
    type: "inventory.low",
    timestamp: new Date().toISOString(),
    data: { sku, on_hand: 3, reserved: 0, available: 3, threshold: 5, ledger_seq: 7 },
  };
}

/** A placed order for 2 units of a fresh SKU at 1999 USD. */
async function placedOrder(): Promise<{ order: Order; sku: string; cart: Awaited<ReturnType<typeof newCart>> }> {
  const sku = unique("HOOK");
  await createStockedProduct([sku], 10, {}, { amount: 1999 });
  const cart = await newCart();
  expect((await call("PUT", `/v1/carts/${cart.id}/items/${sku}`, { body: { quantity: 2 }, headers: cart.headers })).status).toBe(200);
  const response = await call("POST", `/v1/carts/${cart.id}/checkout`, {
    body: { email: "hooks@example.com" },
    headers: { ...cart.headers, "idempotency-key": crypto.randomUUID() },
  });
  expect(response.status).toBe(201);
  return { order: (await response.json()) as Order, sku, cart };
}

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
      400,
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
      400,
    );
    expect(outbox).toHaveLength(1);
    const listed = await attempts(hook.id);
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

describe("delivery", () => {
  it("retries a receiver that answers 500 three times: the same webhook-id every time, delivered once, every attempt listed", async () => {
    const name = unique("retry");
    const hook = await endpoint(name, ["inventory.low"]);
    await failFirst(name, 3);
    const event = lowEvent();
    const delivery = await storedDelivery(hook.id, event);
    const message = { type: "webhook.delivery", version: 1, delivery_id: delivery };

    // Each failure asks Queues to retry the message (the harness does not report the delay: the
    // schedule shows in each attempt's next_retry_at below).
    for (let attempt = 1; attempt <= 3; attempt++) {
      const result = await consume([message], { attempts: attempt });
      expect(result.explicitAcks).toEqual([]);
      expect(result.retryMessages).toHaveLength(1);
    }
    expect((await consume([message], { attempts: 4 })).explicitAcks).toHaveLength(1);
    // A duplicate of the message (at-least-once) sends nothing more.
    expect((await consume([message], { attempts: 5 })).explicitAcks).toHaveLength(1);

    // (Other tests' stock events may reach this endpoint too: only this event's requests count.)
    const requests = (await received(name)).filter((r) => r.headers["webhook-id"] === event.id);
    expect(requests.map((r) => r.answered)).toEqual([500, 500, 500, 204]);
    expect(new Set(requests.map((r) => r.headers["webhook-id"]))).toEqual(new Set([event.id]));
    for (const request of requests) expect(verified(hook.secret, request)).toEqual(event);
    // A receiver that de-duplicates by webhook-id processes the event exactly once.
    const processed = new Set(requests.filter((r) => r.answered < 300).map((r) => r.headers["webhook-id"]));
    expect(processed.size).toBe(1);

    const listed = (await attempts(hook.id)).filter((a) => a.delivery_id === delivery);
    expect(listed.map((a) => [a.attempt, a.status_code, a.delivery_status])).toEqual([
      [4, 204, "delivered"],
      [3, 500, "delivered"],
      [2, 500, "delivered"],
      [1, 500, "delivered"],
    ]);
    expect(listed.every((a) => a.event_id === event.id)).toBe(true);
    const waits = listed.slice(1).map((a) => (Date.parse(a.next_retry_at!) - Date.parse(a.attempted_at)) / 1000);
    expect(waits).toEqual([1800, 300, 5]);
    expect(listed[0]!.next_retry_at).toBeNull();
    expect(listed[3]!.error).toBe("the receiver answered 500");
  });

  it("dead-letters a delivery after 8 failed attempts", async () => {
    const name = unique("dead");
    const hook = await endpoint(name, ["inventory.low"]);
    await failFirst(name, 100, 503);
    const event = lowEvent();
    const delivery = await storedDelivery(hook.id, event);
    const message = { type: "webhook.delivery", version: 1, delivery_id: delivery };
    for (let attempt = 1; attempt <= 7; attempt++) expect((await consume([message], { attempts: attempt })).retryMessages).toHaveLength(1);
    const last = await consume([message], { attempts: 8 });
    expect(last.explicitAcks).toHaveLength(1);
    expect((await received(name)).filter((r) => r.headers["webhook-id"] === event.id)).toHaveLength(8);
    const listed = (await attempts(hook.id)).filter((a) => a.delivery_id === delivery);
    expect(listed[0]).toMatchObject({ attempt: 8, status_code: 503, delivery_status: "dead", next_retry_at: null });
    // The dead-letter consumer keeps the message in Postgres.
    const dead = await eventually(
      () => withDb(env, (db) => db.select().from(deadLetters).where(eq(deadLetters.queue, "edgecart-webhooks"))),
      (rows) => rows.some((row) => JSON.stringify(row.body).includes(delivery)),
      400,
    );
    expect(dead.some((row) => JSON.stringify(row.body).includes(delivery))).toBe(true);
  });

  it("refuses a loopback or private URL at delivery outside dev: nothing is sent, the attempt says why", async () => {
    const name = unique("ssrf");
    const hook = await endpoint(name, ["order.expired"]);
    const delivery = await storedDelivery(hook.id, lowEvent());
    const result = await consume([{ type: "webhook.delivery", version: 1, delivery_id: delivery }], {
      environment: { ...env, WEBHOOKS_ALLOW_LOOPBACK: "off" },
    });
    expect(result.explicitAcks).toHaveLength(1);
    expect(await received(name)).toEqual([]);
    expect((await attempts(hook.id)).filter((a) => a.delivery_id === delivery)).toMatchObject([
      { status_code: null, delivery_status: "failed", error: expect.stringMatching(/^URL refused: only https URLs/) },
    ]);
  });

  it("redelivers one delivery with the same webhook-id, and sends a disabled endpoint nothing", async () => {
    const name = unique("redeliver");
    const hook = await endpoint(name, ["order.expired"]);
    const event = lowEvent();
    const delivery = await storedDelivery(hook.id, event);
    await consume([{ type: "webhook.delivery", version: 1, delivery_id: delivery }]);
    const mine = async () => (await received(name)).filter((r) => r.headers["webhook-id"] === event.id);
    expect(await mine()).toHaveLength(1);

    const again = await call("POST", `/v1/admin/webhook-deliveries/${delivery}/redeliver`, { headers: ADMIN });
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({ delivery_id: delivery, event_id: event.id, status: "pending" });
    const requests = await eventually(mine, (r) => r.length === 2, 400);
    expect(requests.map((r) => r.headers["webhook-id"])).toEqual([event.id, event.id]);
    expect(verified(hook.secret, requests[1]!)).toEqual(event);
    const ours = async () => (await attempts(hook.id)).filter((a) => a.delivery_id === delivery);
    const listed = await eventually(ours, (a) => a.length === 2, 200);
    expect(listed.map((a) => [a.attempt, a.status_code])).toEqual([
      [1, 204],
      [1, 204],
    ]);

    // Disabled: a redelivery is recorded but nothing is sent.
    await call("PUT", `/v1/admin/webhook-endpoints/${hook.id}`, {
      body: { url: hook.url, event_types: hook.event_types, enabled: false },
      headers: ADMIN,
    });
    expect((await call("POST", `/v1/admin/webhook-deliveries/${delivery}/redeliver`, { headers: ADMIN })).status).toBe(202);
    const after = await eventually(ours, (a) => a.length === 3, 200);
    expect(after[0]).toMatchObject({ status_code: null, delivery_status: "failed", error: "the endpoint is disabled: nothing was sent" });
    expect(await mine()).toHaveLength(2);
    await expectProblem(
      await call("POST", `/v1/admin/webhook-deliveries/whd_${"0".repeat(32)}/redeliver`, { headers: ADMIN }),
      404,
      "not_found",
    );
  });

  it("lists attempts newest first with a cursor", async () => {
    // A disabled endpoint: no other test's events reach it; each attempt is recorded (and sends nothing).
    const name = unique("pages");
    const hook = await endpoint(name, ["inventory.low"], { enabled: false });
    for (let i = 0; i < 3; i++)
      await consume([{ type: "webhook.delivery", version: 1, delivery_id: await storedDelivery(hook.id, lowEvent()) }]);
    const first = (await (await call("GET", `/v1/admin/webhook-deliveries?endpoint=${hook.id}&limit=2`, { headers: ADMIN })).json()) as {
      data: WebhookAttempt[];
      next_cursor: string;
    };
    const second = (await (
      await call("GET", `/v1/admin/webhook-deliveries?endpoint=${hook.id}&limit=2&cursor=${first.next_cursor}`, { headers: ADMIN })
    ).json()) as {
      data: WebhookAttempt[];
      next_cursor: string | null;
    };
    const all = [...first.data, ...second.data];
    expect(all).toHaveLength(3);
    expect(second.next_cursor).toBeNull();
    expect(all.map((a) => a.attempted_at)).toEqual([...all.map((a) => a.attempted_at)].sort().reverse());
    await expectProblem(await call("GET", "/v1/admin/webhook-deliveries?cursor=bogus", { headers: ADMIN }), 400, "invalid_request");
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
        400,
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
    const sent = await eventually(events, (e) => e.length >= 3, 400);
    expect(sent.map((e) => [e.type, "available" in e.data ? e.data.available : null])).toEqual([
      ["inventory.low", 3],
      ["inventory.low", 2],
      ["inventory.out_of_stock", 0],
    ]);

    // The same report delivered again (at-least-once) emits nothing.
    const report = await stub.levelReport();
    expect((await consume([report])).explicitAcks).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await events()).toHaveLength(3);
  });
});
