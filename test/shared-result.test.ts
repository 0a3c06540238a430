// The per-isolate shared result behind the anonymous deep health check (src/platform/shared-result.ts).
import { describe, expect, it } from "vitest";
import { SharedResult } from "../src/platform/shared-result";

describe("SharedResult", () => {
  it("runs the work once for callers while it runs and within the TTL after it settled", async () => {
    const shared = new SharedResult<number>(1_000, 500);
    let runs = 0;
    const work = async () => {
      runs++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return runs;
    };
    const t0 = Date.now();
    expect(await Promise.all([shared.get("db", work, t0), shared.get("db", work, t0), shared.get("db", work, t0 + 10)])).toEqual([1, 1, 1]);
    expect(await shared.get("db", work, Date.now() + 900)).toBe(1);
    expect(await shared.get("db", work, Date.now() + 1_001)).toBe(2);
    // Another key (another database) does not get this one's result.
    expect(await shared.get("other", work)).toBe(3);
    expect(runs).toBe(3);
  });

  it("lets a waiter run the work itself when the first run does not settle in time", async () => {
    const shared = new SharedResult<string>(1_000, 50);
    void shared.get("db", () => new Promise<string>(() => {}));
    const started = Date.now();
    expect(await shared.get("db", async () => "own")).toBe("own");
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
    // Past the wait, a new caller starts afresh without waiting.
    expect(await shared.get("db", async () => "fresh", Date.now() + 60)).toBe("fresh");
  });
});
