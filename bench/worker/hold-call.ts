/**
 * The one place the bench calls the production `InventoryObject.hold(...)` directly (the micro
 * figures and the single-object ceiling). If hold's signature changes, adapt this function only.
 */
import type { InventoryObject } from "../../src/index";

export type HoldFn = (...args: Parameters<InventoryObject["hold"]>) => Promise<{ ok: boolean }>;

/** One hold of one unit under a fresh hold id; resolves true when granted. */
export async function holdOneUnit(hold: HoldFn, ttlSeconds: number): Promise<boolean> {
  const outcome = await hold(`bench:${crypto.randomUUID()}`, "bench", 1, ttlSeconds);
  return outcome.ok;
}
