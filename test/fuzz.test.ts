// Fuzzing every operation of the served OpenAPI document (fetched at run time, so new routes are
// covered as they appear) with hostile requests: wrong and missing and extra fields, extreme
// numbers, odd strings and ids (unicode, very long, path traversal, percent-encoding, NUL),
// wrong methods, bad headers (content-type, authorization garbage, huge Idempotency-Keys, If-Match
// garbage), malformed and oversized bodies. A fraction carries valid credentials (the admin token,
// real cart tokens, correctly signed webhooks) so the fuzzer gets past authentication.
//
// Asserted: no answer is a 5xx; every 4xx is RFC 9457 problem+json with its members; and no
// rejected request changes state. State is a stocked SKU (its stock, holds and catalog entry), an
// open cart, a checked-out cart and its pending order, and (at the end) the product in Postgres.
// Requests that carry no valid credential (or only read) run in concurrent batches, and the state
// must be identical across each batch; requests with a valid credential that could legitimately
// change something run one at a time, each between two snapshots, and may change the state only
// when they are accepted (2xx, or 409 price_changed, which reprices the cart by design).
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { Order } from "../src/contracts";
import { inventoryStub } from "../src/objects/stubs";
import { accessOf, call, createStockedProduct, newCart, unique } from "./helpers";
import { describeRequest, type Outcome, requestArbitrary, send } from "./lib/fuzz";
import { productRow, snapshot, type Tracked } from "./lib/fuzz-state";
import { type Operation, servedOperations } from "./lib/openapi";

const REQUESTS = 5_000;
/** Unprivileged requests in flight together. */
const CONCURRENCY = 16;

let tracked: Tracked;
let operations: Operation[] = [];

describe("fuzzing every operation of the OpenAPI document", () => {
  beforeAll(async () => {
    operations = await servedOperations();
    const sku = unique("FUZZ");
    const productId = await createStockedProduct([sku], 50);
    const cart = await newCart();
    const ordered = await newCart();
    const other = await newCart();
    expect((await call("PUT", `/v1/carts/${cart.id}/items/${sku}`, { body: { quantity: 2 }, headers: cart.headers })).status).toBe(200);
    expect((await call("PUT", `/v1/carts/${ordered.id}/items/${sku}`, { body: { quantity: 1 }, headers: ordered.headers })).status).toBe(
      200,
    );
    const checkout = await call("POST", `/v1/carts/${ordered.id}/checkout`, {
      body: { email: "fuzz@example.com" },
      headers: { ...ordered.headers, "idempotency-key": unique("k") },
    });
    expect(checkout.status).toBe(201);
    tracked = {
      sku,
      productId,
      cart,
      ordered,
      other,
      order: (await checkout.json()) as Order,
      hashes: [await accessOf(cart), await accessOf(ordered)],
    };
  });

  it(
    `answers ${REQUESTS} hostile requests without a 5xx, with problem+json for every 4xx, and no rejected request changes state (a new seed each run)`,
    () => fuzzRun(Date.now() % 2 ** 31),
    180_000,
  );

  // Seeds that found something, kept as fixed runs beside the fresh one: 760680742, a replayed
  // answer (its first request's request_id, by contract) reported as a defect by this checker;
  // 765916553, a backlog walk over 8,000 days that answered 500 and starved the runtime;
  // 777841346, DELETE of a promotion code on a cart that was never changed answered 500;
  // 816950192, a storefront key named with a NUL character, which Postgres refused (500).
  // A seed replays the requests that found its defect only while the served operations are the
  // same (the requests are drawn from them): the API has grown since the first two were found.
  // So each finding also has a test of its own: idempotency-records.test.ts (a replay's
  // request_id), payment-recovery.test.ts (the bounded backlog walk), promotions.test.ts (the
  // code on an unchanged cart), hostile-input.test.ts (NUL).
  for (const seed of [760680742, 765916553, 777841346, 816950192])
    it(`answers the ${REQUESTS} requests of seed ${seed} the same way`, () => fuzzRun(seed), 180_000);
});

async function fuzzRun(seed: number): Promise<void> {
  const productBefore = await productRow(tracked.productId);
  const arbitrary = requestArbitrary(tracked, operations);
  const stats = {
    sent: 0,
    unsendable: 0,
    privileged: 0,
    privilegedRejected: 0,
    strictBatches: 0,
    byClass: new Map<string, number>(),
    byOperation: new Map<string, { sent: number; ok: number }>(),
  };
  const failures: string[] = [];
  const stateViolations: string[] = [];
  let productWrites = 0;

  const record = (outcome: Outcome | null) => {
    if (outcome === null) {
      stats.unsendable++;
      return;
    }
    stats.sent++;
    const cls = `${Math.floor(outcome.status / 100)}xx`;
    stats.byClass.set(cls, (stats.byClass.get(cls) ?? 0) + 1);
    const op = stats.byOperation.get(outcome.request.operation.operationId) ?? { sent: 0, ok: 0 };
    op.sent++;
    if (outcome.status < 300) op.ok++;
    stats.byOperation.set(outcome.request.operation.operationId, op);
    if (outcome.status >= 500) failures.push(`${outcome.status} ${outcome.code}: ${describeRequest(outcome.request)}`);
    else if (outcome.problem) failures.push(`${outcome.status} ${outcome.problem}: ${describeRequest(outcome.request)}`);
  };

  let state = await snapshot(tracked);
  while (stats.sent < REQUESTS) {
    const chunk = fc.sample(arbitrary, { numRuns: 64, seed: seed + stats.sent + stats.unsendable });
    const open = chunk.filter((r) => !r.privileged);
    for (let i = 0; i < open.length; i += CONCURRENCY) {
      const batch = open.slice(i, i + CONCURRENCY);
      const outcomes = await Promise.all(batch.map(send));
      outcomes.forEach(record);
      const after = await snapshot(tracked);
      stats.strictBatches++;
      if (after !== state)
        stateViolations.push(`state changed across a batch without credentials: ${batch.map(describeRequest).join(" | ")}`);
      state = after;
    }
    for (const request of chunk.filter((r) => r.privileged)) {
      const outcome = await send(request);
      record(outcome);
      if (outcome === null) continue;
      stats.privileged++;
      const accepted = outcome.status < 300 || (outcome.status === 409 && outcome.code === "price_changed");
      if (!accepted) stats.privilegedRejected++;
      if (accepted && outcome.request.method !== "GET" && outcome.request.path.startsWith(`/v1/admin/products/${tracked.productId}`))
        productWrites++;
      const after = await snapshot(tracked);
      if (after !== state && !accepted)
        stateViolations.push(`a rejected request (${outcome.status} ${outcome.code}) changed state: ${describeRequest(request)}`);
      state = after;
    }
  }

  // The catalog product in Postgres changed only if an accepted admin write addressed it.
  if (productWrites === 0) expect(await productRow(tracked.productId)).toEqual(productBefore);
  const ledger = await inventoryStub(env, tracked.sku).verify();
  const coverage = Object.fromEntries([...stats.byOperation].sort().map(([id, { sent, ok }]) => [id, `${ok}/${sent}`]));
  console.log(
    `fuzz (seed ${seed}): ${stats.sent} requests over ${operations.length} operations (${stats.unsendable} not expressible as requests); ` +
      `${JSON.stringify(Object.fromEntries(stats.byClass))}; ${stats.privileged} with a valid credential checked one by one (${stats.privilegedRejected} of them rejected), ${stats.strictBatches} batches without one checked for no change; ` +
      `5xx ${failures.filter((f) => /^5\d\d /.test(f)).length}, malformed problems ${failures.filter((f) => !/^5\d\d /.test(f)).length}, state changes by rejected requests ${stateViolations.length}; 2xx/sent per operation ${JSON.stringify(coverage)}`,
  );
  expect(failures, `seed ${seed}`).toEqual([]);
  expect(stateViolations, `seed ${seed}`).toEqual([]);
  expect(ledger.ok, JSON.stringify(ledger)).toBe(true);
  expect(stats.sent).toBeGreaterThanOrEqual(REQUESTS);
  // Every operation was exercised, and most were also reached with an accepted request.
  for (const op of operations)
    expect(stats.byOperation.get(op.operationId)?.sent ?? 0, op.operationId).toBeGreaterThan(REQUESTS / operations.length / 3);
  expect([...stats.byOperation.values()].filter((o) => o.ok > 0).length).toBeGreaterThanOrEqual(operations.length / 2);
  // 5,000 requests take 20–30 s on two busy cores: a budget, not a speed assertion.
}
