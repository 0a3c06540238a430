// Cart merge under injected faults: the target's object, a SKU object or the source's object fails
// at each step (before or after its effect, the caller never learning the answer). Afterwards,
// once the target's alarm has run, the carts are either not merged at all or fully merged, and
// every SKU object's ledger agrees with its state.
import { env, runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CartObject } from "../src/objects/cart";
import { InventoryObject } from "../src/objects/inventory";
import { cartStub } from "../src/objects/stubs";
import { stockedSku } from "./helpers";
import { available, cartWith, expectedLines, expectLedgers, linesOf, merge, view } from "./lib/merge-carts";

type Step =
  | { on: "moveHold"; call: number; when: "before" | "after" }
  | { on: "lockForMerge" | "finishMerge"; call: 1; when: "before" | "after" };

/** Arms one fault: the `call`-th call of `on` throws before or after doing its work. */
function arm(step: Step): void {
  const proto = (step.on === "moveHold" ? InventoryObject.prototype : CartObject.prototype) as unknown as Record<
    string,
    (...args: unknown[]) => Promise<unknown>
  >;
  const original = proto[step.on]!;
  let calls = 0;
  vi.spyOn(proto, step.on).mockImplementation(async function (this: unknown, ...args: unknown[]) {
    if (++calls !== step.call) return original.apply(this, args);
    if (step.when === "after") await original.apply(this, args);
    throw new Error(`injected fault ${step.when} ${step.on} #${step.call}`);
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

const STEPS: Step[] = [
  { on: "lockForMerge", call: 1, when: "before" },
  { on: "lockForMerge", call: 1, when: "after" },
  ...[1, 2].flatMap((call) => (["before", "after"] as const).map((when): Step => ({ on: "moveHold", call, when }))),
  { on: "finishMerge", call: 1, when: "before" },
];

describe("a cart merge interrupted at every step", () => {
  for (const step of STEPS) {
    it(`fault ${step.when} ${step.on} #${step.call}: merged or not merged, never between; every ledger agrees`, async () => {
      const skus = await Promise.all([stockedSku("FA", 30), stockedSku("FB", 30), stockedSku("FC", 30)]);
      const [a, b, c] = skus as [string, string, string];
      const t = { [a]: 2, [b]: 1 };
      const s = { [a]: 3, [c]: 2 };
      const target = await cartWith(t);
      const source = await cartWith(s);
      const before = await available(skus);
      arm(step);
      const response = await merge(target, source);
      vi.restoreAllMocks();
      await response.body?.cancel();
      // The target's alarm finishes (or undoes) whatever was left.
      for (let i = 0; i < 5 && (await runDurableObjectAlarm(cartStub(env, target.id)!)); i++);
      const targetNow = await view(target);
      const sourceNow = await view(source);
      const merged = sourceNow.status === "merged";
      if (merged) {
        expect(linesOf(targetNow)).toEqual(expectedLines(t, s, "merge"));
        expect(sourceNow).toMatchObject({ merged_into: target.id, items: [] });
        expect(await available(skus)).toEqual({ [a]: before[a]! + 2, [b]: before[b], [c]: before[c] });
      } else {
        expect(linesOf(targetNow)).toEqual(t);
        expect(sourceNow).toMatchObject({ status: "open", merged_into: null });
        expect(linesOf(sourceNow)).toEqual(s);
        expect(await available(skus)).toEqual(before);
      }
      await expectLedgers(skus);
      // Either way the request can be sent again and ends merged.
      const retried = await merge(target, source);
      expect(retried.status).toBe(200);
      expect(linesOf(await view(target))).toEqual(expectedLines(t, s, "merge"));
      await expectLedgers(skus);
    });
  }
});
