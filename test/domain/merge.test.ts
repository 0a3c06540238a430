// Cart merge at sign-in (src/domain/merge.ts), on its own: the rule per SKU, the hold moves it
// plans, retries after a refused move, and the report.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type HoldMove, type LineLimit, type MergeLine, type MergeMode, mergeReport, planMerge, retryMove } from "../../src/domain/merge";

/** Runs a property at least `numRuns` times and prints how many it did. */
function assertProperty<T>(name: string, arbitrary: fc.Arbitrary<T>, predicate: (value: T) => void, numRuns = 1000): void {
  let runs = 0;
  fc.assert(
    fc.property(arbitrary, (value) => {
      runs += 1;
      predicate(value);
    }),
    { numRuns },
  );
  console.log(`property "${name}": ${runs} runs`);
  expect(runs).toBeGreaterThanOrEqual(numRuns);
}

const line = (sku: string, quantity: number): MergeLine => ({ sku, quantity });
const move = (overrides: Partial<HoldMove> & { sku: string }): HoldMove => ({
  source: 0,
  target: 0,
  requested: 0,
  quantity: 0,
  reported: true,
  ...overrides,
});

describe("planMerge, merge mode", () => {
  it("keeps the larger quantity of a SKU in both carts, never the sum, and adds the source's other SKUs", () => {
    const plan = planMerge([line("A", 2), line("B", 5)], [line("A", 3), line("B", 1), line("C", 4)], "merge", 10);
    expect(plan.moves).toEqual([
      move({ sku: "A", source: 3, target: 2, requested: 3, quantity: 3 }),
      move({ sku: "B", source: 1, target: 5, requested: 5, quantity: 5 }),
      move({ sku: "C", source: 4, target: 0, requested: 4, quantity: 4 }),
    ]);
    expect(plan.lines).toEqual([line("A", 3), line("B", 5), line("C", 4)]);
    expect(mergeReport(plan.moves).map((entry) => entry.outcome)).toEqual(["merged", "merged", "merged"]);
  });

  it("leaves a SKU only in the target alone: no move, not reported", () => {
    const plan = planMerge([line("A", 2), line("Z", 7)], [line("A", 1)], "merge", 10);
    expect(plan.unchanged).toEqual([line("Z", 7)]);
    expect(plan.moves.map((m) => m.sku)).toEqual(["A"]);
    expect(plan.lines).toEqual([line("A", 2), line("Z", 7)]);
    expect(mergeReport(plan.moves).map((entry) => entry.sku)).toEqual(["A"]);
  });

  it("clamps to the line limit, per SKU when given a function, and reports it reduced", () => {
    const plan = planMerge([line("A", 4)], [line("A", 9), line("B", 3)], "merge", (sku) => (sku === "A" ? 6 : 2));
    expect(mergeReport(plan.moves)).toEqual([
      { sku: "A", outcome: "reduced", requested: 9, quantity: 6, reason: "line_limit" },
      { sku: "B", outcome: "reduced", requested: 3, quantity: 2, reason: "line_limit" },
    ]);
  });

  it("clamps a target line that is over a since-lowered limit", () => {
    const plan = planMerge([line("A", 8)], [line("A", 1)], "merge", 5);
    expect(plan.moves).toEqual([move({ sku: "A", source: 1, target: 8, requested: 8, quantity: 5, cut: "line_limit" })]);
  });

  it("drops a line whose limit is 0", () => {
    expect(mergeReport(planMerge([], [line("A", 2)], "merge", 0).moves)).toEqual([
      { sku: "A", outcome: "dropped", requested: 2, quantity: 0, reason: "line_limit" },
    ]);
  });
});

describe("planMerge, replace mode", () => {
  it("makes the target's lines the source's and releases the target-only SKUs' holds without reporting them", () => {
    const plan = planMerge([line("A", 5), line("Z", 1)], [line("A", 2), line("B", 1)], "replace", 10);
    expect(plan.moves).toEqual([
      move({ sku: "A", source: 2, target: 5, requested: 2, quantity: 2 }),
      move({ sku: "B", source: 1, target: 0, requested: 1, quantity: 1 }),
      move({ sku: "Z", source: 0, target: 1, requested: 0, quantity: 0, reported: false }),
    ]);
    expect(plan.unchanged).toEqual([]);
    expect(plan.lines).toEqual([line("A", 2), line("B", 1)]);
    expect(mergeReport(plan.moves).map((entry) => entry.sku)).toEqual(["A", "B"]);
  });

  it("empties the target when the source is empty", () => {
    const plan = planMerge([line("A", 5)], [], "replace", 10);
    expect(plan.lines).toEqual([]);
    expect(plan.moves).toEqual([move({ sku: "A", target: 5, reported: false })]);
    expect(mergeReport(plan.moves)).toEqual([]);
  });
});

describe("planMerge input", () => {
  it("refuses a cart with two lines for one SKU or a line without units", () => {
    expect(() => planMerge([line("A", 1), line("A", 2)], [], "merge", 10)).toThrow(RangeError);
    expect(() => planMerge([], [line("A", 0)], "merge", 10)).toThrow(RangeError);
    expect(() => planMerge([], [line("A", 1.5)], "merge", 10)).toThrow(RangeError);
  });
});

describe("retryMove and the report after refusals", () => {
  const lapsed = move({ sku: "A", source: 6, target: 2, requested: 6, quantity: 6 });

  it("asks for what is available after insufficient_stock, and reports the line reduced", () => {
    const next = retryMove(lapsed, { reason: "insufficient_stock", available: 4 });
    expect(next).toEqual({ ...lapsed, quantity: 4, cut: "insufficient_stock" });
    expect(mergeReport([next!])).toEqual([{ sku: "A", outcome: "reduced", requested: 6, quantity: 4, reason: "insufficient_stock" }]);
  });

  it("drops the line when nothing is available", () => {
    const next = retryMove(move({ sku: "A", source: 3, requested: 3, quantity: 3 }), { reason: "insufficient_stock", available: 0 });
    expect(mergeReport([next!])).toEqual([{ sku: "A", outcome: "dropped", requested: 3, quantity: 0, reason: "insufficient_stock" }]);
  });

  it("follows the SKU's own limit and the client's cap", () => {
    expect(retryMove(lapsed, { reason: "quantity_limit_exceeded", limit: 3 })).toMatchObject({ quantity: 3, cut: "line_limit" });
    expect(retryMove(lapsed, { reason: "client_hold_limit", limit: 5, held: 4 })).toMatchObject({ quantity: 1, cut: "client_hold_limit" });
  });

  it("falls back to the target's own units when the SKU cannot be taken now, then to nothing", () => {
    const first = retryMove(lapsed, { reason: "unknown_sku" });
    expect(first).toMatchObject({ quantity: 2, cut: "unavailable" });
    expect(retryMove(first!, { reason: "unknown_sku" })).toMatchObject({ quantity: 1, cut: "unavailable" });
  });

  it("gives up on refusals that are not about units, and on a move of 0", () => {
    for (const reason of ["hold_committed", "hold_owner_mismatch", "merge_id_reused", "move_undone"])
      expect(retryMove(lapsed, { reason })).toBeNull();
    expect(retryMove(move({ sku: "A" }), { reason: "insufficient_stock", available: 0 })).toBeNull();
  });
});

const SKUS = ["A", "B", "C", "D", "E", "F"];
const cartArb = fc.uniqueArray(fc.record({ sku: fc.constantFrom(...SKUS), quantity: fc.integer({ min: 1, max: 20 }) }), {
  selector: (l) => l.sku,
  maxLength: SKUS.length,
});
/** Per-SKU line limits; A's may be 0 (the line cannot be kept at all). */
const limitsArb: fc.Arbitrary<Record<string, number>> = fc.record({
  A: fc.integer({ min: 0, max: 25 }),
  B: fc.integer({ min: 1, max: 25 }),
  C: fc.integer({ min: 1, max: 25 }),
  D: fc.integer({ min: 1, max: 25 }),
  E: fc.integer({ min: 1, max: 25 }),
  F: fc.integer({ min: 1, max: 25 }),
});
type Scenario = { target: MergeLine[]; source: MergeLine[]; mode: MergeMode; limits: Record<string, number> };
const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  target: cartArb,
  source: cartArb,
  mode: fc.constantFrom<MergeMode>("merge", "replace"),
  limits: limitsArb,
});

const quantities = (lines: readonly MergeLine[]) => new Map(lines.map((l) => [l.sku, l.quantity]));
const planOf = (s: Scenario) => planMerge(s.target, s.source, s.mode, ((sku: string) => s.limits[sku]!) satisfies LineLimit);

describe("merge properties", () => {
  it("each SKU's result equals the rule: merge max(source, target), replace source, clamped; target-only SKUs kept (merge) or dropped (replace)", () => {
    assertProperty("result equals the rule", scenarioArb, (s) => {
      const plan = planOf(s);
      const target = quantities(s.target);
      const source = quantities(s.source);
      const result = quantities(plan.lines);
      for (const sku of SKUS) {
        const t = target.get(sku) ?? 0;
        const f = source.get(sku) ?? 0;
        const rule = s.mode === "merge" ? (f === 0 ? t : Math.min(Math.max(f, t), s.limits[sku]!)) : Math.min(f, s.limits[sku]!);
        expect(result.get(sku) ?? 0).toBe(rule);
      }
      for (const l of plan.lines) expect(l.quantity).toBeGreaterThan(0);
    });
  });

  it("never holds more of a SKU than the larger of the two carts did, so a live move returns units and never takes any", () => {
    assertProperty("merge never exceeds max(target, source)", scenarioArb, (s) => {
      const plan = planOf(s);
      const target = quantities(s.target);
      const source = quantities(s.source);
      for (const m of plan.moves) {
        const t = target.get(m.sku) ?? 0;
        const f = source.get(m.sku) ?? 0;
        expect({ source: m.source, target: m.target }).toEqual({ source: f, target: t });
        expect(m.quantity).toBeLessThanOrEqual(Math.max(t, f));
        expect(m.quantity).toBeLessThanOrEqual(m.requested);
        // What the two holds had beyond the result goes back to stock: never negative.
        expect(f + t - m.quantity).toBeGreaterThanOrEqual(0);
      }
      const total = (lines: readonly MergeLine[]) => lines.reduce((n, l) => n + l.quantity, 0);
      expect(total(plan.lines)).toBeLessThanOrEqual(total(s.target) + total(s.source));
    });
  });

  it("replace: the result is exactly the source, clamped", () => {
    assertProperty(
      "replace equals source clamped",
      scenarioArb.map((s) => ({ ...s, mode: "replace" as const })),
      (s) => {
        const expected = s.source
          .map((l) => ({ sku: l.sku, quantity: Math.min(l.quantity, s.limits[l.sku]!) }))
          .filter((l) => l.quantity > 0)
          .sort((a, b) => a.sku.localeCompare(b.sku));
        expect(planOf(s).lines).toEqual(expected);
      },
    );
  });

  it("reports every source SKU once, nothing else, and the outcome matches the quantities", () => {
    assertProperty("report covers the source", scenarioArb, (s) => {
      const report = mergeReport(planOf(s).moves);
      expect(report.map((e) => e.sku)).toEqual(s.source.map((l) => l.sku).sort());
      for (const entry of report) {
        const outcome = entry.quantity === entry.requested ? "merged" : entry.quantity === 0 ? "dropped" : "reduced";
        expect(entry.outcome).toBe(outcome);
        expect(entry.reason === undefined).toBe(outcome === "merged");
      }
    });
  });

  it("retrying after any sequence of refusals asks for strictly less each time and ends", () => {
    const refusalArb = fc.oneof(
      fc.record({ reason: fc.constant("insufficient_stock"), available: fc.integer({ min: 0, max: 25 }) }),
      fc.record({ reason: fc.constant("quantity_limit_exceeded"), limit: fc.integer({ min: 0, max: 25 }) }),
      fc.record({
        reason: fc.constant("client_hold_limit"),
        limit: fc.integer({ min: 0, max: 25 }),
        held: fc.integer({ min: 0, max: 25 }),
      }),
      fc.record({ reason: fc.constantFrom("unknown_sku", "currency_mismatch", "amount_too_large") }),
    );
    assertProperty("retries end", fc.record({ s: scenarioArb, refusals: fc.infiniteStream(refusalArb) }), ({ s, refusals }) => {
      for (const planned of planOf(s).moves) {
        let current: HoldMove | null = planned;
        const stream = refusals[Symbol.iterator]();
        for (let step = 0; current !== null && current.quantity > 0; step++) {
          expect(step).toBeLessThanOrEqual(planned.quantity);
          const next: HoldMove | null = retryMove(current, stream.next().value!);
          expect(next).not.toBeNull();
          expect(next!.quantity).toBeLessThan(current.quantity);
          expect(next!.quantity).toBeGreaterThanOrEqual(0);
          current = next;
        }
      }
    });
  });
});
