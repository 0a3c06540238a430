/**
 * Publishing the catalog from Postgres to the edge: each SKU's price, status and limit go to its
 * InventoryObject (authoritative for carts and checkout) and the product to KV (fast reads).
 * Postgres holds a publish outbox row for every change until both are done; the minute cron
 * drains what a failed or interrupted publish left behind, then reconciles all of KV with
 * Postgres (`rebuildCatalogIndex`) and marks the listing index complete.
 *
 * KV has no compare-and-set, so every KV write here is followed by a Postgres read (`settle`):
 * while Postgres has a newer version than KV was given, its latest is written. The write that
 * lands last was therefore followed by a read that saw nothing newer, and KV ends on Postgres's
 * latest version whatever the interleaving of publishers, fills and rebuilds.
 */
import type { Product, ProductInput, SkuPricing } from "../contracts";
import {
  archiveProduct,
  type CatalogState,
  catalogStates,
  failedPublishCount,
  getProduct,
  getProducts,
  markPublished,
  markPublishFailed,
  pendingPublishes,
  skuPricing,
  type UpsertOutcome,
  upsertProduct,
} from "../db/catalog";
import { withDb } from "../db/client";
import { inventoryStub } from "../objects/stubs";
import { errorFields, log } from "../platform/log";
import {
  clearMarker,
  dropIndexEntry,
  listedIn,
  mayWrite,
  planRebuild,
  putIndexEntry,
  putProductEntry,
  readEdgeState,
  readHeld,
  readThroughMemo,
  writeMarker,
  writeProduct,
} from "./catalog-cache";

/** What a publish pushes: the product (for KV) and every SKU it owns (for the SKU objects). */
export interface Publication {
  product: Product;
  pricing: SkuPricing[];
}

/** Rounds of write-then-confirm before a publish leaves the rest to the outbox and the cron. */
const SETTLE_ROUNDS = 3;
/**
 * KV changes one rebuild makes at most: a Worker invocation may make 1,000 KV operations, and the
 * same cron also drains the outbox and lists the keys. A larger backlog takes several minutes.
 */
export const MAX_REBUILD_CHANGES = 500;

/** Pushes pricing to every SKU object; throws if any push fails (the outbox keeps the change). */
export async function pushPricing(env: Env, pricing: SkuPricing[]): Promise<void> {
  await Promise.all(pricing.map((entry) => inventoryStub(env, entry.sku).define(entry)));
}

/**
 * Writes the product to KV (long TTL), removing it from the category it was listed under before
 * — unless KV already shows a newer version, which it never replaces. Returns the version KV
 * holds now as far as this Worker can tell: the product's, or the newer one found.
 */
export async function pushToCache(kv: KVNamespace, product: Product): Promise<number> {
  const held = await readHeld(kv, product.id).catch(() => null);
  if (held !== null && !mayWrite(held.version, product.version, "publish")) return held.version;
  await writeProduct(kv, product, held?.category);
  readThroughMemo.forget(product.id);
  return product.version;
}

/**
 * Confirms KV against Postgres: for every id whose Postgres version is newer than the one KV was
 * given (`applied`), writes Postgres's latest product (entry and listing entries), and looks
 * again, for at most `SETTLE_ROUNDS` rounds. Returns the versions KV was given in the end and the
 * ids still moving (their newer publishes and the cron finish them). KV errors throw.
 */
export async function settle(
  env: Env,
  kv: KVNamespace,
  applied: Map<string, number>,
): Promise<{ applied: Map<string, number>; unsettled: string[] }> {
  const result = new Map(applied);
  let pending = new Map(applied);
  for (let round = 0; round < SETTLE_ROUNDS && pending.size > 0; round++) {
    const ids = [...pending.keys()];
    const latest = await withDb(env, async (db) => {
      const newer = (await catalogStates(db, ids)).filter((state) => state.version > (pending.get(state.id) ?? 0)).map((state) => state.id);
      return getProducts(db, newer);
    });
    pending = new Map();
    await Promise.all(
      latest.map(async (product) => {
        await writeProduct(kv, product, undefined);
        readThroughMemo.forget(product.id);
        result.set(product.id, product.version);
        pending.set(product.id, product.version);
      }),
    );
  }
  return { applied: result, unsettled: [...pending.keys()] };
}

/**
 * Publishes one change: SKU objects first (must succeed: the caller reports failure), then KV
 * confirmed against Postgres (a failure is logged, withdraws the listing's completeness marker
 * and is left to the outbox), then clears the outbox row. Returns whether KV and the outbox were
 * brought up to date.
 */
export async function publish(env: Env, publication: Publication, kv: KVNamespace = env.CATALOG): Promise<{ cached: boolean }> {
  await pushPricing(env, publication.pricing);
  const { product } = publication;
  let confirmed: { applied: Map<string, number>; unsettled: string[] };
  try {
    const held = await pushToCache(kv, product);
    confirmed = await settle(env, kv, new Map([[product.id, held]]));
  } catch (error) {
    log("warn", "catalog KV publish failed; the outbox will retry", {
      product_id: product.id,
      version: product.version,
      ...errorFields(error),
    });
    await withDb(env, (db) => markPublishFailed(db, product.id, error instanceof Error ? error.message : String(error))).catch(
      () => undefined,
    );
    // After the failure is recorded (a rebuild looks at the outbox after writing the marker).
    await clearMarker(kv).catch((clearError: unknown) =>
      log("warn", "could not withdraw the catalog index marker", errorFields(clearError)),
    );
    return { cached: false };
  }
  if (confirmed.unsettled.length > 0) {
    log("warn", "product still changing after publish; the outbox and the cron finish it", { product_id: product.id });
    return { cached: true };
  }
  const version = confirmed.applied.get(product.id) ?? product.version;
  await withDb(env, (db) => markPublished(db, product.id, version)).catch((error: unknown) =>
    log("warn", "could not clear the publish outbox; the cron will republish", { product_id: product.id, ...errorFields(error) }),
  );
  return { cached: true };
}

/** Creates or replaces a product in Postgres, then publishes it. */
export async function saveProduct(env: Env, id: string, input: ProductInput, kv: KVNamespace = env.CATALOG): Promise<UpsertOutcome> {
  const saved = await withDb(env, async (db) => {
    const outcome = await upsertProduct(db, id, input);
    return outcome.ok ? { outcome, pricing: await skuPricing(db, id) } : { outcome, pricing: [] };
  });
  if (saved.outcome.ok) await publish(env, { product: saved.outcome.product, pricing: saved.pricing }, kv);
  return saved.outcome;
}

/** Archives a product in Postgres, then publishes that. Null when there is no such product. */
export async function retireProduct(env: Env, id: string, kv: KVNamespace = env.CATALOG): Promise<Product | null> {
  const saved = await withDb(env, async (db) => {
    const product = await archiveProduct(db, id);
    return product ? { product, pricing: await skuPricing(db, id) } : null;
  });
  if (saved) await publish(env, saved, kv);
  return saved?.product ?? null;
}

/**
 * Publishes every product left in the outbox (a KV error, a Worker that died after its commit).
 * Always publishes the latest state from Postgres, so racing or repeated publishes converge.
 */
export async function drainPublishQueue(env: Env, kv: KVNamespace = env.CATALOG): Promise<{ published: number; failed: number }> {
  const pending = await withDb(env, (db) => pendingPublishes(db));
  let published = 0;
  let failed = 0;
  for (const { productId } of pending) {
    try {
      const loaded = await withDb(env, async (db) => {
        const product = await getProduct(db, productId);
        return product ? { product, pricing: await skuPricing(db, productId) } : null;
      });
      if (loaded === null) {
        await withDb(env, (db) => markPublished(db, productId, Number.MAX_SAFE_INTEGER));
        continue;
      }
      const { cached } = await publish(env, loaded, kv);
      if (cached) published++;
      else failed++;
    } catch (error) {
      failed++;
      log("warn", "catalog republish failed", { product_id: productId, ...errorFields(error) });
    }
  }
  return { published, failed };
}

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

/**
 * The minute cron's catalog work (CATALOG_OUTBOX_CRON): republish what the outbox holds, then
 * rebuild the KV catalog from Postgres and renew the completeness marker.
 */
export async function maintainCatalog(env: Env, kv: KVNamespace = env.CATALOG): Promise<Record<string, unknown>> {
  const outbox = await drainPublishQueue(env, kv);
  const index = await rebuildCatalogIndex(env, kv);
  return { ...outbox, index };
}
