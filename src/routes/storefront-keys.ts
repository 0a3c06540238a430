/**
 * Back office: storefront keys for server-side storefronts (docs/api.md "Server-side
 * storefronts"). Issue one (its secret shown once), list them (never a secret), revoke one.
 */
import * as z from "zod";
import { CreateStorefrontKeyBody, IssuedStorefrontKey, StorefrontKeyListQuery, StorefrontKeyPage, StorefrontKeyParams } from "../contracts";
import { withDb } from "../db/client";
import { listStorefrontKeys } from "../db/storefront-keys";
import { decodeCursor, encodeCursor } from "../http/cursor";
import { IDEMPOTENCY_KEY_HEADER, refuseIdempotencyKey } from "../http/idempotency";
import { notFound } from "../http/problem";
import { defineRoute, empty, json } from "../http/route";
import { issueStorefrontKey, revokeStorefrontKeyEverywhere } from "../sync/storefront-keys";

const NO_STORE = { "cache-control": "no-store" };

/** Cursor: the last listed key's place (`created_at` to the millisecond, id). */
const Cursor = z.strictObject({
  t: z.iso.datetime({ precision: 3 }),
  i: z.string().regex(/^sfk_[0-9a-f]{32}$/),
});

export const createStorefrontKey = defineRoute({
  method: "POST",
  path: "/v1/admin/storefront-keys",
  operationId: "createStorefrontKey",
  database: true,
  summary: "Issue a storefront key for a server-side storefront; the key is in this answer only",
  tag: "admin",
  auth: "admin",
  body: CreateStorefrontKeyBody,
  idempotency: "off",
  headers: {
    [IDEMPOTENCY_KEY_HEADER]: {
      description:
        "Not accepted here (400): the answer holds the key, which is never stored. If an answer is lost, revoke that key (by name) and issue another.",
    },
  },
  responses: {
    201: { description: "The new key, with its secret `key` (shown only here)", schema: IssuedStorefrontKey },
    400: { description: "Invalid body, or an Idempotency-Key header" },
    401: { description: "Missing or wrong admin token" },
  },
  async handler({ env, request, body }) {
    refuseIdempotencyKey(
      request,
      "its answer holds a secret that is never stored. If an answer is lost, revoke that key and issue another.",
    );
    return json(await issueStorefrontKey(env, body.name), 201, NO_STORE);
  },
});

export const listStorefrontKeysRoute = defineRoute({
  method: "GET",
  path: "/v1/admin/storefront-keys",
  operationId: "listStorefrontKeys",
  database: true,
  summary: "Storefront keys, newest first, revoked ones included; never a secret",
  tag: "admin",
  auth: "admin",
  query: StorefrontKeyListQuery,
  responses: {
    200: { description: "A page of keys", schema: StorefrontKeyPage },
    400: { description: "Invalid query or cursor" },
    401: { description: "Missing or wrong admin token" },
  },
  async handler({ env, query }) {
    const cursor = query.cursor === undefined ? undefined : decodeCursor(Cursor, query.cursor);
    const after = cursor === undefined ? undefined : { created_at: cursor.t, id: cursor.i };
    const rows = await withDb(env, (db) => listStorefrontKeys(db, { limit: query.limit + 1, after }));
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    const next = rows.length > query.limit && last ? encodeCursor({ t: last.created_at, i: last.id }) : null;
    return json({ data: page, next_cursor: next }, 200, NO_STORE);
  },
});

export const revokeStorefrontKey = defineRoute({
  method: "DELETE",
  path: "/v1/admin/storefront-keys/{key_id}",
  operationId: "revokeStorefrontKey",
  database: true,
  summary: "Revoke a storefront key: the edge stops accepting it within about a minute",
  tag: "admin",
  auth: "admin",
  params: StorefrontKeyParams,
  responses: {
    204: { description: "Revoked (or already revoked)" },
    400: { description: "Invalid key id" },
    401: { description: "Missing or wrong admin token" },
    404: { description: "No such key" },
  },
  async handler({ env, params }) {
    if (!(await revokeStorefrontKeyEverywhere(env, params.key_id))) throw notFound("storefront key");
    return empty(204);
  },
});
