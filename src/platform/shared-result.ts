/**
 * One result shared by every caller in this isolate: the first caller runs the work, callers
 * while it runs wait for it, and callers within `ttlMs` after it settled get it as it is. A new
 * `key` (another database, say) starts afresh. `run` must not reject: failures are results too,
 * so they are shared (and not retried by every caller) just the same.
 *
 * A waiter waits at most `waitMs`, then runs the work itself: the caller that started it may have
 * been cancelled, and its work with it, which must not leave the others hanging.
 */
const LATE: unique symbol = Symbol("late");

export class SharedResult<T> {
  #slot: { key: string; startedAt: number; settledAt: number | undefined; value: Promise<T> } | undefined;

  constructor(
    private readonly ttlMs: number,
    private readonly waitMs: number,
  ) {}

  /** The shared result for `key`, running `run` when there is none to share. */
  get(key: string, run: () => Promise<T>, now = Date.now()): Promise<T> {
    const slot = this.#slot;
    if (slot !== undefined && slot.key === key) {
      if (slot.settledAt !== undefined && now - slot.settledAt < this.ttlMs) return slot.value;
      if (slot.settledAt === undefined && now - slot.startedAt < this.waitMs) return this.#wait(slot.value, now - slot.startedAt, run);
    }
    const fresh = { key, startedAt: now, settledAt: undefined as number | undefined, value: run() };
    this.#slot = fresh;
    void fresh.value.then(() => {
      fresh.settledAt = Date.now();
    });
    return fresh.value;
  }

  /** Someone else's work, or our own once `waitMs` (from its start) has passed. */
  async #wait(value: Promise<T>, elapsedMs: number, run: () => Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<typeof LATE>((resolve) => {
      timer = setTimeout(() => resolve(LATE), this.waitMs - elapsedMs);
    });
    try {
      const first = await Promise.race([value, late]);
      return first === LATE ? run() : first;
    } finally {
      clearTimeout(timer);
    }
  }
}
