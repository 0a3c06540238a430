/**
 * BenchInventoryObject: the production InventoryObject plus what only the bench needs. Bound as
 * the INVENTORY class in bench/wrangler.toml; the production Worker never sees it.
 *
 * - {@link benchConfigure}: the simulated round trip between carts and this SKU's object, kept in
 *   its storage; the carts pay it ({@link benchRtt}, bench/worker/hop.ts), the object does not.
 * - {@link benchTimeHolds}: holds timed inside the object (the micro figures).
 */
import { InventoryObject } from "../../src/index";
import { type HoldFn, holdOneUnit } from "./hold-call";

const RTT_KEY = "bench:rtt_ms";

export class BenchInventoryObject extends InventoryObject {
  /** Simulated round trip between a cart and this object, ms (0: none). */
  #rttMs = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.#rttMs = (await ctx.storage.get<number>(RTT_KEY)) ?? 0;
    });
  }

  /** Sets the simulated round trip for calls from carts (kept across evictions). */
  async benchConfigure(options: { rttMs: number }): Promise<{ rttMs: number }> {
    const rtt = Math.max(0, Math.min(10_000, Math.round(options.rttMs)));
    await this.ctx.storage.put(RTT_KEY, rtt);
    this.#rttMs = rtt;
    return { rttMs: rtt };
  }

  /** The simulated round trip a cart pays on each call to this object, ms. */
  benchRtt(): number {
    return this.#rttMs;
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
