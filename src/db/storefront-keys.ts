/**
 * Storefront keys in Postgres: the record of every key issued (hash only) and its revocation.
 */
import { and, desc, eq, isNull, lt, or, sql } from "drizzle-orm";
import type { StorefrontKey } from "../contracts";
import type { Db } from "./client";
import { storefrontKeys } from "./schema";

type Row = typeof storefrontKeys.$inferSelect;

/** A listed key's place, for keyset pagination (newest first). */
export interface KeyPosition {
  created_at: string;
  id: string;
}

function toKey(row: Row): StorefrontKey {
  return { id: row.id, name: row.name, created_at: row.createdAt.toISOString(), revoked_at: row.revokedAt?.toISOString() ?? null };
}

/** Records a new key by its hash. `createdAt` has millisecond precision, so a cursor is exact. */
export async function insertStorefrontKey(
  db: Db,
  key: { id: string; name: string; keyHash: string; createdAt: Date },
): Promise<StorefrontKey> {
  const [row] = await db.insert(storefrontKeys).values(key).returning();
  return toKey(row!);
}

/** Keys newest first (created_at, then id), after `after`; revoked ones included. */
export async function listStorefrontKeys(db: Db, options: { limit: number; after?: KeyPosition }): Promise<StorefrontKey[]> {
  const { after } = options;
  const rows = await db
    .select()
    .from(storefrontKeys)
    .where(
      after === undefined
        ? undefined
        : or(
            lt(storefrontKeys.createdAt, new Date(after.created_at)),
            and(eq(storefrontKeys.createdAt, new Date(after.created_at)), lt(storefrontKeys.id, after.id)),
          ),
    )
    .orderBy(desc(storefrontKeys.createdAt), desc(storefrontKeys.id))
    .limit(options.limit);
  return rows.map(toKey);
}

/**
 * Marks a key revoked (keeping the first revocation time) and returns its hash, so its KV entry
 * can be deleted; null for an unknown id. Revoking twice is allowed: it lets a revocation whose
 * KV delete failed be completed.
 */
export async function revokeStorefrontKey(db: Db, id: string, now: Date): Promise<{ keyHash: string } | null> {
  const [row] = await db
    .update(storefrontKeys)
    .set({ revokedAt: sql`coalesce(${storefrontKeys.revokedAt}, ${now.toISOString()}::timestamptz)` })
    .where(eq(storefrontKeys.id, id))
    .returning({ keyHash: storefrontKeys.keyHash });
  return row ?? null;
}

/** Revokes a key only if it is still live (a publish that failed takes back its own key). */
export async function revokeUnpublished(db: Db, id: string, now: Date): Promise<void> {
  await db
    .update(storefrontKeys)
    .set({ revokedAt: now })
    .where(and(eq(storefrontKeys.id, id), isNull(storefrontKeys.revokedAt)));
}
