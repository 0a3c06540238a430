// Waiting for workerd's evictions before a measurement (scripts/probe.mjs, bench/run.mjs).
// workerd evicts an object idle for about 10 s and closes its database (a WAL checkpoint and a
// close) on the Worker's one thread, during whatever runs then: a measurement that should not pay
// for objects used before it waits until `seconds` have passed since they were last used.

/** A quiet window of `seconds` (0: never waits): `used()` after work that made or used objects, `settle()` before a measurement. */
export function quietWindow(seconds) {
  let usedAt = Number.NEGATIVE_INFINITY;
  return {
    used() {
      usedAt = performance.now();
    },
    async settle() {
      const wait = usedAt + seconds * 1000 - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    },
  };
}
