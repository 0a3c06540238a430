/**
 * Stock alerts in Postgres: each SKU's own low-stock threshold and the state of the last level
 * report the webhooks consumer saw. The fan-out (db/webhooks.ts `fanOut`) moves the state under a
 * row lock; the rule that decides it comes in as a parameter (`StockDecision`). Queries only.
 */
import { eq } from "drizzle-orm";
import type { InventoryLevelV1, WebhookEventPayload } from "../contracts";
import type { Db } from "./client";
import { stockAlerts } from "./schema";

/** A SKU's alert state as stored (state null: no report seen yet). */
export interface StockAlertRow {
  sku: string;
  low_threshold: number | null;
  state: string | null;
  ledger_seq: number;
}

/** What the fan-out decides for one level report: the SKU's new state and the events it emits. */
export type StockDecision = (row: StockAlertRow, report: InventoryLevelV1) => { state: string; events: WebhookEventPayload[] };

/** A SKU's alert row, or null when none exists yet. */
export async function getStockAlert(db: Db, sku: string): Promise<StockAlertRow | null> {
  const [row] = await db.select().from(stockAlerts).where(eq(stockAlerts.sku, sku));
  return row ? { sku: row.sku, low_threshold: row.lowThreshold, state: row.state, ledger_seq: row.ledgerSeq } : null;
}

/** Sets (or clears, with null) a SKU's own low-stock threshold. */
export async function setStockThreshold(db: Db, sku: string, threshold: number | null): Promise<StockAlertRow> {
  const [row] = await db
    .insert(stockAlerts)
    .values({ sku, lowThreshold: threshold })
    .onConflictDoUpdate({ target: stockAlerts.sku, set: { lowThreshold: threshold, updatedAt: new Date() } })
    .returning();
  return { sku: row!.sku, low_threshold: row!.lowThreshold, state: row!.state, ledger_seq: row!.ledgerSeq };
}
