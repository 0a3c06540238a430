/**
 * Stock levels in Postgres (`inventory_levels`), as reported by the SKU objects, and what a
 * restore reads back.
 */
import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import type { InventoryLevelV1, SkuPricing } from "../contracts";
import type { Db } from "./client";
import { inventoryLevels, products, skus } from "./schema";

/**
 * Upserts reports; per SKU the highest ledger position wins, so redelivered, reordered or
 * coalesced reports never move a level backwards. Returns how many rows changed.
 */
export async function upsertLevels(db: Db, reports: readonly InventoryLevelV1[]): Promise<number> {
  const newest = new Map<string, InventoryLevelV1>();
  for (const report of reports) {
    const seen = newest.get(report.sku);
    if (!seen || seen.ledger_seq < report.ledger_seq) newest.set(report.sku, report);
  }
  if (newest.size === 0) return 0;
  const rows = await db
    .insert(inventoryLevels)
    .values(
      [...newest.values()].map((r) => ({
        sku: r.sku,
        onHand: r.on_hand,
        reserved: r.reserved,
        available: r.available,
        sold: r.sold,
        ledgerSeq: r.ledger_seq,
        reportedAt: new Date(r.reported_at),
        updatedAt: new Date(),
      })),
    )
    .onConflictDoUpdate({
      target: inventoryLevels.sku,
      set: {
        onHand: sql`excluded.on_hand`,
        reserved: sql`excluded.reserved`,
        available: sql`excluded.available`,
        sold: sql`excluded.sold`,
        ledgerSeq: sql`excluded.ledger_seq`,
        reportedAt: sql`excluded.reported_at`,
        updatedAt: sql`now()`,
      },
      setWhere: sql`${inventoryLevels.ledgerSeq} < excluded.ledger_seq OR (${inventoryLevels.ledgerSeq} = excluded.ledger_seq AND ${inventoryLevels.reportedAt} < excluded.reported_at)`,
    })
    .returning({ sku: inventoryLevels.sku });
  return rows.length;
}

/** Every SKU the catalog knows (live variants), for the reconciliation snapshot. */
export async function allSkus(db: Db): Promise<string[]> {
  const rows = await db.select({ sku: skus.sku }).from(skus).where(isNull(skus.retiredAt)).orderBy(skus.sku);
  return rows.map((r) => r.sku);
}

/** What a restore needs per SKU: the saved on_hand and the catalog entry to define it with. */
export interface RestorePoint {
  sku: string;
  onHand: number;
  sold: number;
  ledgerSeq: number;
  pricing: SkuPricing | null;
}

/** Saved levels (all, or the given SKUs) with their catalog entries. */
export async function restorePoints(db: Db, only?: readonly string[]): Promise<RestorePoint[]> {
  const rows = await db
    .select({
      sku: inventoryLevels.sku,
      onHand: inventoryLevels.onHand,
      sold: inventoryLevels.sold,
      ledgerSeq: inventoryLevels.ledgerSeq,
      productId: skus.productId,
      title: skus.title,
      priceAmount: skus.priceAmount,
      currency: skus.currency,
      maxLineQuantity: skus.maxLineQuantity,
      retiredAt: skus.retiredAt,
      status: products.status,
      version: products.version,
      category: products.category,
    })
    .from(inventoryLevels)
    .leftJoin(skus, eq(skus.sku, inventoryLevels.sku))
    .leftJoin(products, and(eq(products.id, skus.productId)))
    .where(only && only.length > 0 ? inArray(inventoryLevels.sku, [...only]) : undefined)
    .orderBy(inventoryLevels.sku);
  return rows.map((r) => ({
    sku: r.sku,
    onHand: r.onHand,
    sold: r.sold,
    ledgerSeq: r.ledgerSeq,
    pricing:
      r.productId === null || r.status === null || r.version === null
        ? null
        : {
            sku: r.sku,
            product_id: r.productId,
            title: r.title!,
            price: { amount: r.priceAmount!, currency: r.currency! },
            status: r.retiredAt === null ? r.status : "archived",
            max_line_quantity: r.maxLineQuantity,
            version: r.version,
            category: r.category,
          },
  }));
}
