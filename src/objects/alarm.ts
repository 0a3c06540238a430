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
