/**
 * What a cart's price depends on beyond its lines, in the cart's SQLite database: the promotions
 * it keeps, where the goods go, and the tax service's cached answer. The only code that touches
 * the `promotions` and `tax_quote` tables and writes the cart row's destination (CartStore reads
 * it with the rest of the row). Its tables are the cart's (cart-schema.ts), created by the cart's
 * first change: it shares {@link CartStore}'s LazySchema, so both agree on whether they exist.
 * Synchronous; time is a parameter.
 */
import type { ShipTo } from "../contracts";
import type { CartPromotion } from "../domain/cart-pricing";
import type { Promotion, RedemptionRefusal } from "../domain/promotion";
import type { ReadMemo } from "./read-memo";
import type { LazySchema } from "./sql-migrations";

/** A promotion the cart keeps, with when its redemption hold lapses (null: it holds none). */
export type KeptPromotion = CartPromotion & { held_until: number | null };

/** SQL access for one cart's promotions, destination and tax quote (CartStore offers each of these). */
export class CartPricingStore {
  constructor(
    private readonly storage: DurableObjectStorage,
    /** The cart store's schema: its readiness is this store's. */
    private readonly schema: LazySchema,
    /** The cart store's remembered reads: every write here forgets them. */
    private readonly reads: ReadMemo,
  ) {}

  private get sql(): SqlStorage {
    return this.storage.sql;
  }

  /** The promotions the cart keeps: entered codes (in the order entered) and automatic promotions it read at checkout. */
  promotions(): KeptPromotion[] {
    if (!this.schema.ready) return [];
    return this.reads.rows("promotions", () => this.#readPromotions());
  }

  #readPromotions(): KeptPromotion[] {
    return this.sql
      .exec<{ name: string; code: string | null; body: string; refused: string | null; held_until: number | null }>(
        "SELECT name, code, body, refused, held_until FROM promotions ORDER BY added_at, name",
      )
      .toArray()
      .map((row) => ({
        name: row.name,
        code: row.code,
        promotion: JSON.parse(row.body) as Promotion,
        refused: row.refused as RedemptionRefusal | null,
        held_until: row.held_until,
      }));
  }

  /** Keeps (or updates) a promotion; call inside CartStore `write`'s `also`, or alone for a change that is not the cart's. */
  keepPromotion(kept: KeptPromotion, now: number): void {
    this.reads.forget();
    this.sql.exec(
      `INSERT INTO promotions (name, code, body, refused, held_until, added_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET body = excluded.body, refused = excluded.refused, held_until = excluded.held_until`,
      kept.name,
      kept.code,
      JSON.stringify(kept.promotion),
      kept.refused,
      kept.held_until,
      now,
    );
  }

  dropPromotion(name: string): void {
    this.reads.forget();
    this.sql.exec("DELETE FROM promotions WHERE name = ?", name);
  }

  /** Records a redemption hold's new expiry (the alarm renewed it). */
  redemptionRenewed(name: string, heldUntil: number): void {
    this.reads.forget();
    this.sql.exec("UPDATE promotions SET held_until = ? WHERE name = ?", heldUntil, name);
  }

  /** Sets the destination; call inside CartStore `write`'s `also`. */
  setShipTo(shipTo: ShipTo): void {
    this.reads.forget();
    this.sql.exec(
      "UPDATE cart SET ship_country = ?, ship_region = ?, ship_postal_code = ? WHERE id = 1",
      shipTo.country,
      shipTo.region,
      shipTo.postal_code,
    );
  }

  /** The tax service's answer cached under `key` (one cart version and request), or null. */
  taxQuote(key: string): Array<{ sku: string; tax: number }> | null {
    if (!this.schema.ready) return null;
    const row = this.sql.exec<{ lines: string }>("SELECT lines FROM tax_quote WHERE id = 1 AND key = ?", key).toArray()[0];
    return row ? (JSON.parse(row.lines) as Array<{ sku: string; tax: number }>) : null;
  }

  /** Caches the tax service's answer; only the newest is kept. */
  saveTaxQuote(key: string, lines: ReadonlyArray<{ sku: string; tax: number }>): void {
    if (!this.schema.ready) return;
    this.sql.exec(
      "INSERT INTO tax_quote (id, key, lines) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET key = excluded.key, lines = excluded.lines",
      key,
      JSON.stringify(lines),
    );
  }
}
