// Idempotency scopes and route modes, and the IdempotencyObject that keeps a key's record
// (Idempotency-Key on the API's POST routes: test/idempotency.test.ts).
import { createExecutionContext, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import type { StoredResponse } from "../src/domain/idempotency";
import { runRoute } from "../src/http/dispatch";
import { canonicalJson, requestFingerprint, withIdempotency } from "../src/http/idempotency";
import { ApiError, problemResponse } from "../src/http/problem";
import { defineRoute, json } from "../src/http/route";
import { idempotencyRecords, services } from "../src/router";
import { unique } from "./helpers";
import { delayAlarm, idempotencyRecord, sleep, stored, userTables } from "./lib/idempotency";

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
    const [aBody, bBody, aAgainBody, unknownBody] = (await Promise.all([a, b, aAgain, unknownIp].map((r) => r.json()))) as Array<{
      execution: number;
    }> as [{ execution: number }, { execution: number }, { execution: number }, { execution: number }];
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
    for (const scope of ["cart:token-A", "cart:token-B", "cart:token-A"])
      await withIdempotency(idempotencyRecords, env, { scope, key, fingerprint }, "req", run);
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
