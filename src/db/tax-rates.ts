/**
 * Tax rates per destination country in Postgres, the system of record the edge's tax table is
 * published from.
 */
import { asc, eq, sql } from "drizzle-orm";
import type { TaxRate } from "../contracts";
import type { Db } from "./client";
import { taxRates } from "./schema";

type Row = typeof taxRates.$inferSelect;

function toRate(row: Row): TaxRate {
  return {
    country: row.country,
    basis_points: row.basisPoints,
    inclusive: row.inclusive,
    version: row.version,
    published_version: row.publishedVersion,
    updated_at: row.updatedAt.toISOString(),
  };
}

/**
 * Sets a country's rate, bumping its version when it existed. `created` is true for exactly one of
 * racing creates (the INSERT … ON CONFLICT DO NOTHING returns a row only to the one that inserted).
 */
export async function upsertTaxRate(
  db: Db,
  country: string,
  input: { basis_points: number; inclusive: boolean },
): Promise<{ created: boolean; rate: TaxRate }> {
  return db.transaction(async (tx) => {
    const now = new Date();
    const fields = { basisPoints: input.basis_points, inclusive: input.inclusive, updatedAt: now };
    const [inserted] = await tx
      .insert(taxRates)
      .values({ country, ...fields, version: 1 })
      .onConflictDoNothing({ target: taxRates.country })
      .returning();
    if (inserted !== undefined) return { created: true, rate: toRate(inserted) };
    const [row] = await tx
      .update(taxRates)
      .set({ ...fields, version: sql`${taxRates.version} + 1` })
      .where(eq(taxRates.country, country))
      .returning();
    if (row === undefined) throw new Error(`tax rate ${country} neither inserted nor updated`);
    return { created: false, rate: toRate(row) };
  });
}

/** One country's rate, or null. */
export async function getTaxRate(db: Db, country: string): Promise<TaxRate | null> {
  const [row] = await db.select().from(taxRates).where(eq(taxRates.country, country));
  return row ? toRate(row) : null;
}

/** Every rate, by country (at most 676 rows: countries are two letters). */
export async function listTaxRates(db: Db): Promise<TaxRate[]> {
  return (await db.select().from(taxRates).orderBy(asc(taxRates.country))).map(toRate);
}

/** Removes a country's rate; false when it had none. */
export async function deleteTaxRate(db: Db, country: string): Promise<boolean> {
  const deleted = await db.delete(taxRates).where(eq(taxRates.country, country)).returning({ country: taxRates.country });
  return deleted.length > 0;
}

/** Records that the edge's table has these versions (never moving a mark back, nor past a row's version). */
export async function markTaxRatesPublished(db: Db, seen: ReadonlyArray<{ country: string; version: number }>): Promise<void> {
  if (seen.length === 0) return;
  const values = sql.join(
    seen.map((rate) => sql`(${rate.country}::text, ${rate.version}::integer)`),
    sql`, `,
  );
  await db.execute(sql`
    UPDATE ${taxRates} SET published_version = GREATEST(${taxRates.publishedVersion}, LEAST(${taxRates.version}, seen.version))
    FROM (VALUES ${values}) AS seen(country, version)
    WHERE ${taxRates.country} = seen.country AND ${taxRates.publishedVersion} < seen.version`);
}
