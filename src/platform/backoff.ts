/**
 * The one retry backoff: exponential, doubling from `baseMs` with each attempt, capped at
 * `capMs`. Queue redeliveries, the archival outbox and level reports all use it, each with its
 * own base and cap (docs/architecture.md lists them).
 */

/** Delay before retry number `attempt` (1-based; 0 or less counts as 1). */
export function backoffMs(attempt: number, baseMs: number, capMs: number): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  // 2 ** 60 is still exact and finite; beyond that the cap has long applied.
  return Math.min(baseMs * 2 ** Math.min(exponent, 60), capMs);
}
