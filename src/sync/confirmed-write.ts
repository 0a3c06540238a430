/**
 * Whole-value KV writes confirmed against Postgres (the pricing settings: the automatic promotion
 * list, the tax table). KV has no compare-and-set, so a writer that read Postgres before another
 * writer's commit could land its older value last. Each writer therefore reads Postgres again
 * after its write and writes again while Postgres shows something else: the write that lands last
 * was followed by a read that saw what it wrote, so KV ends on Postgres's latest state whatever
 * the interleaving. A writer that dies between its write and its check leaves KV behind until
 * the minute cron, which rewrites both values on every run.
 */

/** Rounds of write-then-check before the writer leaves the rest to the cron. */
export const CONFIRM_ROUNDS = 3;

/**
 * Writes `read()`'s value with `write` and reads again until two reads around a write agree (by
 * `fingerprint`), at most {@link CONFIRM_ROUNDS} writes. Returns the value KV was confirmed to
 * hold, or null when Postgres kept moving. Errors of `read` and `write` are thrown.
 */
export async function writeConfirmed<T>(
  read: () => Promise<T>,
  write: (value: T) => Promise<void>,
  fingerprint: (value: T) => string,
): Promise<T | null> {
  let value = await read();
  for (let round = 0; round < CONFIRM_ROUNDS; round++) {
    await write(value);
    const again = await read();
    if (fingerprint(again) === fingerprint(value)) return again;
    value = again;
  }
  return null;
}
