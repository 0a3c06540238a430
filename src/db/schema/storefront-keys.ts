/** Postgres schema: the storefront keys the back office issues. Re-exported by db/schema.ts. */
import { index, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

/**
 * Storefront keys: secrets the back office issues to server-side storefronts, which then pass
 * each shopper's IP for the per-IP limits (docs/api.md "Server-side storefronts"). Only the hex
 * SHA-256 of a key is stored, never the key; the live ones are published to KV (STOREFRONT_KEYS)
 * by that hash. A revoked key keeps its row (`revoked_at`) for the record.
 */
export const storefrontKeys = pgTable(
  "storefront_keys",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    keyHash: text("key_hash").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    uniqueIndex("storefront_keys_key_hash_idx").on(t.keyHash),
    // The back-office list: newest first with an id tiebreak, keyset-paginated.
    index("storefront_keys_created_at_id_idx").on(t.createdAt, t.id),
  ],
);
