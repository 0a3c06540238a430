// Idempotency-Key on the API's POST routes (scopes, route modes and the IdempotencyObject itself:
// test/idempotency-records.test.ts).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { inventoryStub } from "../src/objects/stubs";
import { ADMIN, call, defineSku, expectProblem, unique } from "./helpers";
import {
  ADMIN_SCOPE,
  adjust,
  adjustFingerprint,
  adjustPath,
  delayAlarm,
  idempotencyRecord,
  onHand,
  sleep,
  stocked,
  stored,
} from "./lib/idempotency";

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
    const answers = await Promise.all(
      responses.map(async (r) => ({ status: r.status, replayed: r.headers.get("idempotent-replayed"), body: await r.text() })),
    );
    const executed = answers.filter((a) => a.status === 200 && a.replayed === null);
    expect(executed).toHaveLength(1);
    for (const answer of answers) {
      if (answer.status === 200) expect(answer.body).toBe(executed[0]!.body);
      else
        expect({ status: answer.status, code: (JSON.parse(answer.body) as { code: string }).code }).toEqual({
          status: 409,
          code: "idempotency_key_in_use",
        });
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
    const response = await call("PUT", `/v1/admin/inventory/${sku}`, {
      body: { on_hand: 3 },
      headers: { ...ADMIN, "idempotency-key": "k".repeat(300) },
    });
    expect(response.status).toBe(200);
  });

  it("documents the header, 409 and 422 on every POST route and on no other", async () => {
    const doc = (await (await call("GET", "/v1/openapi.json")).json()) as {
      paths: Record<
        string,
        Record<
          string,
          { parameters: Array<{ name: string; in: string; required: boolean }>; responses: Record<string, { description: string }> }
        >
      >;
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
          expect(keyParams, `${method} ${path}`).toEqual([
            expect.objectContaining({ in: "header", required: false, description: expect.stringContaining("Not accepted") }),
          ]);
          expect(operation.responses["422"]?.description ?? "", `${method} ${path}`).not.toContain("idempotency_key_reused");
          continue;
        }
        posts += 1;
        expect(keyParams, `${method} ${path}`).toEqual([
          expect.objectContaining({ in: "header", required: path.endsWith("/checkout") || path.endsWith("/merge") }),
        ]);
        expect(operation.responses["409"]?.description).toContain("idempotency_key_in_use");
        expect(operation.responses["422"]?.description).toContain("idempotency_key_reused");
      }
    }
    expect(posts).toBeGreaterThan(0);
  });
});
