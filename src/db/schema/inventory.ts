/** Postgres schema: the stock levels the SKU objects report. Re-exported by db/schema.ts. */
import { sql } from "drizzle-orm";
import { bigint, check, index, integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * The latest stock of every SKU as its InventoryObject last reported it (within seconds of a
 * change, plus a full snapshot by cron). `ledger_seq` is the object's ledger position: an older
 * or repeated report never overwrites a newer one. The low-stock report and `restore` read it.
 */
export const inventoryLevels = pgTable(
  "inventory_levels",
  {
    sku: text("sku").primaryKey(),
    onHand: integer("on_hand").notNull(),
    reserved: integer("reserved").notNull(),
    available: integer("available").notNull(),
    sold: integer("sold").notNull(),
    ledgerSeq: bigint("ledger_seq", { mode: "number" }).notNull(),
    reportedAt: timestamp("reported_at", { withTimezone: true, mode: "date" }).notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    index("inventory_levels_available_idx").on(t.available),
    check("inventory_levels_non_negative", sql`${t.onHand} >= 0 AND ${t.reserved} >= 0 AND ${t.available} >= 0`),
  ],
);
