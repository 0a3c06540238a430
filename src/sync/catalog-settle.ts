/**
 * Confirming KV against Postgres after a catalog write (`settle`), shared by publishes
 * (sync/catalog-publish.ts) and the rebuild (sync/catalog-rebuild.ts).
 *
 * KV has no compare-and-set, so every KV write of the catalog is followed by a Postgres read
 * (`settle`): while Postgres has a newer version than KV was given, its latest is written. The
 * write that lands last was therefore followed by a read that saw nothing newer, and KV ends on
 * Postgres's latest version whatever the interleaving of publishers, fills and rebuilds.
 */
import { catalogStates, getProducts } from "../db/catalog";
import { withDb } from "../db/client";
import { readThroughMemo, writeProduct } from "./catalog-cache";

/** Rounds of write-then-confirm before a publish leaves the rest to the outbox and the cron. */
const SETTLE_ROUNDS = 3;

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
