// Micro figures: holds timed inside one InventoryObject, and one SKU object's ceiling under many
// concurrent callers. Both go through the bench Worker's admin routes (bench/worker/index.ts).
import { Progress } from "./progress.mjs";

export const median = (values) => {
  const sorted = values.filter((v) => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const round = (value, digits = 1) => (value === null ? null : Math.round(value * 10 ** digits) / 10 ** digits);

/** A fresh SKU with `stock` units, through the production admin API. */
async function stockSku(client, sku, stock) {
  await client.adminCall("PUT", `/v1/admin/products/${sku.toLowerCase()}`, {
    title: `Bench ${sku}`,
    status: "active",
    variants: [{ sku, title: sku, price: { amount: 4900, currency: "USD" } }],
  });
  await client.adminCall("PUT", `/v1/admin/inventory/${sku}`, { on_hand: stock });
}

/**
 * µs per one-unit hold, `repeats` calls per mode, each on the same fresh SKU object:
 * `batched` (inside the object, one flush at the end), `flushed` (inside the object, every write
 * flushed before the next hold) and `rpc` (the Worker awaits one hold call after the other, as a
 * cart does). Wall time on the object's (or the Worker's) clock: it grows with the machine's load.
 */
export async function holds(client, runId, counts, repeats) {
  const result = {};
  for (const [mode, count] of Object.entries(counts)) {
    const sku = `B-${runId}-MICRO-${mode}`.toUpperCase();
    await stockSku(client, sku, count * repeats);
    const samples = [];
    const progress = new Progress(`holds ${mode} x${count}`, repeats);
    for (let i = 0; i < repeats; i++) {
      const timing = await client.adminCall("POST", `/bench/inventory/${sku}/holds`, { count, mode });
      if (timing.granted !== count) throw new Error(`holds ${mode}: ${timing.granted} of ${count} granted`);
      samples.push(timing.us_per_hold);
      progress.tick();
    }
    progress.finish();
    const inventory = await client.adminCall("GET", `/v1/admin/inventory/${sku}`);
    if (inventory.reserved !== count * repeats)
      throw new Error(`holds ${mode}: ${inventory.reserved} reserved, expected ${count * repeats}`);
    result[mode] = {
      holds: count,
      repeats,
      us_per_hold: round(median(samples)),
      min_us: round(Math.min(...samples)),
      max_us: round(Math.max(...samples)),
      samples_us: samples.map((s) => round(s)),
    };
  }
  return result;
}

/**
 * Holds/s of ONE InventoryObject with `callers` concurrent hold RPCs from the bench Worker (each
 * caller awaits its hold, then sends the next), `holds` holds per call, `repeats` calls; each on a
 * fresh SKU with stock for all. Also checks that the object granted exactly what it reports.
 */
export async function ceiling(client, runId, callerCounts, holdsPerCall, repeats) {
  const result = {};
  for (const callers of callerCounts) {
    const samples = [];
    const progress = new Progress(`ceiling ${callers} callers x${holdsPerCall}`, repeats);
    for (let i = 0; i < repeats; i++) {
      const sku = `B-${runId}-CEIL-${callers}-${i}`.toUpperCase();
      await stockSku(client, sku, holdsPerCall);
      const timing = await client.adminCall("POST", `/bench/inventory/${sku}/ceiling`, { callers, holds: holdsPerCall });
      const inventory = await client.adminCall("GET", `/v1/admin/inventory/${sku}`);
      if (timing.granted !== holdsPerCall || timing.failed !== 0 || inventory.reserved !== holdsPerCall || inventory.available !== 0) {
        throw new Error(
          `ceiling ${callers}: granted ${timing.granted}, failed ${timing.failed}, object reserved ${inventory.reserved} available ${inventory.available}, of ${holdsPerCall}`,
        );
      }
      samples.push(timing);
      progress.tick();
    }
    progress.finish();
    const rates = samples.map((s) => s.holds_per_s);
    result[callers] = {
      callers,
      holds: holdsPerCall,
      repeats,
      holds_per_s: round(median(rates)),
      min_holds_per_s: round(Math.min(...rates)),
      max_holds_per_s: round(Math.max(...rates)),
      p50_ms: round(median(samples.map((s) => s.p50_ms)), 2),
      p99_ms: round(median(samples.map((s) => s.p99_ms)), 2),
      oversell: 0,
    };
  }
  return result;
}
