/**
 * Promotions from Postgres to the edge, like the catalog: every change is committed in Postgres
 * first (bumping `version`), then published:
 *
 *   1. the definition, as a domain `Promotion` (times in ms; deleted = archived), to the
 *      promotion's PromotionObject (`promotionObjectName`), which keeps the newest version;
 *   2. for an automatic promotion (no code), the whole automatic list to KV
 *      (`writeAutomaticPromotions`: active, not ended), confirmed against Postgres;
 *   3. `published_version` set to the version the edge was confirmed to have.
 *
 * A publish that fails loses nothing: Postgres has the change, and the minute cron
 * (`maintainPricingSettings`) republishes every promotion whose `published_version` is behind its
 * `version`, then rewrites the automatic list and the tax table whatever happened (a promotion
 * that ended drops out of the list; a writer that died between its write and its check is
 * corrected).
 */
import type { PromotionInput } from "../contracts";
import { withDb } from "../db/client";
import {
  automaticPromotionRecords,
  deletePromotion,
  markPromotionPublished,
  type PromotionRecord,
  type SaveOutcome,
  unpublishedPromotions,
  upsertPromotion,
} from "../db/promotions";
import { normalizeCode, type Promotion, promotionObjectName } from "../domain/promotion";
import { promotionStub } from "../objects/stubs";
import { errorFields, log } from "../platform/log";
import { writeAutomaticPromotions } from "../services/pricing-settings";
import { writeConfirmed } from "./confirmed-write";
import { publishTaxTable } from "./tax-publish";

/**
 * Promotions one cron run republishes at most (the rest wait a minute), and how many at a time:
 * each is a call to its object, a subrequest of the cron's invocation, which the catalog's
 * rebuild shares.
 */
export const MAX_REPUBLISH = 100;
const REPUBLISH_BATCH = 20;

const ms = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso));

/** The definition carts and the promotion's object work with. A deleted promotion is archived. */
export function toDomainPromotion(record: PromotionRecord): Promotion {
  return {
    id: record.id,
    code: record.code,
    starts_at: ms(record.starts_at),
    ends_at: ms(record.ends_at),
    value: record.value,
    target: record.target,
    allocation: record.allocation,
    conditions: record.conditions,
    usage_limit: record.usage_limit,
    combinable: record.combinable,
    priority: record.priority,
    version: record.version,
    status: record.deleted ? "archived" : record.status,
  };
}

/** Pushes the definition to the promotion's object; returns the version the object holds now (maybe newer). */
async function pushToObject(env: Env, record: PromotionRecord): Promise<number> {
  const held = await promotionStub(env, promotionObjectName(record)).publish(toDomainPromotion(record));
  return held.version;
}

/**
 * Writes the automatic promotions (active, not ended at the time of each read) to KV, confirmed
 * against Postgres. Returns the list KV was confirmed to hold, or null (Postgres kept changing).
 * KV and Postgres errors are thrown.
 */
export async function publishAutomaticList(env: Env, kv: KVNamespace = env.CATALOG): Promise<Promotion[] | null> {
  return writeConfirmed(
    async () => (await withDb(env, (db) => automaticPromotionRecords(db, new Date()))).map(toDomainPromotion),
    (list) => writeAutomaticPromotions(kv, list),
    (list) => JSON.stringify(list),
  );
}

/**
 * Publishes one committed version: its object, then (automatic promotions) the list, then the
 * mark. Returns the record with the `published_version` now recorded; a failure is logged and
 * left to the cron (the record comes back unchanged).
 */
export async function publishPromotion(env: Env, record: PromotionRecord, kv: KVNamespace = env.CATALOG): Promise<PromotionRecord> {
  try {
    await pushToObject(env, record);
    if (record.code === null && (await publishAutomaticList(env, kv)) === null) {
      log("warn", "automatic promotions still changing after publish; the cron finishes it", { promotion_id: record.id });
      return record;
    }
    await withDb(env, (db) => markPromotionPublished(db, record.id, record.version));
    return { ...record, published_version: Math.max(record.published_version, record.version) };
  } catch (error) {
    log("warn", "promotion publish failed; the cron will republish it", {
      promotion_id: record.id,
      version: record.version,
      ...errorFields(error),
    });
    return record;
  }
}

/** Creates or replaces a promotion in Postgres (its code normalized), then publishes it. */
export async function savePromotion(env: Env, id: string, input: PromotionInput, kv: KVNamespace = env.CATALOG): Promise<SaveOutcome> {
  const code = input.code === null ? null : normalizeCode(input.code);
  const outcome = await withDb(env, (db) => upsertPromotion(db, id, { ...input, code }));
  if (!outcome.ok) return outcome;
  return { ...outcome, promotion: await publishPromotion(env, outcome.promotion, kv) };
}

/** Deletes a promotion softly in Postgres, then publishes it archived. Null when there is no such promotion. */
export async function retirePromotion(env: Env, id: string, kv: KVNamespace = env.CATALOG): Promise<PromotionRecord | null> {
  const deleted = await withDb(env, (db) => deletePromotion(db, id));
  return deleted === null ? null : publishPromotion(env, deleted, kv);
}

/** What one cron run did. */
export interface PricingReport {
  /** Promotions whose objects got their latest version, and those that failed. */
  republished: number;
  failed: number;
  /** Entries of the automatic list and of the tax table written and confirmed; null when that write failed or kept moving. */
  automatic: number | null;
  tax_rates: number | null;
}

/**
 * The minute cron's pricing work (with the catalog's): republish what the edge lacks, then
 * rewrite the automatic list and the tax table. Objects first, so a promotion is marked published
 * only once its object and (automatic ones) the confirmed list have it. KV failures are logged and
 * reported; a Postgres outage throws.
 */
export async function maintainPricingSettings(env: Env, kv: KVNamespace = env.CATALOG): Promise<PricingReport> {
  const pending = await withDb(env, (db) => unpublishedPromotions(db, MAX_REPUBLISH));
  const pushed: PromotionRecord[] = [];
  let failed = 0;
  for (let i = 0; i < pending.length; i += REPUBLISH_BATCH) {
    const batch = pending.slice(i, i + REPUBLISH_BATCH);
    const results = await Promise.allSettled(batch.map((record) => pushToObject(env, record)));
    results.forEach((result, j) => {
      if (result.status === "fulfilled") pushed.push(batch[j]!);
      else {
        failed++;
        log("warn", "promotion republish failed", { promotion_id: batch[j]!.id, ...errorFields(result.reason) });
      }
    });
  }

  const automatic = await publishAutomaticList(env, kv).catch((error: unknown) => {
    log("warn", "automatic promotions could not be written", errorFields(error));
    return null;
  });
  const done = pushed.filter((record) => record.code !== null || automatic !== null);
  if (done.length > 0) {
    await withDb(env, async (db) => {
      for (const record of done) await markPromotionPublished(db, record.id, record.version);
    });
  }

  const tax = await publishTaxTable(env, kv).catch((error: unknown) => {
    log("warn", "tax rates could not be written", errorFields(error));
    return null;
  });
  return { republished: pushed.length, failed, automatic: automatic?.length ?? null, tax_rates: tax?.length ?? null };
}
