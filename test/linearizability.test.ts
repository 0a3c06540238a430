// Linearizability of one SKU's InventoryObject under real concurrency: random concurrent histories
// of hold/release/commit/adjust are fired at the object over RPC, every operation's invocation and
// response recorded, and each history checked against the sequential model in
// test/lib/linearizability.ts (independent of src/).
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { inventoryStub } from "../src/objects/stubs";
import { defineSku, unique } from "./helpers";
import { checkLinearizable, type InventoryInput, type InventoryOutput, inventoryModel, type Operation } from "./lib/linearizability";

const HISTORIES = 200;
/** Long enough that no hold expires while a history runs (expiry is not part of the model). */
const TTL_SECONDS = 900;

/** What the model predicts of an answer: outcome, reason and reported levels (not expires_at or pricing). */
function observable(answer: object): InventoryOutput {
  const result = answer as Record<string, unknown>;
  const picked: Record<string, unknown> = {};
  for (const key of ["ok", "reason", "on_hand", "reserved", "available", "quantity", "released", "duplicate"]) {
    if (result[key] !== undefined) picked[key] = result[key];
  }
  return picked as InventoryOutput;
}

async function invoke(sku: string, input: InventoryInput): Promise<InventoryOutput> {
  // A stub per call: separate connections to the one object, as separate Workers would have.
  const stub = inventoryStub(env, sku);
  switch (input.kind) {
    case "hold":
      return observable(await stub.hold(input.holdId, input.owner, input.quantity, TTL_SECONDS));
    case "release":
      return observable(await stub.release(input.holdId));
    case "commit":
      return observable(await stub.commit(input.holdId));
    case "adjust":
      return observable(await stub.adjust(input.delta, "linearizability", input.opId));
  }
}

const holdId = fc.constantFrom("h1", "h2", "h3", "h4");
const input: fc.Arbitrary<InventoryInput> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("hold" as const),
      holdId,
      owner: fc.constantFrom("o1", "o1", "o2"),
      quantity: fc.integer({ min: 0, max: 3 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("release" as const), holdId }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("commit" as const), holdId }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("adjust" as const),
      delta: fc.integer({ min: -3, max: 3 }).filter((d) => d !== 0),
      opId: fc.constantFrom("a1", "a2", "a3"),
    }),
  },
);

/**
 * A history: stock, a short sequential prefix, then a burst of concurrent operations. Each burst
 * operation starts at once or when an earlier one (`after`) has responded, so a history mixes
 * operations in flight together with operations ordered in real time.
 */
const scenario = fc.record({
  onHand: fc.integer({ min: 1, max: 5 }),
  prefix: fc.array(input, { maxLength: 3 }),
  burst: fc.array(fc.record({ input, after: fc.nat() }), { minLength: 5, maxLength: 12 }),
});

type Plan = { onHand: number; prefix: InventoryInput[]; burst: Array<{ input: InventoryInput; after: number }> };

/**
 * Runs one history against a fresh SKU. Invocation and response are stamped with
 * performance.now() for the record and with a logical clock that gives them a total real-time
 * order: the test isolate is single-threaded, so "A's response was seen before B was invoked"
 * is exact, while workerd's coarse clocks (which only move across I/O) would tie many events.
 */
async function runHistory(plan: Plan) {
  const sku = unique("LIN");
  await defineSku(sku);
  const stocked = await inventoryStub(env, sku).setOnHand(plan.onHand);
  expect(stocked.ok).toBe(true);
  let clock = 0;
  const history: Array<Operation<InventoryInput, InventoryOutput> & { startedAt: number; endedAt: number }> = [];
  const record = async (op: InventoryInput, id: number) => {
    const call = ++clock;
    const startedAt = performance.now();
    const output = await invoke(sku, op);
    history.push({ id, input: op, output, call, ret: ++clock, startedAt, endedAt: performance.now() });
  };
  let id = 0;
  for (const op of plan.prefix) await record(op, id++);
  const started: Array<Promise<void>> = [];
  plan.burst.forEach(({ input: op, after }, i) => {
    // after % (i + 1) - 1: -1 starts now, j waits for burst operation j to respond.
    const predecessor = started[(after % (i + 1)) - 1];
    started.push(predecessor ? predecessor.then(() => record(op, id + i)) : record(op, id + i));
  });
  await Promise.all(started);
  return { sku, history };
}

describe("InventoryObject linearizability", () => {
  it(`linearizes ${HISTORIES} concurrent histories of hold/release/commit/adjust on a small stock, with the ledger verifying after each`, async () => {
    let histories = 0;
    let operations = 0;
    let overlapping = 0;
    let explored = 0;
    const outcomes = new Map<string, number>();
    const violations: unknown[] = [];
    // A fresh seed each run, printed so a failing run can be replayed.
    const seed = Date.now() % 2 ** 31;
    const plans = fc.sample(scenario, { numRuns: HISTORIES, seed });
    for (const plan of plans) {
      const { sku, history } = await runHistory(plan);
      histories++;
      operations += history.length;
      for (const op of history) {
        const label = op.output.ok ? `${op.input.kind}:ok` : `${op.input.kind}:${op.output.reason}`;
        outcomes.set(label, (outcomes.get(label) ?? 0) + 1);
      }
      // Real concurrency: some pair of operations was in flight at the same time.
      if (history.some((a) => history.some((b) => a !== b && a.call < b.ret && b.call < a.ret))) overlapping++;
      // The logical order refines the clock: what the clock orders, the logical stamps order alike.
      for (const a of history) for (const b of history) if (a.endedAt < b.startedAt) expect(a.ret).toBeLessThan(b.call);
      const result = checkLinearizable(inventoryModel(plan.onHand), history);
      explored += result.explored;
      if (!result.ok)
        violations.push({
          sku,
          onHand: plan.onHand,
          history: [...history].sort((a, b) => a.call - b.call),
          longestPrefix: result.longestPrefix,
        });
      const check = await inventoryStub(env, sku).verify();
      expect(check.ok, JSON.stringify(check)).toBe(true);
      expect(check.on_hand).toBeGreaterThanOrEqual(0);
    }
    console.log(
      `linearizability (seed ${seed}): ${histories} histories, ${operations} operations, ${overlapping} with overlapping operations, ${explored} search steps, ${violations.length} violations; outcomes ${JSON.stringify(Object.fromEntries([...outcomes].sort()))}`,
    );
    expect(violations, `seed ${seed}: ${JSON.stringify(violations[0], null, 1)}`).toEqual([]);
    expect(histories).toBe(HISTORIES);
    // The histories were concurrent and the refusals that depend on order did happen.
    expect(overlapping).toBeGreaterThan(HISTORIES * 0.9);
    expect(outcomes.get("hold:insufficient_stock") ?? 0).toBeGreaterThan(20);
    expect(outcomes.get("adjust:below_reserved") ?? 0).toBeGreaterThan(5);
    // 200 histories took 15–32 s in CI on two busy cores: a budget, not a speed assertion.
  }, 120_000);
});

describe("the linearizability checker", () => {
  const op = (
    id: number,
    input: InventoryInput,
    output: InventoryOutput,
    call: number,
    ret: number,
  ): Operation<InventoryInput, InventoryOutput> => ({ id, input, output, call, ret });
  const hold = (holdId: string, quantity = 1): InventoryInput => ({ kind: "hold", holdId, owner: "o", quantity });

  it("finds the violation when two holds on one unit both succeed one after the other", () => {
    const history = [
      op(0, hold("h1"), { ok: true, quantity: 1, on_hand: 1, reserved: 1, available: 0 }, 1, 2),
      op(1, hold("h2"), { ok: true, quantity: 1, on_hand: 1, reserved: 1, available: 0 }, 3, 4),
    ];
    expect(checkLinearizable(inventoryModel(1), history)).toMatchObject({ ok: false });
  });

  it("finds the violation when two overlapping holds on one unit both succeed", () => {
    const history = [
      op(0, hold("h1"), { ok: true, quantity: 1, on_hand: 1, reserved: 1, available: 0 }, 1, 3),
      op(1, hold("h2"), { ok: true, quantity: 1, on_hand: 1, reserved: 1, available: 0 }, 2, 4),
    ];
    expect(checkLinearizable(inventoryModel(1), history)).toMatchObject({ ok: false });
  });

  it("finds a stale read: an adjustment that completed is missing from a later answer", () => {
    const history = [
      op(0, { kind: "adjust", delta: 2, opId: "a" }, { ok: true, duplicate: false, on_hand: 3, reserved: 0, available: 3 }, 1, 2),
      op(1, { kind: "release", holdId: "h9" }, { ok: true, released: 0, on_hand: 1, reserved: 0, available: 1 }, 3, 4),
    ];
    expect(checkLinearizable(inventoryModel(1), history)).toMatchObject({ ok: false });
  });

  it("accepts a concurrent history whose only valid order is not the invocation order", () => {
    const history = [
      op(0, hold("h1"), { ok: false, reason: "insufficient_stock", available: 0 }, 1, 4),
      op(1, hold("h2"), { ok: true, quantity: 1, on_hand: 1, reserved: 1, available: 0 }, 2, 3),
      op(2, { kind: "commit", holdId: "h2" }, { ok: true, quantity: 1, duplicate: false, on_hand: 0, reserved: 0, available: 0 }, 5, 6),
    ];
    expect(checkLinearizable(inventoryModel(1), history)).toMatchObject({ ok: true, order: [1, 0, 2] });
  });

  it("respects real time: an order that explains the answers is refused when it reverses completed operations", () => {
    // Only "h2 then h1" explains the answers, but h1 responded before h2 was invoked.
    const history = [
      op(0, hold("h1"), { ok: false, reason: "insufficient_stock", available: 0 }, 1, 2),
      op(1, hold("h2"), { ok: true, quantity: 1, on_hand: 1, reserved: 1, available: 0 }, 3, 4),
    ];
    expect(checkLinearizable(inventoryModel(1), history)).toMatchObject({ ok: false });
    const overlapping = history.map((o) => (o.id === 0 ? { ...o, ret: 5 } : o));
    expect(checkLinearizable(inventoryModel(1), overlapping)).toMatchObject({ ok: true, order: [1, 0] });
  });
});
