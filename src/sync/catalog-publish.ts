/**
 * Publishing the catalog from Postgres to the edge: each SKU's price, status and limit go to its
 * InventoryObject (authoritative for carts and checkout) and the product to KV (fast reads).
 * Postgres holds a publish outbox row for every change until both are done; the minute cron
 * drains what a failed or interrupted publish left behind, then reconciles all of KV with
 * Postgres (`rebuildCatalogIndex`, sync/catalog-rebuild.ts) and marks the listing index complete.
 *
 * KV has no compare-and-set, so every KV write here is followed by a Postgres read (`settle`,
 * sync/catalog-settle.ts): while Postgres has a newer version than KV was given, its latest is
 * written, so KV ends on Postgres's latest version whatever the interleaving of publishers, fills
 * and rebuilds.
 */
import type { Product, ProductInput, SkuPricing } from "../contracts";
import {
  archiveProduct,
  getProduct,
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
import { clearMarker, mayWrite, readHeld, readThroughMemo, writeProduct } from "./catalog-cache";
import { rebuildCatalogIndex } from "./catalog-rebuild";
import { settle } from "./catalog-settle";

export { MAX_REBUILD_CHANGES, type RebuildReport, rebuildCatalogIndex } from "./catalog-rebuild";
export { settle } from "./catalog-settle";

/** What a publish pushes: the product (for KV) and every SKU it owns (for the SKU objects). */
export interface Publication {
  product: Product;
  pricing: SkuPricing[];
}

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

/**
 * The minute cron's catalog work (CATALOG_OUTBOX_CRON): republish what the outbox holds, then
 * rebuild the KV catalog from Postgres and renew the completeness marker.
 */
export async function maintainCatalog(env: Env, kv: KVNamespace = env.CATALOG): Promise<Record<string, unknown>> {
  const outbox = await drainPublishQueue(env, kv);
  const index = await rebuildCatalogIndex(env, kv);
  return { ...outbox, index };
}
