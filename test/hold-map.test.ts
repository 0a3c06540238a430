// The SKU object's live holds with a per-client tally (src/objects/hold-map.ts): whatever the
// sequence of holds set, replaced and removed, the tally answers what walking every hold answers.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HoldMap, type TalliedHold } from "../src/objects/hold-map";

const walk = (holds: Map<string, TalliedHold>, client: string | null, except: string) => {
  if (client === null) return 0;
  let units = 0;
  for (const hold of holds.values()) if (hold.client === client && hold.hold_id !== except) units += hold.quantity;
  return units;
};

const ids = fc.constantFrom("h1", "h2", "h3", "h4", "h5");
const clients = fc.constantFrom<string | null>("a", "b", "c", null);
const step = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), id: ids, client: clients, quantity: fc.integer({ min: 1, max: 9 }) }),
  fc.record({ kind: fc.constant("delete" as const), id: ids }),
  fc.record({ kind: fc.constant("clear" as const) }),
);

describe("HoldMap", () => {
  it("tallies each client's units exactly as a walk over every hold would, through any sequence of changes (1000 runs)", () => {
    let runs = 0;
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        runs++;
        const tallied = new HoldMap<TalliedHold>();
        const plain = new Map<string, TalliedHold>();
        for (const s of steps) {
          if (s.kind === "set") {
            const hold = { hold_id: s.id, quantity: s.quantity, client: s.client };
            tallied.set(s.id, hold);
            plain.set(s.id, hold);
          } else if (s.kind === "delete") {
            expect(tallied.delete(s.id)).toBe(plain.delete(s.id));
          } else {
            tallied.clear();
            plain.clear();
          }
          for (const client of ["a", "b", "c", null])
            for (const except of ["h1", "h3", "none"]) expect(tallied.unitsOf(client, except)).toBe(walk(plain, client, except));
        }
        expect([...tallied.keys()].sort()).toEqual([...plain.keys()].sort());
      }),
      { numRuns: 1000 },
    );
    expect(runs).toBe(1000);
  });
});
