/**
 * The bare design: the floor the runtime puts under edgecart's hot path, measured beside it. The
 * same shape (the Worker checks a cart token that needs no object, a cart object per cart, one
 * RPC from the cart to the SKU's object, one commit in each) with nothing else: no expiry, no
 * alarm, no prices, no limits, no ledger, no idempotency. Not a product: what it leaves out is
 * what edgecart is for. Bench only (bench/wrangler.toml binds BARE_CARTS and BARE_SKUS).
 */
import { DurableObject } from "cloudflare:workers";

/** What a hold answers: granted, or refused with the units that could be held. */
export type BareHold = { ok: true } | { ok: false; available: number };

/** A SKU's stock: one row, and a row per hold. A hold sets its units to exactly `quantity`. */
export class BareSkuObject extends DurableObject<unknown> {
  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    ctx.storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS stock (id INTEGER PRIMARY KEY CHECK (id = 1), available INTEGER NOT NULL, reserved INTEGER NOT NULL);
       CREATE TABLE IF NOT EXISTS holds (hold_id TEXT PRIMARY KEY, quantity INTEGER NOT NULL);`,
    );
  }

  /** Sets the hold `holdId` to `quantity` units, if the stock allows it. */
  hold(holdId: string, quantity: number): BareHold {
    const sql = this.ctx.storage.sql;
    const stock = sql.exec<{ available: number }>("SELECT available FROM stock WHERE id = 1").toArray()[0];
    const held = sql.exec<{ quantity: number }>("SELECT quantity FROM holds WHERE hold_id = ?", holdId).toArray()[0]?.quantity ?? 0;
    const available = stock?.available ?? 0;
    const delta = quantity - held;
    if (delta > available) return { ok: false, available: available + held };
    sql.exec("UPDATE stock SET available = available - ?, reserved = reserved + ? WHERE id = 1", delta, delta);
    if (quantity === 0) sql.exec("DELETE FROM holds WHERE hold_id = ?", holdId);
    else
      sql.exec(
        "INSERT INTO holds (hold_id, quantity) VALUES (?, ?) ON CONFLICT (hold_id) DO UPDATE SET quantity = excluded.quantity",
        holdId,
        quantity,
      );
    return { ok: true };
  }

  /** Starts the SKU over with `available` units and no holds. */
  setStock(available: number): void {
    const sql = this.ctx.storage.sql;
    sql.exec("DELETE FROM holds");
    sql.exec("INSERT OR REPLACE INTO stock (id, available, reserved) VALUES (1, ?, 0)", available);
  }

  /** The stock and the number of holds. */
  level(): { available: number; reserved: number; lines: number } | null {
    const sql = this.ctx.storage.sql;
    const stock = sql.exec<{ available: number; reserved: number }>("SELECT available, reserved FROM stock WHERE id = 1").toArray()[0];
    if (stock === undefined) return null;
    const lines = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM holds").one().n;
    return { available: stock.available, reserved: stock.reserved, lines };
  }
}

interface BareEnv {
  BARE_SKUS: DurableObjectNamespace<BareSkuObject>;
}

/** What a line change answers: the cart's lines and version, or the SKU's refusal. */
export type BareChange =
  | { ok: true; cart: { id: string; version: number; items: { sku: string; quantity: number }[] } }
  | { ok: false; available: number };

/** A cart: its lines. A change holds the stock in the SKU's object first, then writes the line. */
export class BareCartObject extends DurableObject<BareEnv> {
  #queue: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: BareEnv) {
    super(ctx, env);
    ctx.storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS cart (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
       CREATE TABLE IF NOT EXISTS lines (sku TEXT PRIMARY KEY, quantity INTEGER NOT NULL);`,
    );
  }

  /** Changes on one cart run one at a time, as a CartObject's do (each awaits a SKU's object). */
  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** The cart's first change without a line: writes its row (the object then exists). */
  touch(): number {
    return this.#bump();
  }

  /** Sets the line for `sku` to `quantity` units (0 removes it), holding them in the SKU's object. */
  setItem(cartId: string, sku: string, quantity: number): Promise<BareChange> {
    return this.#serial(async () => {
      const held = await this.env.BARE_SKUS.getByName(sku).hold(`${cartId}:${sku}`, quantity);
      if (!held.ok) return { ok: false, available: held.available };
      const sql = this.ctx.storage.sql;
      if (quantity === 0) sql.exec("DELETE FROM lines WHERE sku = ?", sku);
      else
        sql.exec(
          "INSERT INTO lines (sku, quantity) VALUES (?, ?) ON CONFLICT (sku) DO UPDATE SET quantity = excluded.quantity",
          sku,
          quantity,
        );
      const version = this.#bump();
      const items = sql.exec<{ sku: string; quantity: number }>("SELECT sku, quantity FROM lines ORDER BY sku").toArray();
      return { ok: true, cart: { id: cartId, version, items } };
    });
  }

  #bump(): number {
    return this.ctx.storage.sql
      .exec<{ version: number }>(
        "INSERT INTO cart (id, version) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET version = version + 1 RETURNING version",
      )
      .one().version;
  }
}
