/**
 * The admin API's shapes, taken from the Worker's own zod schemas (types only: nothing of zod
 * reaches the bundle), so the dashboard and the API cannot drift apart unnoticed.
 */
import type * as z from "zod";
import type { InventorySnapshot as InventorySchema, LowStockReport, PromotionInput, SalesReport, TopSkusReport } from "../../src/contracts";

export type { Money, Order, Product, ProductInput, PromotionView, TaxMode, TaxRate } from "../../src/contracts";
/** The body of `PUT /v1/admin/promotions/{id}`, as sent (defaults left to the server). */
export type PromotionBody = z.input<typeof PromotionInput>;
export type Inventory = z.infer<typeof InventorySchema>;
export type SalesRow = z.infer<typeof SalesReport>["data"][number];
export type TopSkuRow = z.infer<typeof TopSkusReport>["data"][number];
export type LowStockRow = z.infer<typeof LowStockReport>["data"][number];

/** A cursor-paginated list. */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** `GET /v1/admin/orders/unarchived`: paid orders not yet in the Postgres archive, oldest first. */
export interface UnarchivedOrder {
  id: string;
  cart_id: string;
  paid_at: string;
  total: { amount: number; currency: string };
}
