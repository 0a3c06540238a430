// Model-based test: random sequences of set/adjust/hold/release/extend/commit/expire run against
// the real SQLite-backed store inside an InventoryObject and against a plain in-memory model;
// after every step both must agree, and the ledger must verify.
import { env, runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { SkuPricing } from "../src/contracts";
import { InventoryStore } from "../src/objects/inventory-store";
import { inventoryStub } from "../src/objects/stubs";
import { unique } from "./helpers";

type Op =
  | { kind: "set"; onHand: number }
  | { kind: "adjust"; delta: number; opId: string }
  | { kind: "hold"; holdId: string; owner: string; quantity: number; ttl: number }
  | { kind: "release"; holdId: string }
  | { kind: "extend"; holdId: string; ttl: number }
  | { kind: "commit"; holdId: string }
  | { kind: "advance"; ms: number };

type Outcome = { ok: true; [k: string]: unknown } | { ok: false; reason: string; [k: string]: unknown };

/** The sequential specification of one SKU's inventory, written independently of the store. */
class Model {
  constructor(readonly pricing: SkuPricing) {}

  /** Every run starts with the SKU defined in the catalog (0 on hand). */
  exists = true;
  onHand = 0;
  now = 1_000_000;
  holds = new Map<string, { owner: string; quantity: number; expiresAt: number }>();
  committed = new Map<string, number>();
  operations = new Set<string>();

  reserved(): number {
    let sum = 0;
    for (const hold of this.holds.values()) sum += hold.quantity;
    return sum;
  }
  levels() {
    const reserved = this.reserved();
    return { on_hand: this.onHand, reserved, available: this.onHand - reserved };
  }
  expire(): void {
    for (const [id, hold] of this.holds) if (hold.expiresAt <= this.now) this.holds.delete(id);
  }
  apply(op: Op): Outcome {
    if (op.kind === "advance") {
      this.now += op.ms;
      this.expire();
      return { ok: true };
    }
    this.expire();
    switch (op.kind) {
      case "set":
        if (op.onHand < this.reserved()) return { ok: false, reason: "below_reserved", reserved: this.reserved(), on_hand: this.onHand };
        this.onHand = op.onHand;
        this.exists = true;
        return { ok: true, ...this.levels() };
      case "adjust": {
        if (this.operations.has(op.opId)) return { ok: true, duplicate: true, ...this.levels() };
        const next = this.onHand + op.delta;
        if (next < this.reserved() || next < 0)
          return { ok: false, reason: "below_reserved", reserved: this.reserved(), on_hand: this.onHand };
        this.onHand = next;
        this.exists = true;
        this.operations.add(op.opId);
        return { ok: true, duplicate: false, ...this.levels() };
      }
      case "hold": {
        if (this.committed.has(op.holdId)) return { ok: false, reason: "hold_committed" };
        const existing = this.holds.get(op.holdId);
        if (existing && existing.owner !== op.owner) return { ok: false, reason: "hold_owner_mismatch" };
        if (op.quantity === 0) {
          this.holds.delete(op.holdId);
          return { ok: true, quantity: 0, expires_at: null, item: this.pricing, capped: false, ...this.levels() };
        }
        const current = existing?.quantity ?? 0;
        const free = this.onHand - this.reserved();
        if (op.quantity - current > free) return { ok: false, reason: "insufficient_stock", available: free + current };
        const expiresAt = this.now + op.ttl;
        this.holds.set(op.holdId, { owner: op.owner, quantity: op.quantity, expiresAt });
        return {
          ok: true,
          quantity: op.quantity,
          expires_at: new Date(expiresAt).toISOString(),
          item: this.pricing,
          capped: false,
          ...this.levels(),
        };
      }
      case "release": {
        const released = this.holds.get(op.holdId)?.quantity ?? 0;
        this.holds.delete(op.holdId);
        return { ok: true, released, ...this.levels() };
      }
      case "extend": {
        const existing = this.holds.get(op.holdId);
        if (!existing) return { ok: false, reason: this.committed.has(op.holdId) ? "hold_committed" : "hold_not_found" };
        existing.expiresAt = this.now + op.ttl;
        return { ok: true, quantity: existing.quantity, expires_at: new Date(existing.expiresAt).toISOString() };
      }
      case "commit": {
        const done = this.committed.get(op.holdId);
        if (done !== undefined) return { ok: true, quantity: done, duplicate: true, ...this.levels() };
        const existing = this.holds.get(op.holdId);
        if (!existing) return { ok: false, reason: "hold_not_found" };
        this.holds.delete(op.holdId);
        this.committed.set(op.holdId, existing.quantity);
        this.onHand -= existing.quantity;
        return { ok: true, quantity: existing.quantity, duplicate: false, ...this.levels() };
      }
    }
  }
}

function run(store: InventoryStore, op: Op, now: number): unknown {
  switch (op.kind) {
    case "set":
      return store.setOnHand(op.onHand, now);
    case "adjust":
      return store.adjust(op.delta, "model", op.opId, now);
    case "hold":
      return store.hold(op.holdId, op.owner, op.quantity, op.ttl, now);
    case "release":
      return store.release(op.holdId, now);
    case "extend":
      return store.extend(op.holdId, op.ttl, now);
    case "commit":
      return store.commit(op.holdId, now);
    case "advance":
      store.expireDue(now);
      return { ok: true };
  }
}

const holdId = fc.constantFrom("h1", "h2", "h3", "h4");
const ttl = fc.integer({ min: 1, max: 100 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), onHand: fc.integer({ min: 0, max: 12 }) }),
  fc.record({
    kind: fc.constant("adjust" as const),
    delta: fc.integer({ min: -6, max: 6 }).filter((d) => d !== 0),
    opId: fc.constantFrom("o1", "o2", "o3", "o4", "o5"),
  }),
  fc.record({
    kind: fc.constant("hold" as const),
    holdId,
    owner: fc.constantFrom("c1", "c2"),
    quantity: fc.integer({ min: 0, max: 6 }),
    ttl,
  }),
  fc.record({ kind: fc.constant("hold" as const), holdId, owner: fc.constant("c1"), quantity: fc.integer({ min: 1, max: 4 }), ttl }),
  fc.record({ kind: fc.constant("release" as const), holdId }),
  fc.record({ kind: fc.constant("extend" as const), holdId, ttl }),
  fc.record({ kind: fc.constant("commit" as const), holdId }),
  fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 60 }) }),
);

describe("InventoryStore against the sequential model", () => {
  it("agrees with the model after every step of 500 random histories, and the ledger verifies", async () => {
    const sku = unique("MODEL");
    const pricing: SkuPricing = {
      sku,
      product_id: "p",
      title: sku,
      price: { amount: 100, currency: "USD" },
      status: "active",
      max_line_quantity: null,
      version: 1,
    };
    const stub = inventoryStub(env, sku);
    let runs = 0;
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      // The schema exists once the SKU is first defined.
      new InventoryStore(state.storage, sku).define(pricing, 0);
      fc.assert(
        fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), (ops) => {
          runs++;
          for (const table of ["stock", "holds", "committed_holds", "ledger", "catalog"]) sql.exec(`DELETE FROM ${table}`);
          const store = new InventoryStore(state.storage, sku);
          store.define(pricing, 0);
          const model = new Model(pricing);
          for (const step of ops) {
            const expected = model.apply(step);
            const actual = run(store, step, model.now);
            expect(actual).toEqual(expected);
            const snapshot = store.snapshot(model.now);
            expect(snapshot !== null).toBe(model.exists);
            if (snapshot) {
              expect({ on_hand: snapshot.on_hand, reserved: snapshot.reserved, available: snapshot.available }).toEqual(model.levels());
              expect(snapshot.available).toBeGreaterThanOrEqual(0);
              expect(new Map(snapshot.holds.map((h) => [h.hold_id, h.quantity]))).toEqual(
                new Map([...model.holds].map(([id, h]) => [id, h.quantity])),
              );
            }
            expect(store.verify().ok).toBe(true);
          }
        }),
        { numRuns: 500 },
      );
    });
    expect(runs).toBeGreaterThanOrEqual(500);
  });
});
