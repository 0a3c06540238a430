/**
 * A SKU object's live holds by id, with the units each client holds kept as they change: the
 * per-client cap (CLIENT_HOLD_LIMIT) is checked on every hold, and counting it by walking every
 * live hold made each hold cost more the more shoppers held the SKU, exactly when a flash sale
 * needs it cheapest. Rows are replaced, never changed in place (the tally reads them on the way
 * in and out).
 */
export interface TalliedHold {
  hold_id: string;
  quantity: number;
  /** A hash of the client that holds it (null: none given). */
  client: string | null;
}

export class HoldMap<H extends TalliedHold> extends Map<string, H> {
  readonly #byClient = new Map<string, number>();

  override set(holdId: string, hold: H): this {
    this.#untally(super.get(holdId));
    if (hold.client !== null) this.#byClient.set(hold.client, (this.#byClient.get(hold.client) ?? 0) + hold.quantity);
    return super.set(holdId, hold);
  }

  override delete(holdId: string): boolean {
    this.#untally(super.get(holdId));
    return super.delete(holdId);
  }

  override clear(): void {
    this.#byClient.clear();
    super.clear();
  }

  /** Units `client` holds, not counting hold `except`. */
  unitsOf(client: string | null, except: string): number {
    if (client === null) return 0;
    const other = super.get(except);
    return (this.#byClient.get(client) ?? 0) - (other?.client === client ? other.quantity : 0);
  }

  #untally(hold: H | undefined): void {
    if (hold?.client == null) return;
    const left = (this.#byClient.get(hold.client) ?? 0) - hold.quantity;
    if (left === 0) this.#byClient.delete(hold.client);
    else this.#byClient.set(hold.client, left);
  }
}
