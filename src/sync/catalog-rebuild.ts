/**
 * The full rebuild of the KV catalog from Postgres (`rebuildCatalogIndex`), which the minute cron
 * runs after draining the publish outbox (sync/catalog-publish.ts `maintainCatalog`): it
 * reconciles all of KV with Postgres and marks the listing index complete, or withdraws the mark.
 */
import type { Product } from "../contracts";
import { type CatalogState, catalogStates, failedPublishCount, getProducts } from "../db/catalog";
import { withDb } from "../db/client";
import { errorFields, log } from "../platform/log";
import {
  clearMarker,
  dropIndexEntry,
  listedIn,
  planRebuild,
  putIndexEntry,
  putProductEntry,
  readEdgeState,
  writeMarker,
} from "./catalog-cache";
import { settle } from "./catalog-settle";

/**
 * KV changes one rebuild makes at most: a Worker invocation may make 1,000 KV operations, and the
 * same cron also drains the outbox and lists the keys. A larger backlog takes several minutes.
 */
export const MAX_REBUILD_CHANGES = 500;

/** What one rebuild found and did. */
export interface RebuildReport {
  /** Products in Postgres, and how many of them are listed. */
  products: number;
  listed: number;
  /** KV entries written (new, corrected or renewed) and listing entries dropped. */
  written: number;
  dropped: number;
  /** Changes left for the next run (over `maxChanges`), and changes that failed. */
  deferred: number;
  failed: number;
  /** Whether the index is marked complete after this run. */
  complete: boolean;
}

type Change = { kind: "product" | "write" | "drop"; id: string; category?: string; urgent: boolean };

/**
 * Full rebuild of the KV catalog from Postgres, incremental in its writes: lists every catalog
 * key with its version and expiry, and makes KV hold what Postgres says — listing entries for
 * exactly the listed products, product entries at Postgres's version, long TTLs renewed well
 * before they lapse. Each change is decided on Postgres read again after the listing of KV, so
 * an entry written by a publish meanwhile is never dropped on an old read, and the writes are
 * confirmed (`settle`). When every listed product has its listing entries and no publish is
 * failing, the completeness marker is written (`MARKER_TTL`); otherwise it is withdrawn and
 * listing is served from Postgres.
 */
export async function rebuildCatalogIndex(
  env: Env,
  kv: KVNamespace = env.CATALOG,
  options: { maxChanges?: number; now?: Date } = {},
): Promise<RebuildReport> {
  const now = options.now ?? new Date();
  const states = await withDb(env, (db) => catalogStates(db));
  const plan = planRebuild(states, await readEdgeState(kv), Math.floor(now.getTime() / 1000));
  // Missing listing entries first (the index is incomplete without them), then wrong product
  // entries, stale listing entries, and renewals last.
  const changes: Change[] = [
    ...plan.writes.filter((w) => w.urgent).map((w) => ({ kind: "write" as const, ...w })),
    ...plan.products.filter((p) => p.urgent).map((p) => ({ kind: "product" as const, ...p })),
    ...plan.drops.map((d) => ({ kind: "drop" as const, ...d })),
    ...plan.writes.filter((w) => !w.urgent).map((w) => ({ kind: "write" as const, ...w })),
    ...plan.products.filter((p) => !p.urgent).map((p) => ({ kind: "product" as const, ...p })),
  ];
  const maxChanges = options.maxChanges ?? MAX_REBUILD_CHANGES;
  const chosen = changes.slice(0, maxChanges);
  let incomplete = changes.slice(maxChanges).some((c) => c.kind === "write" && c.urgent);

  // Postgres again, after KV was listed: every change is decided on the current state.
  const ids = [...new Set(chosen.map((c) => c.id))];
  const productIds = [...new Set(chosen.filter((c) => c.kind === "product").map((c) => c.id))];
  const { current, full } = await withDb(env, async (db) => ({
    current: new Map((await catalogStates(db, ids)).map((s): [string, CatalogState] => [s.id, s])),
    full: new Map((await getProducts(db, productIds)).map((p): [string, Product] => [p.id, p])),
  }));

  const applied = new Map<string, number>();
  const note = (id: string, version: number) => applied.set(id, Math.max(applied.get(id) ?? 0, version));
  let written = 0;
  let dropped = 0;
  let failed = 0;
  const apply = async (change: Change): Promise<void> => {
    const state = current.get(change.id);
    if (change.kind === "product") {
      const product = full.get(change.id);
      if (product === undefined) return;
      await putProductEntry(kv, product);
      note(product.id, product.version);
      written++;
    } else if (change.kind === "write") {
      if (state === undefined || !listedIn(state, change.category)) return; // changed meanwhile: its publish places it
      await putIndexEntry(kv, state.id, state.version, change.category);
      note(state.id, state.version);
      written++;
    } else {
      if (state !== undefined && listedIn(state, change.category)) return; // listed again meanwhile: keep the entry
      await dropIndexEntry(kv, change.id, change.category);
      if (state !== undefined) note(state.id, state.version);
      dropped++;
    }
  };
  for (let i = 0; i < chosen.length; i += 25) {
    const batch = chosen.slice(i, i + 25);
    const results = await Promise.allSettled(batch.map(apply));
    results.forEach((result, j) => {
      if (result.status === "fulfilled") return;
      failed++;
      if (batch[j]!.kind === "write" && batch[j]!.urgent) incomplete = true;
      log("warn", "catalog rebuild change failed", { product_id: batch[j]!.id, kind: batch[j]!.kind, ...errorFields(result.reason) });
    });
  }
  try {
    if ((await settle(env, kv, applied)).unsettled.length > 0) incomplete = true;
  } catch (error) {
    incomplete = true;
    log("warn", "catalog rebuild could not confirm its writes", errorFields(error));
  }

  let complete = !incomplete && (await withDb(env, (db) => failedPublishCount(db))) === 0;
  if (complete) {
    await writeMarker(kv, crypto.randomUUID(), now);
    // A publish that failed after the count above withdraws the marker itself once it has
    // recorded its failure; one recorded in between is caught by counting again after the write.
    if ((await withDb(env, (db) => failedPublishCount(db))) > 0) {
      await clearMarker(kv);
      complete = false;
    }
  } else {
    await clearMarker(kv);
  }
  return {
    products: states.length,
    listed: states.filter((s) => listedIn(s)).length,
    written,
    dropped,
    deferred: Math.max(0, changes.length - chosen.length),
    failed,
    complete,
  };
}
