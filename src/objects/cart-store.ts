/**
 * A cart's state in its object's SQLite database: the cart row, its lines, and pending line
 * changes (written before a hold is changed in a SKU object, cleared after, so a crash in between
 * is repaired on the next call). The only code that touches these tables. Synchronous; time is a
 * parameter.
 */
import type { CartStatus } from "../contracts";
import type { CartState } from "../domain/cart";
import type { StoredLine } from "../domain/lines";
import type { StoreSchema } from "./sql-migrations";

export const CART_SCHEMA: StoreSchema = {
  store: "cart",
  migrations: [
  {
    version: 1,
    legacyVersion: 1,
    description: "cart, lines, pending line changes",
    sql: `
      CREATE TABLE cart (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        cart_id TEXT NOT NULL,
        token_hash TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'checked_out', 'expired')),
        currency TEXT NOT NULL,
        region TEXT,
        version INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        order_id TEXT
      );
      CREATE TABLE lines (
        sku TEXT PRIMARY KEY,
        product_id TEXT NOT NULL,
        title TEXT NOT NULL,
        quantity INTEGER NOT NULL CHECK (quantity > 0),
        unit_amount INTEGER NOT NULL CHECK (unit_amount >= 0),
        added_at INTEGER NOT NULL
      );
      CREATE TABLE pending_lines (
        sku TEXT PRIMARY KEY,
        started_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 2,
    legacyVersion: 2,
    description: "the checkout in progress (its Idempotency-Key)",
    sql: "ALTER TABLE cart ADD COLUMN checkout_key TEXT;",
  },
  ],
};

interface CartRow extends CartState, Record<string, SqlStorageValue> {
  token_hash: string;
}

/** SQL access for one cart. */
export class CartStore {
  constructor(private readonly storage: DurableObjectStorage) {}

  private get sql(): SqlStorage {
    return this.storage.sql;
  }

  /** The cart row (with its token hash), or null before creation. */
  cart(): (CartState & { token_hash: string }) | null {
    const row = this.sql.exec<CartRow>("SELECT cart_id, token_hash, status, currency, region, version, created_at, expires_at, order_id FROM cart WHERE id = 1").toArray()[0];
    if (!row) return null;
    return { ...row, status: row.status as CartStatus, region: row.region === "eu" ? "eu" : null };
  }

  /** Lines in the order they were first added. */
  lines(): StoredLine[] {
    return this.sql.exec<StoredLine & Record<string, SqlStorageValue>>("SELECT sku, product_id, title, quantity, unit_amount FROM lines ORDER BY added_at, sku").toArray();
  }

  /** Creates the cart row once; returns false when it already existed. */
  create(cart: { cart_id: string; token_hash: string; currency: string; region: "eu" | null; expires_at: number }, now: number): boolean {
    const before = this.cart();
    if (before) return false;
    this.sql.exec(
      "INSERT INTO cart (id, cart_id, token_hash, status, currency, region, version, created_at, updated_at, expires_at) VALUES (1, ?, ?, 'open', ?, ?, 1, ?, ?, ?)",
      cart.cart_id,
      cart.token_hash,
      cart.currency,
      cart.region,
      now,
      now,
      cart.expires_at,
    );
    return true;
  }

  /** Marks SKUs as having a hold change in flight (cleared by {@link settle}). */
  markPending(skus: readonly string[], now: number): void {
    for (const sku of skus) this.sql.exec("INSERT OR REPLACE INTO pending_lines (sku, started_at) VALUES (?, ?)", sku, now);
  }

  /** SKUs whose hold change may have been interrupted. */
  pending(): string[] {
    return this.sql.exec<{ sku: string }>("SELECT sku FROM pending_lines").toArray().map((r) => r.sku);
  }

  /**
   * Writes lines to match their holds (quantity 0 deletes), clears their pending marks, and
   * optionally moves the cart to a new status and expiry, bumping its version. One transaction.
   */
  settle(
    lines: ReadonlyArray<{ sku: string; quantity: number; product_id?: string; title?: string; unit_amount?: number }>,
    change: { status?: CartStatus; expires_at?: number; order_id?: string; bump: boolean },
    now: number,
  ): void {
    this.storage.transactionSync(() => {
      for (const line of lines) {
        if (line.quantity === 0) {
          this.sql.exec("DELETE FROM lines WHERE sku = ?", line.sku);
        } else {
          this.sql.exec(
            `INSERT INTO lines (sku, product_id, title, quantity, unit_amount, added_at) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (sku) DO UPDATE SET quantity = excluded.quantity,
               product_id = COALESCE(?, product_id), title = COALESCE(?, title), unit_amount = COALESCE(?, unit_amount)`,
            line.sku,
            line.product_id ?? "",
            line.title ?? line.sku,
            line.quantity,
            line.unit_amount ?? 0,
            now,
            line.product_id ?? null,
            line.title ?? null,
            line.unit_amount ?? null,
          );
        }
        this.sql.exec("DELETE FROM pending_lines WHERE sku = ?", line.sku);
      }
      if (change.bump || change.status !== undefined || change.expires_at !== undefined || change.order_id !== undefined) {
        this.sql.exec(
          `UPDATE cart SET status = COALESCE(?, status), expires_at = COALESCE(?, expires_at), order_id = COALESCE(?, order_id),
             version = version + ?, updated_at = ? WHERE id = 1`,
          change.status ?? null,
          change.expires_at ?? null,
          change.order_id ?? null,
          change.bump ? 1 : 0,
          now,
        );
      }
    });
  }

  /** Clears pending marks without touching lines (the hold change was refused: nothing moved). */
  clearPending(skus: readonly string[]): void {
    for (const sku of skus) this.sql.exec("DELETE FROM pending_lines WHERE sku = ?", sku);
  }

  /** Remembers that checkout `key` has extended the holds and is about to place the order (null: none). */
  markCheckoutStarted(key: string | null): void {
    this.sql.exec("UPDATE cart SET checkout_key = ? WHERE id = 1", key);
  }

  /** The checkout in progress (holds extended, order not yet placed), if any. */
  checkoutInProgress(): string | null {
    return this.sql.exec<{ checkout_key: string | null }>("SELECT checkout_key FROM cart WHERE id = 1").toArray()[0]?.checkout_key ?? null;
  }

  /** Closes the cart for the order placed from it (part of checkout's commit point; the caller wraps both in one transaction). */
  close(orderId: string, now: number): void {
    this.sql.exec("UPDATE cart SET status = 'checked_out', order_id = ?, checkout_key = NULL, version = version + 1, updated_at = ? WHERE id = 1", orderId, now);
  }
}
