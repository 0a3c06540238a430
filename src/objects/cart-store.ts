/**
 * A cart's state in its object's SQLite database: the cart row and its lines. The only code that
 * touches these tables (the cart row's destination aside). The promotions, the destination and
 * the tax quote are kept by CartPricingStore (cart-pricing-store.ts), the merges this cart drives
 * by CartMergeStore (cart-merge-store.ts); CartStore offers their methods too, so the cart's parts
 * share one store and one schema (cart-schema.ts). The tables are created by the cart's first
 * change, in the same commit as that change: a cart that was only opened, or only read, stores
 * nothing. Reads are remembered until the next write (ReadMemo, read-memo.ts): the three stores
 * share one memo, and every write forgets it. Synchronous; time is a parameter.
 */
import type { CartStatus, ShipTo } from "../contracts";
import type { CartLineState, CartState } from "../domain/cart";
import { CartMergeStore, type MergeRecord } from "./cart-merge-store";
import { CartPricingStore, type KeptPromotion } from "./cart-pricing-store";
import { CART_SCHEMA } from "./cart-schema";
import { ReadMemo } from "./read-memo";
import { LazySchema } from "./sql-migrations";

export type { MergeRecord } from "./cart-merge-store";
export type { KeptPromotion } from "./cart-pricing-store";
export { CART_SCHEMA };

interface CartRow extends Omit<CartState, "merged_into">, Record<string, SqlStorageValue> {
  token_hash: string;
  merged_into: string | null;
  checkout_key: string | null;
  ship_country: string | null;
  ship_region: string | null;
  ship_postal_code: string | null;
}

/** The stored cart: its state and the credential hash of an old-style token ('' for carts whose token carries claims). */
export type StoredCart = CartState & { token_hash: string };

/** A line to write: quantity 0 deletes it; the other fields are kept when omitted. */
export interface LineWrite {
  sku: string;
  quantity: number;
  product_id?: string;
  title?: string;
  unit_amount?: number;
  hold_expires_at?: number | null;
  hold_final?: boolean;
  category?: string | null;
}

/** The remembered reads of the cart row and the lines (`cart` and `row` both read the cart row). */
const CART_AND_LINES = ["cart", "row", "lines"] as const;

const CART_COLUMNS = `cart_id, token_hash, status, currency, region, version, created_at, expires_at, order_id, merged_into,
  checkout_key, ship_country, ship_region, ship_postal_code`;
const LINE_COLUMNS = "sku, product_id, title, quantity, unit_amount, hold_expires_at, hold_final, category, added_at";

type LineRow = Omit<CartLineState, "hold_final"> & { hold_final: number; added_at: number } & Record<string, SqlStorageValue>;

/** SQL access for one cart. */
export class CartStore {
  readonly #schema: LazySchema;
  readonly #pricing: CartPricingStore;
  readonly #merges: CartMergeStore;
  readonly #reads = new ReadMemo();
  /** When each line read or written was first added (its place in the list), by SKU. */
  readonly #added = new Map<string, number>();

  constructor(private readonly storage: DurableObjectStorage) {
    this.#schema = new LazySchema(storage, CART_SCHEMA, "cart");
    this.#schema.open();
    // One LazySchema and one memo for every table of the cart: the split stores see the tables once `write` made them.
    this.#pricing = new CartPricingStore(storage, this.#schema, this.#reads);
    this.#merges = new CartMergeStore(storage, this.#schema, this.#reads);
  }

  /**
   * Runs `write` in one transaction, for a change that spans the cart's tables and others (the
   * checkout's commit point); the cart's remembered reads are forgotten before and after.
   */
  transaction<T>(write: () => T): T {
    return this.#reads.transaction(this.storage, write);
  }

  private get sql(): SqlStorage {
    return this.storage.sql;
  }

  /** The cart row, or null while the cart was never changed. */
  cart(): StoredCart | null {
    return this.#reads.value("cart", () => {
      const row = this.#row();
      if (row === null) return null;
      const { checkout_key: _key, ship_country: _country, ship_region: _region, ship_postal_code: _postal, ...cart } = row;
      return {
        ...cart,
        status: cart.status as CartStatus,
        region: cart.region === "eu" ? "eu" : null,
        merged_into: cart.merged_into ?? null,
      };
    });
  }

  /** The whole cart row (the cart, its checkout in progress and its destination), read once until the next write. */
  #row(): CartRow | null {
    if (!this.#schema.ready) return null;
    return this.#reads.value("row", () => this.sql.exec<CartRow>(`SELECT ${CART_COLUMNS} FROM cart WHERE id = 1`).toArray()[0] ?? null);
  }

  /** Lines in the order they were first added. */
  lines(): CartLineState[] {
    if (!this.#schema.ready) return [];
    return this.#reads.rows("lines", () => this.#readLines());
  }

  #readLines(): CartLineState[] {
    return this.sql
      .exec<LineRow>(`SELECT ${LINE_COLUMNS} FROM lines ORDER BY added_at, sku`)
      .toArray()
      .map((row) => this.#lineOf(row));
  }

  /** A line as the cart holds it, from its row (noting when it was added). */
  #lineOf({ added_at, hold_final, ...line }: LineRow): CartLineState {
    this.#added.set(line.sku, added_at);
    return { ...line, hold_final: hold_final === 1 };
  }

  /**
   * The lines after a write that changed `written` (null: deleted), from the lines remembered
   * before it; null when those were not remembered (the next read reads them).
   */
  #linesAfter(before: readonly CartLineState[] | undefined, written: ReadonlyMap<string, LineRow | null>): CartLineState[] | null {
    if (before === undefined) return null;
    const lines = new Map(before.map((line) => [line.sku, line]));
    for (const [sku, row] of written) {
      if (row === null) lines.delete(sku);
      else lines.set(sku, this.#lineOf(row));
    }
    const after = [...lines.values()];
    if (!after.every((line) => this.#added.has(line.sku))) return null;
    // As the SELECT orders them: first added first, then by SKU (ASCII, so `<` orders as SQLite does).
    const added = (line: CartLineState) => this.#added.get(line.sku)!;
    return after.sort((a, b) => added(a) - added(b) || (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0)).map((line) => Object.freeze(line));
  }

  /**
   * Writes a change in one transaction: the cart row (created from `cart` on the first change),
   * its lines (quantity 0 deletes), and its new status, expiry and version. Only the reads of
   * those two tables are forgotten: a line change leaves the promotions and merges it does not
   * write remembered (each write of theirs in `also` forgets for itself), so the change is
   * priced and its alarm armed without reading them again. Nor are those two read again: the
   * statements return what they wrote, and unless `also` wrote more (it may write the cart row),
   * that is remembered as the tables' contents.
   */
  write(
    cart: StoredCart,
    lines: readonly LineWrite[],
    header: { status: CartStatus; expires_at: number; version: number },
    now: number,
    also?: () => void,
  ): void {
    const before = this.#schema.ready ? this.#reads.peek<readonly CartLineState[]>("lines") : [];
    const written = new Map<string, LineRow | null>();
    const row = this.#reads.transaction(
      this.storage,
      () => {
        this.#schema.ensure();
        const row = this.sql
          .exec<CartRow>(
            `INSERT INTO cart (id, cart_id, token_hash, status, currency, region, version, created_at, updated_at, expires_at)
         VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, version = excluded.version, expires_at = excluded.expires_at, updated_at = excluded.updated_at
         RETURNING ${CART_COLUMNS}`,
            cart.cart_id,
            cart.token_hash,
            header.status,
            cart.currency,
            cart.region,
            header.version,
            cart.created_at,
            now,
            header.expires_at,
          )
          .one();
        for (const line of lines) {
          if (line.quantity === 0) {
            this.sql.exec("DELETE FROM lines WHERE sku = ?", line.sku);
            written.set(line.sku, null);
            continue;
          }
          const saved = this.sql
            .exec<LineRow>(
              `INSERT INTO lines (sku, product_id, title, quantity, unit_amount, added_at, hold_expires_at, hold_final, category) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (sku) DO UPDATE SET quantity = excluded.quantity, product_id = COALESCE(?, product_id), title = COALESCE(?, title),
             unit_amount = COALESCE(?, unit_amount), hold_expires_at = CASE WHEN ? THEN excluded.hold_expires_at ELSE hold_expires_at END,
             hold_final = COALESCE(?, hold_final), category = CASE WHEN ? THEN excluded.category ELSE category END
           RETURNING ${LINE_COLUMNS}`,
              line.sku,
              line.product_id ?? "",
              line.title ?? line.sku,
              line.quantity,
              line.unit_amount ?? 0,
              now,
              line.hold_expires_at ?? null,
              line.hold_final ? 1 : 0,
              line.category ?? null,
              line.product_id ?? null,
              line.title ?? null,
              line.unit_amount ?? null,
              line.hold_expires_at !== undefined ? 1 : 0,
              line.hold_final === undefined ? null : line.hold_final ? 1 : 0,
              line.category !== undefined ? 1 : 0,
            )
            .one();
          written.set(line.sku, saved);
        }
        also?.();
        return row;
      },
      CART_AND_LINES,
    );
    if (also !== undefined) return;
    this.#reads.remember("row", row);
    const after = this.#linesAfter(before, written);
    if (after !== null) this.#reads.remember("lines", after);
  }

  /** The promotions the cart keeps: entered codes (in the order entered) and automatic promotions it read at checkout. */
  promotions(): KeptPromotion[] {
    return this.#pricing.promotions();
  }

  /** Keeps (or updates) a promotion; call inside `write`'s `also`, or alone for a change that is not the cart's. */
  keepPromotion(kept: KeptPromotion, now: number): void {
    this.#pricing.keepPromotion(kept, now);
  }

  dropPromotion(name: string): void {
    this.#pricing.dropPromotion(name);
  }

  /** Records a redemption hold's new expiry (the alarm renewed it). */
  redemptionRenewed(name: string, heldUntil: number): void {
    this.#pricing.redemptionRenewed(name, heldUntil);
  }

  /** Where the goods go, or null before the shopper said. */
  shipTo(): ShipTo | null {
    const row = this.#row();
    return row?.ship_country ? { country: row.ship_country, region: row.ship_region, postal_code: row.ship_postal_code } : null;
  }

  /** Sets the destination; call inside `write`'s `also`. */
  setShipTo(shipTo: ShipTo): void {
    this.#pricing.setShipTo(shipTo);
  }

  /** The tax service's answer cached under `key` (one cart version and request), or null. */
  taxQuote(key: string): Array<{ sku: string; tax: number }> | null {
    return this.#pricing.taxQuote(key);
  }

  /** Caches the tax service's answer; only the newest is kept. */
  saveTaxQuote(key: string, lines: ReadonlyArray<{ sku: string; tax: number }>): void {
    this.#pricing.saveTaxQuote(key, lines);
  }

  /** A merge this cart drives, by id, or null (see CartMergeStore). */
  mergeRecord(mergeId: string): MergeRecord | null {
    return this.#merges.mergeRecord(mergeId);
  }

  /** Merges still owed work: unfinished, or finished with the source not yet told. */
  pendingMerges(): MergeRecord[] {
    return this.#merges.pendingMerges();
  }

  /** Writes a merge's record (call inside `write`'s `also` when it goes with a cart change). */
  saveMerge(record: MergeRecord, now: number): void {
    this.#merges.saveMerge(record, now);
  }

  /** Marks the cart merged into `targetId` (it takes no more writes), or back from it (`null`: `status` again). */
  setMerged(targetId: string | null, status: CartStatus, version: number, now: number): void {
    this.#reads.forget();
    this.sql.exec("UPDATE cart SET merged_into = ?, status = ?, version = ?, updated_at = ? WHERE id = 1", targetId, status, version, now);
  }

  /** Drops every line (their holds moved to the merge's target). */
  dropLines(): void {
    this.#reads.forget();
    this.sql.exec("DELETE FROM lines");
  }

  /** Records renewed line holds (their new expiries, and whether they reached their cap) and the cart's expiry they allow. */
  renewed(holds: ReadonlyArray<{ sku: string; hold_expires_at: number; hold_final: boolean }>, expiresAt: number): void {
    this.transaction(() => {
      for (const hold of holds)
        this.sql.exec(
          "UPDATE lines SET hold_expires_at = ?, hold_final = ? WHERE sku = ?",
          hold.hold_expires_at,
          hold.hold_final ? 1 : 0,
          hold.sku,
        );
      this.sql.exec("UPDATE cart SET expires_at = MIN(expires_at, ?) WHERE id = 1", expiresAt);
    });
  }

  /** Remembers that checkout `key` has extended the holds and is about to place the order (null: none). */
  markCheckoutStarted(key: string | null): void {
    this.#reads.forget();
    this.sql.exec("UPDATE cart SET checkout_key = ? WHERE id = 1", key);
  }

  /** The checkout in progress (holds extended, order not yet placed), if any. */
  checkoutInProgress(): string | null {
    return this.#row()?.checkout_key ?? null;
  }

  /** Closes the cart for the order placed from it (part of checkout's commit point; the caller wraps both in one transaction). */
  close(orderId: string, version: number, now: number): void {
    this.#reads.forget();
    this.sql.exec(
      "UPDATE cart SET status = 'checked_out', order_id = ?, checkout_key = NULL, version = ?, updated_at = ? WHERE id = 1",
      orderId,
      version,
      now,
    );
  }
}
