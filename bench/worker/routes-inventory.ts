/** The bench routes of the SKU object: the simulated round trip, micro timings of holds, and the ceiling. */
import { type HoldFn, holdOneUnit } from "./hold-call";
import { body, int, json, problem, type Route, requireAdmin, SKU } from "./http";
import type { BenchInventoryObject } from "./inventory";
import type { BenchEnv } from "./postgres";

const holdTtl = (env: BenchEnv) => Number(env.HOLD_TTL_SECONDS) || 900;
const inventory = (env: BenchEnv, sku: string) => env.INVENTORY.getByName(sku) as unknown as DurableObjectStub<BenchInventoryObject>;

export const inventoryRoutes: Route[] = [
  [
    "POST",
    new RegExp(`^/bench/inventory/(${SKU})/configure$`),
    async (request, env, _ctx, [sku]) => {
      requireAdmin(request, env);
      const rttMs = int((await body(request)).rtt_ms, "rtt_ms", 0, 10_000);
      return json(await inventory(env, sku!).benchConfigure({ rttMs }));
    },
  ],
  [
    "POST",
    new RegExp(`^/bench/inventory/(${SKU})/holds$`),
    async (request, env, _ctx, [sku]) => {
      requireAdmin(request, env);
      const input = await body<{ count?: unknown; mode?: unknown }>(request);
      const count = int(input.count, "count", 1, 100_000);
      const stub = inventory(env, sku!);
      let granted = 0;
      let elapsed: number;
      if (input.mode === "rpc") {
        // The Worker awaits one hold call after the other, as a cart does.
        const hold: HoldFn = (...args) => stub.hold(...args);
        const started = performance.now();
        for (let i = 0; i < count; i++) if (await holdOneUnit(hold, holdTtl(env))) granted++;
        elapsed = performance.now() - started;
      } else if (input.mode === "batched" || input.mode === "flushed") {
        ({ granted, elapsed_ms: elapsed } = await stub.benchTimeHolds(count, input.mode === "flushed", holdTtl(env)));
      } else {
        return problem(400, "invalid_request", "mode must be batched, flushed or rpc.");
      }
      return json({ sku, mode: input.mode, count, granted, elapsed_ms: elapsed, us_per_hold: (elapsed * 1000) / count });
    },
  ],
  [
    "POST",
    new RegExp(`^/bench/inventory/(${SKU})/ceiling$`),
    async (request, env, _ctx, [sku]) => {
      requireAdmin(request, env);
      const input = await body<{ callers?: unknown; holds?: unknown }>(request);
      const callers = int(input.callers, "callers", 1, 1000);
      const holds = int(input.holds, "holds", 1, 100_000);
      const stub = inventory(env, sku!);
      const hold: HoldFn = (...args) => stub.hold(...args);
      const ttl = holdTtl(env);
      const latencies: number[] = [];
      let next = 0;
      let granted = 0;
      let failed = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: callers }, async () => {
          while (next < holds) {
            next++;
            const t = performance.now();
            try {
              if (await holdOneUnit(hold, ttl)) granted++;
            } catch {
              failed++;
            }
            latencies.push(performance.now() - t);
          }
        }),
      );
      const elapsed = performance.now() - started;
      latencies.sort((a, b) => a - b);
      const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? null;
      return json({
        sku,
        callers,
        holds,
        granted,
        failed,
        elapsed_ms: elapsed,
        holds_per_s: (holds * 1000) / elapsed,
        p50_ms: at(0.5),
        p99_ms: at(0.99),
      });
    },
  ],
];
