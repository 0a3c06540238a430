/**
 * Stock levels between the edge and Postgres: the SKU objects' level reports (queue
 * `edgecart-inventory`), the reconciliation snapshot (cron) that writes every SKU object's levels,
 * and the disaster restore that rebuilds SKU objects from Postgres.
 */
import { InventoryLevelV1 } from "../contracts";
import { withDb } from "../db/client";
import { allSkus, restorePoints, upsertLevels } from "../db/inventory";
import { inventoryStub } from "../objects/stubs";
import { errorFields, log } from "../platform/log";
import { retryDelaySeconds } from "./archival";

/**
 * Writes reported stock levels to Postgres. Reports are state (newest ledger position wins), so
 * redelivery is harmless and an invalid report is dropped: the next change or the
 * reconciliation cron reports the SKU again.
 */
export async function consumeInventoryLevels(batch: MessageBatch, env: Env): Promise<void> {
  const reports: InventoryLevelV1[] = [];
  for (const message of batch.messages) {
    const parsed = InventoryLevelV1.safeParse(message.body);
    if (parsed.success) reports.push(parsed.data);
    else log("error", "invalid inventory level report dropped", { message_id: message.id });
  }
  try {
    await withDb(env, (db) => upsertLevels(db, reports));
    batch.ackAll();
  } catch (error) {
    log("warn", "inventory level upsert failed; retrying", errorFields(error));
    for (const message of batch.messages) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  }
}

/** SKU objects asked at once (keeps a big catalog from opening thousands of calls together). */
const CONCURRENCY = 25;

async function inChunks<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += CONCURRENCY) results.push(...(await Promise.all(items.slice(i, i + CONCURRENCY).map(work))));
  return results;
}

/** Reads every catalog SKU's levels from its object and upserts them into Postgres. */
export async function snapshotLevels(env: Env): Promise<{ skus: number; written: number; failed: number }> {
  const skus = await withDb(env, (db) => allSkus(db));
  let failed = 0;
  const reports = await inChunks(skus, async (sku) => {
    try {
      return await inventoryStub(env, sku).levelReport();
    } catch (error) {
      failed++;
      log("warn", "level snapshot failed for a SKU", { sku, ...errorFields(error) });
      return null;
    }
  });
  const present: InventoryLevelV1[] = reports.flatMap((r) => (r === null ? [] : [r]));
  const written = await withDb(env, (db) => upsertLevels(db, present));
  return { skus: skus.length, written, failed };
}

/** Result of a restore, per SKU. */
export type RestoreOutcome =
  | { sku: string; on_hand: number; outcome: "restored" }
  | { sku: string; on_hand: number; outcome: "skipped"; reason: string };

/**
 * Rebuilds SKU objects after a disaster from the levels Postgres last saw: each SKU object that
 * lost its state (or is behind the saved ledger position) is defined again from the catalog and
 * given the saved on_hand; a live object at or past the saved position is never rewound. Holds
 * are not restored (carts re-reserve on their next change).
 */
export async function restoreLevels(env: Env, only?: readonly string[]): Promise<RestoreOutcome[]> {
  const points = await withDb(env, (db) => restorePoints(db, only));
  return inChunks(points, async (point): Promise<RestoreOutcome> => {
    if (point.pricing === null) return { sku: point.sku, on_hand: point.onHand, outcome: "skipped", reason: "not in the catalog" };
    const result = await inventoryStub(env, point.sku).restore({
      pricing: point.pricing,
      on_hand: point.onHand,
      sold: point.sold,
      ledger_seq: point.ledgerSeq,
    });
    return result.outcome === "restored"
      ? { sku: point.sku, on_hand: point.onHand, outcome: "restored" }
      : { sku: point.sku, on_hand: point.onHand, outcome: "skipped", reason: result.reason };
  });
}
