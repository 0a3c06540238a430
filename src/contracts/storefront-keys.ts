/**
 * Storefront keys (docs/api.md "Server-side storefronts"): the admin API's bodies and answers,
 * the key's form, and the KV entry the edge verifies a key with.
 */
import * as z from "zod";
import { PageQuery, Timestamp } from "./common";

/** A key's public id: `sfk_` and 32 lowercase hex characters. */
export const StorefrontKeyId = z.string().regex(/^sfk_[0-9a-f]{32}$/, "must be a storefront key id (sfk_ and 32 hex characters)");

/** The secret itself: `ecsk_` and 43 base64url characters (256 random bits). */
export const StorefrontSecret = z
  .string()
  .regex(/^ecsk_[A-Za-z0-9_-]{43}$/, "must be a storefront key (ecsk_ and 43 base64url characters)");

export const StorefrontKeyParams = z.strictObject({ key_id: StorefrontKeyId });

export const CreateStorefrontKeyBody = z.strictObject({
  name: z.string().trim().min(1).max(100).describe("What the key is for, e.g. the storefront's name (1–100 characters)"),
});

export const StorefrontKeyListQuery = z.strictObject({ ...PageQuery });

/** A key as the back office lists it: never the secret, nor its hash. */
export const StorefrontKey = z
  .object({
    id: StorefrontKeyId,
    name: z.string(),
    created_at: Timestamp,
    revoked_at: Timestamp.nullable(),
  })
  .meta({ id: "StorefrontKey" });
export type StorefrontKey = z.infer<typeof StorefrontKey>;

export const IssuedStorefrontKey = StorefrontKey.extend({
  key: StorefrontSecret.describe("The secret, shown in this answer only; the server keeps its SHA-256"),
});
export type IssuedStorefrontKey = z.infer<typeof IssuedStorefrontKey>;

export const StorefrontKeyPage = z.object({ data: z.array(StorefrontKey), next_cursor: z.string().nullable() });

/** KV (STOREFRONT_KEYS): one entry per live key, named by the key's hex SHA-256. */
export const storefrontKeyKvName = (keyHash: string) => `key:v1:${keyHash}`;
export const StorefrontKeyEntry = z.object({ id: StorefrontKeyId, name: z.string() });
export type StorefrontKeyEntry = z.infer<typeof StorefrontKeyEntry>;

/** A shopper's IP address as a storefront passes it: IPv4 dotted quad or IPv6. */
export const ShopperIp = z.union([z.ipv4(), z.ipv6()]).describe("The shopper's IP address (IPv4 or IPv6)");
