/**
 * BenchInventoryObject: the production InventoryObject plus what only the bench needs. Bound as
 * the INVENTORY class in bench/wrangler.toml; the production Worker never sees it.
 *
 * - A simulated network hop: a hot SKU's object lives in one place and shoppers far from it pay a
 *   round trip on every call their cart makes to it. With a round trip configured
 *   ({@link benchConfigure}), each call a cart makes (hold, extend, release, commit, holdOf,
 *   pricing) waits rtt/2 before the work and rtt/2 after it. The waits are timers: they hold no
 *   lock (the object keeps serving other calls meanwhile), as a real network would not.
 * - {@link benchTimeHolds}: holds timed inside the object (the micro figures).
 */
import { InventoryObject } from "../../src/index";
import { type HoldFn, holdOneUnit } from "./hold-call";

const RTT_KEY = "bench:rtt_ms";
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

type Method<K extends keyof InventoryObject> = InventoryObject[K] extends (...args: infer A) => infer R ? (...args: A) => R : never;

export class BenchInventoryObject extends InventoryObject {
  /** Simulated round trip between a cart and this object, ms (0: none). */
  #rttMs = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.#rttMs = (await ctx.storage.get<number>(RTT_KEY)) ?? 0;
    });
  }

  /** One call from a cart: half a round trip there, the work, half a round trip back. */
  async #hop<T>(work: () => Promise<T>): Promise<T> {
    const rtt = this.#rttMs;
    if (rtt > 0) await sleep(rtt / 2);
    const result = await work();
    if (rtt > 0) await sleep(rtt / 2);
    return result;
  }

  override hold(...args: Parameters<Method<"hold">>) {
    return this.#hop(() => super.hold(...args));
  }

  override extend(...args: Parameters<Method<"extend">>) {
    return this.#hop(() => super.extend(...args));
  }

  override release(...args: Parameters<Method<"release">>) {
    return this.#hop(() => super.release(...args));
  }

  override commit(...args: Parameters<Method<"commit">>) {
    return this.#hop(() => super.commit(...args));
  }

  override holdOf(...args: Parameters<Method<"holdOf">>) {
    return this.#hop(() => super.holdOf(...args));
  }

  override pricing(...args: Parameters<Method<"pricing">>) {
    return this.#hop(() => super.pricing(...args));
  }

  /** Sets the simulated round trip for calls from carts (kept across evictions). */
  async benchConfigure(options: { rttMs: number }): Promise<{ rttMs: number }> {
    const rtt = Math.max(0, Math.min(10_000, Math.round(options.rttMs)));
    await this.ctx.storage.put(RTT_KEY, rtt);
    this.#rttMs = rtt;
    return { rttMs: rtt };
  }

  /**
   * `count` one-unit holds, each through the production `hold` (without the simulated hop),
   * timed inside the object. `flushEach` waits for every write to reach disk
   * (`storage.sync()`) before the next hold; otherwise one flush at the end covers them all. The
   * clock only moves across I/O in workerd, so the final flush is always part of the time.
   */
  async benchTimeHolds(count: number, flushEach: boolean, ttlSeconds: number): Promise<{ granted: number; elapsed_ms: number }> {
    const hold: HoldFn = (...args) => super.hold(...args);
    let granted = 0;
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      if (await holdOneUnit(hold, ttlSeconds)) granted++;
      if (flushEach) await this.ctx.storage.sync();
    }
    await this.ctx.storage.sync();
    return { granted, elapsed_ms: performance.now() - started };
  }
}
