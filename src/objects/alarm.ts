import { errorFields, log } from "../platform/log";

/**
 * The one alarm of an object, armed lazily. Setting an alarm is a storage write (about 9 ms
 * locally, against 2–3 ms for a whole RPC turn), and objects here move their deadlines forward
 * on nearly every change (a cart's expiry, a hold's). So an alarm is only ever moved EARLIER:
 * when the wanted time is later than the armed one, the armed alarm is kept, fires early, finds
 * nothing due and re-arms for the real time. At most one spurious wake per deadline, instead of
 * one storage write per change.
 */
export class AlarmSlot {
  #armedAt: number | null = null;

  constructor(private readonly storage: DurableObjectStorage) {}

  /** Reads the armed time; call once in the constructor's blockConcurrencyWhile. */
  async load(): Promise<void> {
    this.#armedAt = await this.storage.getAlarm();
  }

  /** Makes sure the alarm fires no later than `at` (null: nothing is due, leave it be). */
  async want(at: number | null): Promise<void> {
    if (at === null) return;
    if (this.#armedAt !== null && this.#armedAt <= at) return;
    this.#armedAt = at;
    await this.storage.setAlarm(at);
  }

  /** Call at the start of `alarm()`: the runtime has consumed the armed alarm. */
  fired(): void {
    this.#armedAt = null;
  }
}

/** The table the runtime keeps an SQLite-backed object's alarm in. */
const ALARM_TABLE = "_cf_METADATA";

/**
 * Has the runtime create the table it keeps this object's alarm in, now, inside the caller's
 * write: call it where the object creates its own tables. The runtime creates that table on an
 * object's first `setAlarm`, and a table created is a schema change, after which SQLite re-prepares
 * every statement the object had prepared. On a cart that is its second line (the first whose hold
 * must be renewed): in a CPU profile of second lines under `npm run dev`, `setAlarm` took 11% of
 * the samples, and 2% with the table made earlier. In a write that changes the schema anyway the
 * DDL costs next to nothing.
 *
 * Setting a distant alarm and clearing it in the same turn creates the table and leaves no alarm:
 * the runtime tells its alarm scheduler only what changed by the commit, and nothing did. Where
 * the table exists an alarm may be armed, so this then does nothing.
 */
export function createAlarmTable(storage: DurableObjectStorage): void {
  const exists = storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", ALARM_TABLE).toArray().length > 0;
  if (exists) return;
  // Both settle at once on SQLite-backed storage. Should either fail, the first real alarm makes the
  // table (a distant alarm left armed would wake the object once, find nothing due and re-arm).
  const failed = (error: unknown) => log("warn", "could not create the alarm table early", errorFields(error));
  storage.setAlarm(Date.now() + 365 * 86_400_000).catch(failed);
  storage.deleteAlarm().catch(failed);
}
