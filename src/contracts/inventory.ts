/**
 * Inventory: stock levels, holds, snapshots, the level reports SKU objects send to Postgres.
 */
import * as z from "zod";
import { Sku, Timestamp } from "./common";

export const SkuParams = z.strictObject({ sku: Sku });

export const Hold = z.object({
  hold_id: z.string(),
  owner_id: z.string(),
  quantity: z.number().int().positive(),
  expires_at: Timestamp,
});
export type Hold = z.infer<typeof Hold>;

/** What every inventory answer reports. `available = on_hand − reserved`, never negative. */
export const StockLevels = z.object({
  on_hand: z.number().int().min(0),
  reserved: z.number().int().min(0),
  available: z.number().int().min(0),
});
export type StockLevels = z.infer<typeof StockLevels>;

/** Holds listed in a snapshot at most (a flash sale can have thousands). */
export const MAX_LISTED_HOLDS = 500;

export const InventorySnapshot = z
  .object({
    sku: Sku,
    ...StockLevels.shape,
    holds: z.array(Hold).describe(`Live holds, earliest expiry first, at most ${MAX_LISTED_HOLDS}`),
    holds_total: z.number().int().min(0).describe("Number of live holds (holds lists at most 500 of them)"),
  })
  .meta({ id: "InventorySnapshot" });
export type InventorySnapshot = z.infer<typeof InventorySnapshot>;

/**
 * A SKU's stock levels as its InventoryObject reports them to Postgres (queue
 * `edgecart-inventory`). State, not a delta: reports coalesce and the newest `ledger_seq` wins.
 */
export const InventoryLevelV1 = z.object({
  type: z.literal("inventory.level"),
  version: z.literal(1),
  sku: z.string().min(1).max(64),
  on_hand: z.number().int().min(0),
  reserved: z.number().int().min(0),
  available: z.number().int().min(0),
  sold: z.number().int().min(0),
  ledger_seq: z.number().int().min(0),
  reported_at: z.string(),
});
export type InventoryLevelV1 = z.infer<typeof InventoryLevelV1>;

export const Availability = z.object({ sku: Sku, available: z.number().int().min(0) });

/** Largest stock a SKU may hold; keeps every sum far inside safe integers. */
export const MAX_ON_HAND = 1_000_000_000;

export const SetOnHandBody = z.strictObject({
  on_hand: z.number().int().min(0).max(MAX_ON_HAND),
});

export const AdjustmentBody = z.strictObject({
  delta: z
    .number()
    .int()
    .min(-MAX_ON_HAND)
    .max(MAX_ON_HAND)
    .refine((d) => d !== 0, "must not be 0"),
  reason: z.string().trim().min(1).max(200),
});
