/**
 * Promotions in Postgres, the system of record: create or replace (a code fixed once set, unique
 * among every promotion ever made), soft delete, the back office's list, and what the publisher
 * needs (rows the edge lacks, the automatic promotions, the published mark).
 */
import { and, asc, eq, gt, isNull, lt, or, sql } from "drizzle-orm";
import type { PromotionInput, PromotionView } from "../contracts";
import type { Db } from "./client";
import { type PromotionDefinition, promotions } from "./schema";

type Row = typeof promotions.$inferSelect;

/** A promotion as stored: its view (without redemptions, which its object counts) and whether it was deleted. */
export type PromotionRecord = Omit<PromotionView, "redemptions"> & { deleted: boolean };

/** The body of a PUT, its code already normalized (upper case) by the caller. */
export type PromotionWrite = PromotionInput;

export type SaveOutcome =
  | { ok: true; created: boolean; promotion: PromotionRecord }
  | { ok: false; reason: "code_immutable"; code: string | null }
  | { ok: false; reason: "code_taken"; code: string; holder: string };

function toRecord(row: Row): PromotionRecord {
  const { value, target, allocation, conditions } = row.definition;
  return {
    id: row.id,
    code: row.code,
    starts_at: row.startsAt?.toISOString() ?? null,
    ends_at: row.endsAt?.toISOString() ?? null,
    value,
    target,
    allocation,
    conditions,
    usage_limit: row.usageLimit,
    combinable: row.combinable,
    priority: row.priority,
    status: row.status,
    version: row.version,
    published_version: row.publishedVersion,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    deleted: row.deletedAt !== null,
  };
}

function fieldsOf(input: PromotionWrite, now: Date) {
  const definition: PromotionDefinition = {
    value: input.value,
    target: input.target,
    allocation: input.allocation,
    conditions: input.conditions,
  };
  return {
    definition,
    startsAt: input.starts_at === null ? null : new Date(input.starts_at),
    endsAt: input.ends_at === null ? null : new Date(input.ends_at),
    usageLimit: input.usage_limit,
    combinable: input.combinable,
    priority: input.priority,
    status: input.status,
    updatedAt: now,
  };
}

/**
 * Creates or replaces promotion `id` in one transaction; every replace bumps `version` (a deleted
 * promotion is brought back: `created`, its versions continuing, so the edge takes it). The code
 * is compared as stored: a replace must keep it (or keep having none), and a new promotion may
 * not take a code any other promotion has, deleted ones included.
 *
 * The INSERT … ON CONFLICT DO NOTHING returns a row only to the transaction that inserted it; a
 * racing create of the same id waits for it and then replaces the row it now sees (locked), and a
 * conflict on the code alone finds the promotion that holds it.
 */
export async function upsertPromotion(db: Db, id: string, input: PromotionWrite): Promise<SaveOutcome> {
  return db.transaction(async (tx): Promise<SaveOutcome> => {
    const now = new Date();
    const fields = fieldsOf(input, now);
    const [inserted] = await tx
      .insert(promotions)
      .values({ id, code: input.code, ...fields, version: 1, createdAt: now })
      .onConflictDoNothing()
      .returning();
    if (inserted !== undefined) return { ok: true, created: true, promotion: toRecord(inserted) };

    const [existing] = await tx.select().from(promotions).where(eq(promotions.id, id)).for("update");
    if (existing === undefined) {
      const [holder] =
        input.code === null ? [] : await tx.select({ id: promotions.id }).from(promotions).where(eq(promotions.code, input.code));
      if (holder === undefined || input.code === null)
        throw new Error(`promotion ${id}: insert conflicted, yet neither the id nor the code exists`);
      return { ok: false, reason: "code_taken", code: input.code, holder: holder.id };
    }
    if (existing.code !== input.code) return { ok: false, reason: "code_immutable", code: existing.code };
    const [row] = await tx
      .update(promotions)
      .set({ ...fields, deletedAt: null, version: sql`${promotions.version} + 1` })
      .where(eq(promotions.id, id))
      .returning();
    if (row === undefined) throw new Error(`promotion ${id} vanished under its lock`);
    return { ok: true, created: existing.deletedAt !== null, promotion: toRecord(row) };
  });
}

/**
 * Deletes a promotion softly: it is archived (`version` + 1) and hidden from the back office; the
 * row stays, so its code stays taken. Null when there is no such promotion (or it was deleted).
 */
export async function deletePromotion(db: Db, id: string): Promise<PromotionRecord | null> {
  const now = new Date();
  const [row] = await db
    .update(promotions)
    .set({ status: "archived", deletedAt: now, updatedAt: now, version: sql`${promotions.version} + 1` })
    .where(and(eq(promotions.id, id), isNull(promotions.deletedAt)))
    .returning();
  return row ? toRecord(row) : null;
}

/** One promotion; deleted ones only when asked for. */
export async function getPromotion(db: Db, id: string, options: { deleted?: boolean } = {}): Promise<PromotionRecord | null> {
  const [row] = await db
    .select()
    .from(promotions)
    .where(and(eq(promotions.id, id), options.deleted ? undefined : isNull(promotions.deletedAt)));
  return row ? toRecord(row) : null;
}

/** Promotions that are not deleted, by id after `after`, optionally by status and code; at most `limit`. */
export async function listPromotions(
  db: Db,
  options: { limit: number; after?: string; status?: PromotionView["status"]; code?: string },
): Promise<PromotionRecord[]> {
  const rows = await db
    .select()
    .from(promotions)
    .where(
      and(
        isNull(promotions.deletedAt),
        options.status !== undefined ? eq(promotions.status, options.status) : undefined,
        options.code !== undefined ? eq(promotions.code, options.code) : undefined,
        options.after !== undefined ? gt(promotions.id, options.after) : undefined,
      ),
    )
    .orderBy(asc(promotions.id))
    .limit(options.limit);
  return rows.map(toRecord);
}

/** Promotions (deleted ones included) whose latest version the edge was not confirmed to have, by id. */
export async function unpublishedPromotions(db: Db, limit: number): Promise<PromotionRecord[]> {
  const rows = await db
    .select()
    .from(promotions)
    .where(lt(promotions.publishedVersion, promotions.version))
    .orderBy(asc(promotions.id))
    .limit(limit);
  return rows.map(toRecord);
}

/**
 * The automatic promotions carts may apply at or after `now`: no code, not deleted, active, not
 * ended (scheduled ones included), by id.
 */
export async function automaticPromotionRecords(db: Db, now: Date): Promise<PromotionRecord[]> {
  const rows = await db
    .select()
    .from(promotions)
    .where(
      and(
        isNull(promotions.code),
        isNull(promotions.deletedAt),
        eq(promotions.status, "active"),
        or(isNull(promotions.endsAt), gt(promotions.endsAt, now)),
      ),
    )
    .orderBy(asc(promotions.id));
  return rows.map(toRecord);
}

/** Records that the edge has `version` of promotion `id` (never moving the mark back, nor past the row's version). */
export async function markPromotionPublished(db: Db, id: string, version: number): Promise<void> {
  await db
    .update(promotions)
    .set({ publishedVersion: sql`GREATEST(${promotions.publishedVersion}, LEAST(${promotions.version}, ${version}::integer))` })
    .where(and(eq(promotions.id, id), lt(promotions.publishedVersion, version)));
}
