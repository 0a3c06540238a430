// The fuzzer of test/fuzz.test.ts and test/fuzz-seeds.test.ts (what it sends and asserts: the
// comment at the top of test/fuzz.test.ts): the state it tracks, set up once per file, and one run
// of REQUESTS requests from a seed.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { Order } from "../../src/contracts";
import { inventoryStub } from "../../src/objects/stubs";
import { accessOf, call, createStockedProduct, newCart, unique } from "../helpers";
import { describeRequest, type Outcome, requestArbitrary, send } from "./fuzz";
import { productRow, snapshot, type Tracked } from "./fuzz-state";
import { type Operation, servedOperations } from "./openapi";

export const REQUESTS = 5_000;
/** Unprivileged requests in flight together. */
const CONCURRENCY = 16;

/** One fuzz run: its test's name and its seed (read when the run starts). */
export interface FuzzRun {
  name: string;
  seed: () => number;
}

/** Runs of seeds kept because they once found a defect. */
export function keptSeeds(seeds: number[]): FuzzRun[] {
  return seeds.map((seed) => ({ name: `answers the ${REQUESTS} requests of seed ${seed} the same way`, seed: () => seed }));
}

/**
 * The file's runs, one test each, one after another, on the state set up once for them: a stocked
 * SKU, an open cart, a checked-out cart and its pending order, and another cart.
 */
export function fuzzing(runs: FuzzRun[]): void {
  describe("fuzzing every operation of the OpenAPI document", () => {
    let tracked: Tracked;
    let operations: Operation[] = [];

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

    // 5,000 requests took 17–103 s in CI on two busy cores: a budget, not a speed assertion.
    for (const run of runs) it(run.name, () => fuzzRun(run.seed(), tracked, operations), 180_000);
  });
}

async function fuzzRun(seed: number, tracked: Tracked, operations: Operation[]): Promise<void> {
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
}
