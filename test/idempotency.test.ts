import { createExecutionContext, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { runRoute } from "../src/http/dispatch";
import { canonicalJson, requestFingerprint, withIdempotency } from "../src/http/idempotency";
import { ApiError, problemResponse } from "../src/http/problem";
import { defineRoute, json } from "../src/http/route";
import type { StoredResponse } from "../src/domain/idempotency";
import { idempotencyStub, inventoryStub } from "../src/objects/stubs";
import { sha256Hex } from "../src/platform/crypto";
import { idempotencyRecords, services } from "../src/router";
import { ADMIN, call, defineSku, expectProblem, unique } from "./helpers";
import { TEST_ADMIN_TOKEN } from "./secrets";

/** The IdempotencyObject holding `key` in `scope` (named by hashes only, as the route table's records are). */
async function idempotencyRecord(_env: Env, scope: string, key: string) {
  return idempotencyStub(env, await sha256Hex(scope), await sha256Hex(key));
}

const ADMIN_SCOPE = `admin:${TEST_ADMIN_TOKEN}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const adjustPath = (sku: string) => `/v1/admin/inventory/${sku}/adjustments`;

function adjust(sku: string, body: unknown, key: string): Promise<Response> {
  return call("POST", adjustPath(sku), { body, headers: { ...ADMIN, "idempotency-key": key } });
}

async function stocked(onHand: number): Promise<string> {
  const sku = unique("SKU");
  await defineSku(sku);
  const response = await call("PUT", `/v1/admin/inventory/${sku}`, { body: { on_hand: onHand }, headers: ADMIN });
  expect(response.status).toBe(200);
  return sku;
}

async function onHand(sku: string): Promise<number> {
  const result = await inventoryStub(env, sku).snapshot();
  if (!result.ok) throw new Error(`no stock for ${sku}`);
  return result.snapshot.on_hand;
}

/** The fingerprint dispatch computes for an adjustment request. */
function adjustFingerprint(sku: string, body: unknown): Promise<string> {
  return requestFingerprint("POST", adjustPath(sku), canonicalJson(body));
}

/** User tables left in an object's database (SQLite-internal `_cf_*` tables excluded). */
async function userTables(stub: DurableObjectStub): Promise<string[]> {
  return runInDurableObject(stub, (_instance, state) =>
    state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite_%'")
      .toArray()
      .map((row) => row.name),
  );
}

/**
 * Moves the object's alarm an hour out: a late alarm, so a test can let a lease or retention run
 * out and see what the next call (or an alarm run by hand) does, before the real alarm fires.
 */
async function delayAlarm(stub: DurableObjectStub): Promise<void> {
  await runInDurableObject(stub, (_instance, state) => state.storage.setAlarm(Date.now() + 3_600_000));
}

function stored(status: number, text: string): StoredResponse {
  return { status, headers: { "content-type": "application/json" }, body: new TextEncoder().encode(text).buffer as ArrayBuffer };
}

describe("Idempotency-Key on POST routes", () => {
  it("replays the first answer byte for byte (status, body, content-type) and adjusts once", async () => {
    const sku = await stocked(10);
    const key = unique("key");
    const first = await adjust(sku, { delta: 5, reason: "restock" }, key);
    const firstText = await first.text();
    expect(first.status).toBe(200);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    expect(JSON.parse(firstText)).toMatchObject({ sku, on_hand: 15 });

    // Another change in between proves the replay is the stored answer, not a recomputed one.
    expect((await adjust(sku, { delta: 1, reason: "found" }, unique("key"))).status).toBe(200);

    // The same JSON with other key order and whitespace is the same request.
    const again = await call("POST", adjustPath(sku), {
      body: '{ "reason": "restock",\n  "delta": 5 }',
      headers: { ...ADMIN, "idempotency-key": key, "content-type": "application/json" },
    });
    expect(again.status).toBe(200);
    expect(await again.text()).toBe(firstText);
    expect(again.headers.get("content-type")).toBe(first.headers.get("content-type"));
    expect(again.headers.get("cache-control")).toBe("no-store");
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.headers.get("x-request-id")).not.toBe(first.headers.get("x-request-id"));
    expect(await onHand(sku)).toBe(16);
  });

  it("answers 422 idempotency_key_reused for the same key with another body or path, changing nothing", async () => {
    const [sku, other] = await Promise.all([stocked(10), stocked(10)]);
    const key = unique("key");
    expect((await adjust(sku, { delta: 5, reason: "restock" }, key)).status).toBe(200);
    await expectProblem(await adjust(sku, { delta: 6, reason: "restock" }, key), 422, "idempotency_key_reused");
    await expectProblem(await adjust(other, { delta: 5, reason: "restock" }, key), 422, "idempotency_key_reused");
    expect([await onHand(sku), await onHand(other)]).toEqual([15, 10]);
  });

  it("does not store a 400: the corrected request with the same key executes", async () => {
    const sku = await stocked(10);
    const key = unique("key");
    await expectProblem(await adjust(sku, { delta: 0, reason: "oops" }, key), 400, "invalid_request");
    const fixed = await adjust(sku, { delta: 2, reason: "oops" }, key);
    expect(fixed.status).toBe(200);
    expect(fixed.headers.get("idempotent-replayed")).toBeNull();
    expect(await onHand(sku)).toBe(12);
  });

  it("stores a 409 below_reserved and replays it even after the stock has changed", async () => {
    const sku = await stocked(10);
    await inventoryStub(env, sku).hold("h1", "cart-1", 8, 900);
    const key = unique("key");
    const first = await adjust(sku, { delta: -3, reason: "damaged" }, key);
    const firstBody = await expectProblem(first.clone(), 409, "below_reserved");
    expect(firstBody).toMatchObject({ reserved: 8, on_hand: 10 });

    await inventoryStub(env, sku).release("h1");
    const again = await adjust(sku, { delta: -3, reason: "damaged" }, key);
    expect(again.status).toBe(409);
    expect(again.headers.get("content-type")).toBe("application/problem+json");
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.text()).toBe(await first.text());
    expect(await onHand(sku)).toBe(10);
    // The first request's id stays in the replayed body; the header names this request.
    expect(again.headers.get("x-request-id")).not.toBe(firstBody.request_id);
  });

  it("lets exactly one of 50 concurrent requests with one key execute", async () => {
    const sku = await stocked(100);
    const key = unique("key");
    const responses = await Promise.all(Array.from({ length: 50 }, () => adjust(sku, { delta: -1, reason: "sold offline" }, key)));
    const answers = await Promise.all(responses.map(async (r) => ({ status: r.status, replayed: r.headers.get("idempotent-replayed"), body: await r.text() })));
    const executed = answers.filter((a) => a.status === 200 && a.replayed === null);
    expect(executed).toHaveLength(1);
    for (const answer of answers) {
      if (answer.status === 200) expect(answer.body).toBe(executed[0]!.body);
      else expect({ status: answer.status, code: (JSON.parse(answer.body) as { code: string }).code }).toEqual({ status: 409, code: "idempotency_key_in_use" });
    }
    // The requests really overlapped: some found the key still in flight.
    expect(answers.some((a) => a.status === 409)).toBe(true);
    expect(await onHand(sku)).toBe(99);

    const retry = await adjust(sku, { delta: -1, reason: "sold offline" }, key);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(await retry.text()).toBe(executed[0]!.body);
    expect(await onHand(sku)).toBe(99);
  });

  it("answers 409 idempotency_key_in_use while another attempt holds the key, and runs once it is freed", async () => {
    const sku = await stocked(10);
    const key = unique("key");
    const body = { delta: 4, reason: "restock" };
    const record = await idempotencyRecord(env, ADMIN_SCOPE, key);
    expect(await record.begin(await adjustFingerprint(sku, body), "other-attempt", 60_000)).toEqual({ state: "started", takeover: false });

    await expectProblem(await adjust(sku, body, key), 409, "idempotency_key_in_use");
    expect(await onHand(sku)).toBe(10);

    expect(await record.abandon("other-attempt")).toEqual({ ok: true });
    expect((await adjust(sku, body, key)).status).toBe(200);
    expect(await onHand(sku)).toBe(14);
  });

  it("takes over the key from an attempt that crashed once its lease has run out", async () => {
    const sku = await stocked(10);
    const key = unique("key");
    const body = { delta: 3, reason: "restock" };
    const record = await idempotencyRecord(env, ADMIN_SCOPE, key);
    await record.begin(await adjustFingerprint(sku, body), "crashed-attempt", 30);
    await delayAlarm(record);
    await sleep(60);

    const retried = await adjust(sku, body, key);
    expect(retried.status).toBe(200);
    expect(await onHand(sku)).toBe(13);
    // The crashed attempt, had it survived, can no longer overwrite the stored answer.
    expect(await record.complete("crashed-attempt", stored(500, "{}"), 60_000)).toEqual({ ok: false, reason: "lease_lost" });
    const replay = await adjust(sku, body, key);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await onHand(sku)).toBe(13);
  });

  it("validates the key: 1–255 printable characters, else 400 on header.idempotency-key", async () => {
    const sku = await stocked(10);
    for (const key of ["k".repeat(256), "", "tab\there", "del\u007f"]) {
      const response = await call("POST", adjustPath(sku), {
        body: { delta: 1, reason: "x" },
        headers: { ...ADMIN, "idempotency-key": key, "content-type": "application/json" },
      });
      const problem = await expectProblem(response, 400, "invalid_request");
      expect(problem.errors).toEqual([{ path: "header.idempotency-key", message: expect.any(String) }]);
    }
    expect(await onHand(sku)).toBe(10);
    expect((await adjust(sku, { delta: 1, reason: "x" }, `${"k".repeat(250)} a b`)).status).toBe(200);
    expect(await onHand(sku)).toBe(11);
  });

  it("ignores the header on other methods", async () => {
    const sku = unique("SKU");
    await defineSku(sku);
    const response = await call("PUT", `/v1/admin/inventory/${sku}`, { body: { on_hand: 3 }, headers: { ...ADMIN, "idempotency-key": "k".repeat(300) } });
    expect(response.status).toBe(200);
  });

  it("documents the header, 409 and 422 on every POST route and on no other", async () => {
    const doc = (await (await call("GET", "/v1/openapi.json")).json()) as {
      paths: Record<string, Record<string, { parameters: Array<{ name: string; in: string; required: boolean }>; responses: Record<string, { description: string }> }>>;
    };
    let posts = 0;
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const keyParams = operation.parameters.filter((p) => p.name === "idempotency-key");
        if (method !== "post" || path.startsWith("/v1/webhooks/")) {
          expect(keyParams, `${method} ${path}`).toEqual([]);
          continue;
        }
        if (path === "/v1/admin/storefront-keys" || path === "/v1/admin/webhook-endpoints") {
          // The POSTs that refuse the header: their answers hold a secret that is never stored.
          expect(keyParams, `${method} ${path}`).toEqual([expect.objectContaining({ in: "header", required: false, description: expect.stringContaining("Not accepted") })]);
          expect(operation.responses["422"]?.description ?? "", `${method} ${path}`).not.toContain("idempotency_key_reused");
          continue;
        }
        posts += 1;
        expect(keyParams, `${method} ${path}`).toEqual([expect.objectContaining({ in: "header", required: path.endsWith("/checkout") })]);
        expect(operation.responses["409"]?.description).toContain("idempotency_key_in_use");
        expect(operation.responses["422"]?.description).toContain("idempotency_key_reused");
      }
    }
    expect(posts).toBeGreaterThan(0);
  });
});

describe("idempotency scopes and route modes", () => {
  let executions = 0;
  const anonymousRequired = defineRoute({
    method: "POST",
    path: "/v1/test/things",
    operationId: "createThing",
    summary: "test route",
    tag: "test",
    auth: "none",
    idempotency: "required",
    body: z.strictObject({ name: z.string() }),
    responses: { 201: { description: "created" } },
    handler({ body }) {
      executions += 1;
      return json({ name: body.name, execution: executions }, 201);
    },
  });
  const post = (key: string | null, ip: string | null, body: unknown = { name: "a" }) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (key !== null) headers["idempotency-key"] = key;
    if (ip !== null) headers["cf-connecting-ip"] = ip;
    const request = new Request("http://edgecart.test/v1/test/things", { method: "POST", headers, body: JSON.stringify(body) });
    return runRoute(anonymousRequired, request, {}, env, createExecutionContext(), crypto.randomUUID(), services);
  };

  it("answers 400 idempotency_key_required when a route requires the key and it is missing", async () => {
    await expect(post(null, "192.0.2.1")).rejects.toMatchObject({ status: 400, code: "idempotency_key_required" });
  });

  it("scopes anonymous keys to the client IP: another IP's identical request executes on its own", async () => {
    const key = unique("key");
    const a = await post(key, "192.0.2.10");
    const b = await post(key, "192.0.2.11");
    const aAgain = await post(key, "192.0.2.10");
    const unknownIp = await post(key, null);
    const [aBody, bBody, aAgainBody, unknownBody] = (await Promise.all([a, b, aAgain, unknownIp].map((r) => r.json()))) as Array<{ execution: number }> as [
      { execution: number },
      { execution: number },
      { execution: number },
      { execution: number },
    ];
    expect(bBody.execution).not.toBe(aBody.execution);
    expect(unknownBody.execution).not.toBe(aBody.execution);
    expect(aAgainBody).toEqual(aBody);
    expect(aAgain.headers.get("idempotent-replayed")).toBe("true");
    await expect(post(key, "192.0.2.10", { name: "b" })).rejects.toMatchObject({ status: 422, code: "idempotency_key_reused" });
  });

  it("keeps two credentials' records apart and names objects by hashes only", async () => {
    const key = unique("key");
    const fingerprint = await requestFingerprint("POST", "/v1/carts/c1/checkout", canonicalJson({ email: "a@b.example" }));
    let runs = 0;
    const run = () => {
      runs += 1;
      return json({ run: runs }, 201);
    };
    for (const scope of ["cart:token-A", "cart:token-B", "cart:token-A"]) await withIdempotency(idempotencyRecords, env, { scope, key, fingerprint }, "req", run);
    expect(runs).toBe(2);

    const stub = await idempotencyRecord(env, "cart:secret-token-123", key);
    expect(stub.id.name).toMatch(/^[0-9a-f]{64}:[0-9a-f]{64}$/);
    expect(stub.id.name).not.toContain("secret-token-123");
  });

  it("frees the key after a 5xx, a 429 or a thrown fault, and stores a 404", async () => {
    const key = unique("key");
    const claim = { scope: `ip:${unique("ip")}`, key, fingerprint: await requestFingerprint("POST", "/x", "") };
    let runs = 0;
    const outcomes: Array<() => Response> = [
      () => problemResponse(new ApiError(503, "database_unavailable", "down"), "req"),
      () => {
        throw new ApiError(429, "rate_limited", "slow down");
      },
      () => {
        throw new Error("bug");
      },
      () => {
        throw new ApiError(404, "not_found", "gone");
      },
    ];
    const statuses: number[] = [];
    for (const outcome of outcomes) {
      try {
        const response = await withIdempotency(idempotencyRecords, env, claim, "req", () => {
          runs += 1;
          return outcome();
        });
        statuses.push(response.status);
      } catch {
        statuses.push(-1);
      }
    }
    expect(statuses).toEqual([503, 429, -1, 404]);
    const replay = await withIdempotency(idempotencyRecords, env, claim, "req-2", () => {
      runs += 1;
      return json({}, 200);
    });
    expect(replay.status).toBe(404);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(((await replay.json()) as { request_id: string }).request_id).toBe("req");
    expect(runs).toBe(4);
  });
});

describe("IdempotencyObject", () => {
  const newRecord = () => idempotencyRecord(env, `test:${unique("scope")}`, unique("key"));

  it("reports in_flight to other attempts, resumes for the same attempt, then replays or refuses another fingerprint", async () => {
    const record = await newRecord();
    expect(await record.begin("fp-1", "a1", 60_000)).toEqual({ state: "started", takeover: false });
    expect(await record.begin("fp-1", "a2", 60_000)).toEqual({ state: "in_flight" });
    expect(await record.begin("fp-2", "a2", 60_000)).toEqual({ state: "in_flight" });
    expect(await record.begin("fp-1", "a1", 60_000)).toEqual({ state: "started", takeover: false });
    expect(await record.complete("a1", stored(201, '{"id":1}'), 60_000)).toEqual({ ok: true });
    expect(await record.complete("a1", stored(201, '{"id":1}'), 60_000)).toEqual({ ok: true });
    const replay = await record.begin("fp-1", "a3", 60_000);
    expect(replay).toMatchObject({ state: "completed", status: 201, headers: { "content-type": "application/json" } });
    expect(new TextDecoder().decode((replay as StoredResponse).body!)).toBe('{"id":1}');
    expect(await record.begin("fp-2", "a4", 60_000)).toEqual({ state: "mismatch" });
    expect(await record.abandon("a1")).toEqual({ ok: false, reason: "lease_lost" });
  });

  it("lets a new attempt take over after the lease ran out, and refuses the stale attempt afterwards", async () => {
    const record = await newRecord();
    await record.begin("fp", "crashed", 30);
    await delayAlarm(record);
    await sleep(60);
    expect(await record.begin("fp", "retry", 60_000)).toEqual({ state: "started", takeover: true });
    expect(await record.abandon("crashed")).toEqual({ ok: false, reason: "lease_lost" });
    expect(await record.complete("crashed", stored(200, "{}"), 60_000)).toEqual({ ok: false, reason: "lease_lost" });
    expect(await record.begin("fp", "third", 60_000)).toEqual({ state: "in_flight" });
    expect(await record.complete("retry", stored(200, '{"ok":true}'), 60_000)).toEqual({ ok: true });
    expect(await record.begin("fp", "fourth", 60_000)).toMatchObject({ state: "completed", status: 200 });
  });

  it("treats an expired lease as an unstored answer: a request with another body may use the key", async () => {
    const record = await newRecord();
    await record.begin("fp-1", "crashed", 30);
    await delayAlarm(record);
    await sleep(60);
    expect(await record.begin("fp-2", "next", 60_000)).toEqual({ state: "started", takeover: true });
  });

  it("deletes a completed record in the alarm only once its retention is over", async () => {
    const record = await newRecord();
    await record.begin("fp", "a1", 60_000);
    const completedAt = Date.now();
    await record.complete("a1", stored(200, "{}"), 500);

    // Early (an alarm may fire before its time): the record stays and the alarm is re-armed.
    expect(await runDurableObjectAlarm(record)).toBe(true);
    expect(await record.begin("fp", "a2", 60_000)).toMatchObject({ state: "completed" });
    const rearmed = await runInDurableObject(record, (_instance, state) => state.storage.getAlarm());
    expect(rearmed).toBeGreaterThanOrEqual(completedAt + 500);
    expect(rearmed).toBeLessThan(completedAt + 60_000);

    await delayAlarm(record);
    await sleep(550);
    expect(await runDurableObjectAlarm(record)).toBe(true);
    expect(await userTables(record)).toEqual([]);
    expect(await runInDurableObject(record, (_instance, state) => state.storage.getAlarm())).toBeNull();
    expect(await record.begin("fp", "a3", 60_000)).toEqual({ state: "started", takeover: false });
  });

  it("deletes an abandoned key at once and a crashed attempt's record when its lease alarm fires", async () => {
    const abandoned = await newRecord();
    await abandoned.begin("fp", "a1", 60_000);
    expect(await abandoned.abandon("a1")).toEqual({ ok: true });
    expect(await userTables(abandoned)).toEqual([]);

    const crashed = await newRecord();
    await crashed.begin("fp", "a1", 30);
    await delayAlarm(crashed);
    await sleep(60);
    expect(await runDurableObjectAlarm(crashed)).toBe(true);
    expect(await userTables(crashed)).toEqual([]);
    expect(await crashed.complete("a1", stored(200, "{}"), 60_000)).toEqual({ ok: false, reason: "lease_lost" });
    expect(await userTables(crashed)).toEqual([]);
  });
});
