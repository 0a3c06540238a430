/**
 * Tax rates from Postgres to the edge: every change is committed in Postgres, then the whole
 * table is written to KV (`writeTaxRates`, read by carts through `taxRates`) and confirmed
 * against Postgres. A write that fails or cannot be confirmed loses nothing: the minute cron
 * (`maintainPricingSettings`) rewrites the table on every run.
 */
import type { TaxRate } from "../contracts";
import { withDb } from "../db/client";
import { deleteTaxRate, listTaxRates, markTaxRatesPublished, upsertTaxRate } from "../db/tax-rates";
import { errorFields, log } from "../platform/log";
import { type TaxRates, writeTaxRates } from "../services/pricing-settings";
import { writeConfirmed } from "./confirmed-write";

/** The table as the edge holds it: country → rate. */
export function edgeTable(rates: readonly TaxRate[]): TaxRates {
  const table: TaxRates = {};
  for (const rate of rates) table[rate.country] = { basis_points: rate.basis_points, inclusive: rate.inclusive };
  return table;
}

const fingerprint = (rates: readonly TaxRate[]) => JSON.stringify(rates.map((r) => [r.country, r.basis_points, r.inclusive, r.version]));

/**
 * Writes the whole table to KV, confirmed against Postgres, and marks the rates it holds as
 * published. Returns the rates KV was confirmed to hold, or null (Postgres kept changing). KV and
 * Postgres errors are thrown.
 */
export async function publishTaxTable(env: Env, kv: KVNamespace = env.CATALOG): Promise<TaxRate[] | null> {
  const confirmed = await writeConfirmed(
    () => withDb(env, (db) => listTaxRates(db)),
    (rates) => writeTaxRates(kv, edgeTable(rates)),
    fingerprint,
  );
  if (confirmed === null) return null;
  const behind = confirmed.filter((rate) => rate.published_version < rate.version);
  if (behind.length > 0) await withDb(env, (db) => markTaxRatesPublished(db, behind));
  return confirmed.map((rate) => ({ ...rate, published_version: rate.version }));
}

/** Publishes the table after a change; a failure is logged and left to the cron. */
async function publishAfterChange(env: Env, kv: KVNamespace, country: string): Promise<TaxRate[] | null> {
  try {
    const confirmed = await publishTaxTable(env, kv);
    if (confirmed === null) log("warn", "tax rates still changing after publish; the cron finishes it", { country });
    return confirmed;
  } catch (error) {
    log("warn", "tax rates publish failed; the cron will rewrite the table", { country, ...errorFields(error) });
    return null;
  }
}

/** Sets a country's rate in Postgres, then publishes the table. */
export async function saveTaxRate(
  env: Env,
  country: string,
  input: { basis_points: number; inclusive: boolean },
  kv: KVNamespace = env.CATALOG,
): Promise<{ created: boolean; rate: TaxRate }> {
  const saved = await withDb(env, (db) => upsertTaxRate(db, country, input));
  const confirmed = await publishAfterChange(env, kv, country);
  const seen = confirmed?.find((rate) => rate.country === country);
  // Published when the confirmed table has this version or a later one (a racing change superseded it).
  const published = seen !== undefined && seen.version >= saved.rate.version;
  return { created: saved.created, rate: published ? { ...saved.rate, published_version: saved.rate.version } : saved.rate };
}

/** Removes a country's rate in Postgres, then publishes the table. False when it had none. */
export async function removeTaxRate(env: Env, country: string, kv: KVNamespace = env.CATALOG): Promise<boolean> {
  if (!(await withDb(env, (db) => deleteTaxRate(db, country)))) return false;
  await publishAfterChange(env, kv, country);
  return true;
}
