/**
 * Reads of one object's SQLite tables, remembered until the next write to them. A cart change
 * reads the cart row and its lines several times (to plan, to arm the alarm, to price, to show);
 * each read is a statement and a row copy, and together they were the largest share of a line
 * change's CPU time. An object is single-threaded and its stores are the only code that writes
 * their tables, so a remembered read stays true until one of those stores writes: every write
 * method calls {@link ReadMemo.forget} first, and a transaction forgets again when it ends, so a
 * read taken inside a transaction that then rolls back is never kept.
 *
 * What is remembered is frozen (a caller that changed it would change every later read): arrays
 * come back as fresh copies of frozen rows.
 */
export class ReadMemo {
  readonly #values = new Map<string, unknown>();

  /** The value read under `key` since the last write, else `read()` (remembered). */
  value<T extends object | null>(key: string, read: () => T): T {
    if (this.#values.has(key)) return this.#values.get(key) as T;
    const value = read();
    this.remember(key, value);
    return value;
  }

  /** Like {@link value} for a list of rows: each row frozen, a fresh array on every call. */
  rows<T extends object>(key: string, read: () => T[]): T[] {
    const rows = this.value(key, () => read().map((row) => Object.freeze(row)));
    return [...rows];
  }

  /** What is remembered under `key`, or undefined when nothing is (never reads). */
  peek<T>(key: string): T | undefined {
    return this.#values.get(key) as T | undefined;
  }

  /**
   * Remembers `value` under `key` as if it had just been read: for a write that knows what the
   * table now holds (a statement's RETURNING), so the next read needs no statement. Call only
   * after the write committed (a transaction forgets its keys when it ends).
   */
  remember<T extends object | null>(key: string, value: T): void {
    this.#values.set(key, value === null ? null : Object.freeze(value));
  }

  /**
   * Forgets the reads under `keys`, or every read when none are named (call before any write to
   * the tables: name the keys only when the write changes no table behind any other key).
   */
  forget(keys?: readonly string[]): void {
    if (keys === undefined) this.#values.clear();
    else for (const key of keys) this.#values.delete(key);
  }

  /**
   * Runs `write` in one transaction of `storage`, forgetting the reads under `keys` (every read
   * when none are named) before and after it; a write inside that touches other tables forgets
   * on its own. If the transaction rolls back, every read is forgotten: one taken inside it may
   * have seen what was undone.
   */
  transaction<T>(storage: DurableObjectStorage, write: () => T, keys?: readonly string[]): T {
    this.forget(keys);
    try {
      const result = storage.transactionSync(write);
      this.forget(keys);
      return result;
    } catch (error) {
      this.forget();
      throw error;
    }
  }
}
