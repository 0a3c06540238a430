// Delivery of outgoing webhooks: retries on the schedule with the same webhook-id, the dead-letter
// queue, URLs refused at delivery, redelivery, and the attempts list. The consumer is driven with
// createMessageBatch so the schedule's delays need not pass; test/webhooks.test.ts has endpoints and events.
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import type { WebhookAttempt } from "../src/contracts";
import { withDb } from "../src/db/client";
import { deadLetters } from "../src/db/schema";
import { ADMIN, call, eventually, expectProblem, unique } from "./helpers";
import { attempts, consume, endpoint, failFirst, lowEvent, received, removeEndpoints, storedDelivery, verified } from "./lib/webhooks";

afterEach(removeEndpoints);

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
    const requests = await eventually(mine, (r) => r.length === 2);
    expect(requests.map((r) => r.headers["webhook-id"])).toEqual([event.id, event.id]);
    expect(verified(hook.secret, requests[1]!)).toEqual(event);
    const ours = async () => (await attempts(hook.id)).filter((a) => a.delivery_id === delivery);
    const listed = await eventually(ours, (a) => a.length === 2);
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
    const after = await eventually(ours, (a) => a.length === 3);
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
