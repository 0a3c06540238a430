import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { holdIdFor } from "../src/domain/cart";
import { inventoryStub } from "../src/objects/stubs";
import { call, expectProblem, stockedSku } from "./helpers";
import { available, cartWith, expectedLines, expectLedgers, linesOf, type MergedJson, merge, view } from "./lib/merge-carts";
import { putLine } from "./lib/promotions";

const sorted = (lines: Record<string, number>) => Object.fromEntries(Object.entries(lines).sort(([a], [b]) => (a < b ? -1 : 1)));

describe("merging a guest cart into the shopper's cart", () => {
  it("keeps the larger quantity of a SKU in both (never the sum), moves holds without touching available, and closes the source", async () => {
    const [a, b, c] = await Promise.all([stockedSku("MA", 20), stockedSku("MB", 20), stockedSku("MC", 20)]);
    const target = await cartWith({ [a]: 2, [b]: 1 });
    const source = await cartWith({ [a]: 3, [c]: 2 });
    const before = await available([a, b, c]);
    const response = await merge(target, source);
    expect(response.status).toBe(200);
    const merged = (await response.json()) as MergedJson;
    expect(sorted(linesOf(merged))).toEqual(sorted({ [a]: 3, [b]: 1, [c]: 2 }));
    expect(merged.merge_report).toEqual(
      [
        { sku: a, outcome: "merged", requested: 3, quantity: 3 },
        { sku: c, outcome: "merged", requested: 2, quantity: 2 },
      ].sort((x, y) => (x.sku < y.sku ? -1 : 1)),
    );
    // Nothing is taken from stock: SKUs in one cart only keep their available, and the SKU in both
    // gives back the smaller hold's units (the line keeps the larger quantity, not the sum).
    expect(await available([a, b, c])).toEqual({ [a]: before[a]! + 2, [b]: before[b], [c]: before[c] });
    await expectLedgers([a, b, c]);

    const closed = await view(source);
    expect(closed).toMatchObject({ status: "merged", merged_into: target.id, items: [] });
    await expectProblem(
      await call("PUT", `/v1/carts/${source.id}/items/${a}`, { body: { quantity: 1 }, headers: source.headers }),
      409,
      "cart_not_open",
    );
    // The same pair again (another key) is the same merge: its answer again, nothing moves twice.
    const again = await merge(target, source);
    expect(again.status).toBe(200);
    expect(((await again.json()) as MergedJson).merge_report).toEqual(merged.merge_report);
    expect(await available([a, b, c])).toEqual({ [a]: before[a]! + 2, [b]: before[b], [c]: before[c] });
  });

  it("replace: the target's lines become the source's; the target's other holds go back", async () => {
    const [a, b, c] = await Promise.all([stockedSku("RA", 20), stockedSku("RB", 20), stockedSku("RC", 20)]);
    const target = await cartWith({ [a]: 2, [b]: 1 });
    const source = await cartWith({ [a]: 1, [c]: 2 });
    const before = await available([a, b, c]);
    const merged = (await (await merge(target, source, "replace")).json()) as MergedJson;
    expect(sorted(linesOf(merged))).toEqual(sorted({ [a]: 1, [c]: 2 }));
    expect(await available([a, b, c])).toEqual({ [a]: before[a]! + 2, [b]: before[b]! + 1, [c]: before[c] });
    await expectLedgers([a, b, c]);
  });

  it("answers a replay with the identical answer, and refuses other currencies, regions and the cart itself", async () => {
    const [a] = await Promise.all([stockedSku("PA", 20)]);
    const target = await cartWith({ [a]: 1 });
    const source = await cartWith({ [a]: 2 });
    const key = crypto.randomUUID();
    const first = await (await merge(target, source, "merge", key)).text();
    const again = await merge(target, source, "merge", key);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.text()).toBe(first);
    const other = await merge(target, source, "merge", crypto.randomUUID());
    expect(other.status).toBe(200);
    expect(((await other.json()) as MergedJson).merge_report).toEqual((JSON.parse(first) as MergedJson).merge_report);

    const euro = await cartWith({}, "EUR");
    expect((await expectProblem(await merge(target, euro), 409, "carts_incompatible")).field).toBe("currency");
    expect((await expectProblem(await merge(target, target), 409, "carts_incompatible")).field).toBe("same_cart");
    await expectProblem(await merge(target, { ...euro, token: `${euro.token.slice(0, -2)}AA` }), 404, "not_found");
    expect((await view(euro)).status).toBe("open");
  });

  it("merges two carts that were only opened: 200, the target empty and open, the source merged", async () => {
    const [target, source] = await Promise.all([cartWith({}), cartWith({})]);
    const response = await merge(target, source);
    expect(response.status).toBe(200);
    const merged = (await response.json()) as MergedJson;
    expect([merged.id, merged.status, merged.items, merged.merge_report]).toEqual([target.id, "open", [], []]);
    expect((await view(source)).status).toBe("merged");
  });

  it("re-reserves only a lapsed line, and reports it reduced when the stock went elsewhere", async () => {
    const sku = await stockedSku("LAPSE", 3);
    const target = await cartWith({});
    const source = await cartWith({ [sku]: 2 });
    // The source's hold lapses and a rival takes two of the three units.
    await inventoryStub(env, sku).release(holdIdFor(source.id, sku));
    const rival = await cartWith({ [sku]: 2 });
    const merged = (await (await merge(target, source)).json()) as MergedJson;
    expect(merged.merge_report).toEqual([{ sku, outcome: "reduced", requested: 2, quantity: 1, reason: "insufficient_stock" }]);
    expect(linesOf(merged)).toEqual({ [sku]: 1 });
    expect(await available([sku])).toEqual({ [sku]: 0 });
    expect(linesOf(await view(rival))).toEqual({ [sku]: 2 });
    await expectLedgers([sku]);
  });

  it("gives each SKU the rule's result over random pairs of carts; available never falls, and rises only by what the two held beyond the result", async () => {
    const skus = await Promise.all([0, 1, 2, 3].map((i) => stockedSku(`PR${i}`, 60)));
    let seed = 20261130;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pick = () => Object.fromEntries(skus.filter(() => random(2) === 1).map((sku) => [sku, 1 + random(5)]));
    for (let round = 0; round < 6; round++) {
      const [t, s] = [pick(), pick()];
      const mode = random(2) === 0 ? "merge" : "replace";
      const target = await cartWith(t);
      const source = await cartWith(s);
      const before = await available(skus);
      const merged = (await (await merge(target, source, mode)).json()) as MergedJson;
      expect(sorted(linesOf(merged)), `${mode} ${JSON.stringify({ t, s })}`).toEqual(sorted(expectedLines(t, s, mode)));
      const expected = Object.fromEntries(
        skus.map((sku) => {
          const held = (t[sku] ?? 0) + (s[sku] ?? 0);
          const after = expectedLines(t, s, mode)[sku] ?? 0;
          return [sku, before[sku]! + held - after];
        }),
      );
      // Units are only ever given back: what the two carts held beyond the result; none is taken.
      expect(await available(skus)).toEqual(expected);
      for (const sku of skus) expect(expected[sku]).toBeGreaterThanOrEqual(before[sku]!);
      await expectLedgers(skus);
      await putLine(target, skus[0]!, 0);
    }
  });
});
