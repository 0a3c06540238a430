/**
 * Publishing the catalog from Postgres to the edge: each SKU's price, status and limit go to its
 * InventoryObject (authoritative for carts and checkout) and the product to KV (fast reads).
 * Postgres holds a publish outbox row for every change until both are done; the cron trigger
 * drains what a failed or interrupted publish left behind.
 */
import type { Product, ProductInput, SkuPricing } from "../contracts";
import { markPublished, markPublishFailed, pendingPublishes, skuPricing, upsertProduct, archiveProduct, getProduct, type UpsertOutcome } from "../db/catalog";
import { withDb } from "../db/client";
import { errorFields, log } from "../platform/log";
import { inventoryStub } from "../objects/stubs";
import { writeProduct } from "./catalog-cache";

/** What a publish pushes: the product (for KV) and every SKU it owns (for the SKU objects). */
export interface Publication {
  product: Product;
  pricing: SkuPricing[];
}

/** Pushes pricing to every SKU object; throws if any push fails (the outbox keeps the change). */
export async function pushPricing(env: Env, pricing: SkuPricing[]): Promise<void> {
  await Promise.all(pricing.map((entry) => inventoryStub(env, entry.sku).define(entry)));
}

/** Writes the product to KV, removing it from the category it was listed under before. */
export async function pushToCache(kv: KVNamespace, product: Product): Promise<void> {
  const previous = await kv.get<{ category?: string | null }>(`product:v1:${product.id}`, { type: "json" }).catch(() => null);
  await writeProduct(kv, product, previous?.category);
}

/**
 * Publishes one change: SKU objects first (must succeed: the caller reports failure), then KV
 * (a failure is logged and left to the outbox), then clears the outbox row. Returns whether KV
 * and the outbox were brought up to date.
 */
export async function publish(env: Env, publication: Publication, kv: KVNamespace = env.CATALOG): Promise<{ cached: boolean }> {
  await pushPricing(env, publication.pricing);
  const { product } = publication;
  try {
    await pushToCache(kv, product);
  } catch (error) {
    log("warn", "catalog KV publish failed; the outbox will retry", { product_id: product.id, version: product.version, ...errorFields(error) });
    await withDb(env, (db) => markPublishFailed(db, product.id, error instanceof Error ? error.message : String(error))).catch(() => undefined);
    return { cached: false };
  }
  await withDb(env, (db) => markPublished(db, product.id, product.version)).catch((error: unknown) =>
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
