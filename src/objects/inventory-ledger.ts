/**
 * The SKU object's ledger (table `ledger`, owned by InventoryStore): the append-only record of
 * every movement of on_hand and reserved, written in the same statement or transaction as the
 * change (the hold_changes trigger for one hold's change, inventory-state.ts `commitRows` for the
 * rest; the ledger's own trigger moves the stock row), and the check that the state agrees with it.
 *
 * Each row names the hold it concerns, so the rows of one hold sum to its live quantity (0 once it
 * is gone): `hold` moves a hold to its new quantity, `release`/`expire`/`commit` take its units
 * away, and a move between two holds writes one `move_out` row per hold that shrank and one
 * `move_in` row per hold that grew (InventoryStore `moveHold`, `undoMove`). Rows without a hold
 * (`set`, `adjust`) move only on_hand.
 */
import { type LedgerCheck, ledgerAgrees } from "../domain/inventory";

export type LedgerKind = "set" | "adjust" | "hold" | "release" | "expire" | "commit" | "move_out" | "move_in";

/** One row to append. */
export interface LedgerEntry {
  kind: LedgerKind;
  holdId?: string | undefined;
  operationId?: string | undefined;
  reason?: string | undefined;
  onHandDelta: number;
  reservedDelta: number;
}

/** Appends `entry` as row `seq` (inside the caller's transaction). */
export function appendLedger(sql: SqlStorage, seq: number, at: number, entry: LedgerEntry): void {
  sql.exec(
    "INSERT INTO ledger (seq, at, kind, hold_id, operation_id, on_hand_delta, reserved_delta, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    seq,
    at,
    entry.kind,
    entry.holdId ?? null,
    entry.operationId ?? null,
    entry.onHandDelta,
    entry.reservedDelta,
    entry.reason ?? null,
  );
}

type Levels = { on_hand: number; reserved: number; sold: number };

/**
 * Recomputes on_hand, reserved and sold from the ledger and checks them against the stored state
 * and the memory copy (`memory`: the stock and the live holds' quantities by id). Also checks
 * every hold against its own rows: a live hold's rows sum to its quantity, a gone hold's to 0.
 * `sql` is null while the object has no schema (nothing was ever written).
 */
export function verifyLedger(
  sql: SqlStorage | null,
  memory: { stock: Levels | null; holds: ReadonlyMap<string, { quantity: number }> },
): LedgerCheck {
  const zero = { on_hand: 0, reserved: 0, sold: 0 };
  const stored = sql?.exec<Levels & Record<string, SqlStorageValue>>("SELECT on_hand, reserved, sold FROM stock WHERE id = 1").toArray()[0];
  const stock = stored ?? zero;
  const sums = sql
    ? sql
        .exec<{ on_hand: number | null; reserved: number | null; sold: number | null }>(
          "SELECT SUM(on_hand_delta) AS on_hand, SUM(reserved_delta) AS reserved, -SUM(CASE WHEN kind = 'commit' THEN on_hand_delta ELSE 0 END) AS sold FROM ledger",
        )
        .one()
    : zero;
  const held = sql ? (sql.exec<{ n: number | null }>("SELECT SUM(quantity) AS n FROM holds").one().n ?? 0) : 0;
  const mismatches = sql
    ? sql
        .exec<{ n: number }>(
          `WITH per_hold AS (SELECT hold_id, SUM(reserved_delta) AS units FROM ledger WHERE hold_id IS NOT NULL GROUP BY hold_id)
           SELECT (SELECT COUNT(*) FROM per_hold LEFT JOIN holds USING (hold_id) WHERE per_hold.units != COALESCE(holds.quantity, 0))
                + (SELECT COUNT(*) FROM holds LEFT JOIN per_hold USING (hold_id) WHERE per_hold.hold_id IS NULL) AS n`,
        )
        .one().n
    : 0;
  const check = {
    on_hand: stock.on_hand,
    reserved: stock.reserved,
    sold: stock.sold,
    ledger_on_hand: sums.on_hand ?? 0,
    ledger_reserved: sums.reserved ?? 0,
    ledger_sold: sums.sold ?? 0,
    holds_reserved: held,
    hold_mismatches: mismatches,
  };
  const inMemory = memoryAgrees(sql, stock, held, memory);
  return { ok: ledgerAgrees(check) && inMemory, ...check };
}

/** Whether the memory copy equals SQLite: the stock row and every live hold's quantity. */
function memoryAgrees(
  sql: SqlStorage | null,
  stock: Levels,
  held: number,
  memory: { stock: Levels | null; holds: ReadonlyMap<string, { quantity: number }> },
): boolean {
  const mine = memory.stock ?? { on_hand: 0, reserved: 0, sold: 0 };
  if (mine.on_hand !== stock.on_hand || mine.reserved !== stock.reserved || mine.sold !== stock.sold) return false;
  const rows = sql ? sql.exec<{ hold_id: string; quantity: number }>("SELECT hold_id, quantity FROM holds").toArray() : [];
  if (rows.length !== memory.holds.size) return false;
  let units = 0;
  for (const row of rows) {
    if (memory.holds.get(row.hold_id)?.quantity !== row.quantity) return false;
    units += row.quantity;
  }
  return units === held;
}
