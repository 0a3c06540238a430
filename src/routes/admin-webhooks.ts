/**
 * Back office: outgoing webhook endpoints and their deliveries (docs/api.md "Outgoing webhooks").
 * Create an endpoint (its signing secret shown once), list, read, replace (enable or disable),
 * delete it; list the delivery attempts, newest first; redeliver one delivery (same webhook-id).
 */
import * as z from "zod";
import {
  CreatedWebhookEndpoint,
  RedeliveryAccepted,
  WebhookAttemptPage,
  WebhookDeliveryListQuery,
  WebhookDeliveryParams,
  WebhookEndpoint,
  WebhookEndpointBody,
  WebhookEndpointListQuery,
  WebhookEndpointPage,
  WebhookEndpointParams,
} from "../contracts";
import { withDb } from "../db/client";
import { deleteEndpoint, getEndpoint, insertEndpoint, listAttempts, listEndpoints, replaceEndpoint, restartDelivery } from "../db/webhooks";
import { checkWebhookUrl } from "../domain/webhooks";
import { decodeCursor, encodeCursor } from "../http/cursor";
import { IDEMPOTENCY_KEY_HEADER, refuseIdempotencyKey } from "../http/idempotency";
import { ApiError, notFound } from "../http/problem";
import { defineRoute, empty, json } from "../http/route";
import { forgetWebhookEndpoints, newId, webhookSettings } from "../sync/webhooks";

const NO_STORE = { "cache-control": "no-store" };

/** Cursor: the last listed item's place (its time to the millisecond, id). */
const EndpointCursor = z.strictObject({ t: z.iso.datetime({ precision: 3 }), i: z.string().regex(/^we_[0-9a-f]{32}$/) });
const AttemptCursor = z.strictObject({ t: z.iso.datetime({ precision: 3 }), i: z.string().regex(/^wha_[0-9a-f]{32}$/) });

/** The URL as it will be called, or 422 `url_not_allowed`. */
function allowedUrl(env: Env, url: string): string {
  const check = checkWebhookUrl(url, { allowLoopback: webhookSettings(env).allowLoopback });
  if (!check.ok)
    throw new ApiError(422, "url_not_allowed", `This URL cannot receive events: ${check.reason}.`, {
      errors: [{ path: "url", message: check.reason }],
    });
  return check.url;
}

/** A Standard Webhooks signing secret: `whsec_` and the base64 of 32 random bytes. */
function newSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}

const endpointErrors = {
  400: { description: "Invalid body, or an Idempotency-Key header" },
  401: { description: "Missing or wrong admin token" },
  422: {
    description: "url_not_allowed: not https, or a private, loopback, link-local or reserved host",
    problems: ["url_not_allowed" as const],
  },
};

export const createWebhookEndpoint = defineRoute({
  method: "POST",
  path: "/v1/admin/webhook-endpoints",
  operationId: "createWebhookEndpoint",
  summary: "Register an endpoint for events; its signing secret is in this answer only",
  tag: "webhooks",
  auth: "admin",
  body: WebhookEndpointBody,
  idempotency: "off",
  headers: {
    [IDEMPOTENCY_KEY_HEADER]: {
      description:
        "Not accepted here (400): the answer holds the signing secret, which is never replayed. If an answer is lost, delete that endpoint and create another.",
    },
  },
  responses: {
    201: { description: "The endpoint, with its signing `secret` (shown only here)", schema: CreatedWebhookEndpoint },
    ...endpointErrors,
  },
  async handler({ env, request, body }) {
    refuseIdempotencyKey(
      request,
      "its answer holds a signing secret that is never replayed. If an answer is lost, delete that endpoint and create another.",
    );
    const url = allowedUrl(env, body.url);
    const secret = newSecret();
    const endpoint = await withDb(env, (db) =>
      insertEndpoint(db, {
        id: newId("we_"),
        url,
        eventTypes: body.event_types,
        description: body.description ?? null,
        enabled: body.enabled,
        secret,
        now: new Date(),
      }),
    );
    forgetWebhookEndpoints();
    return json({ ...endpoint, secret }, 201, NO_STORE);
  },
});

export const listWebhookEndpoints = defineRoute({
  method: "GET",
  path: "/v1/admin/webhook-endpoints",
  operationId: "listWebhookEndpoints",
  summary: "Webhook endpoints, newest first; never a secret",
  tag: "webhooks",
  auth: "admin",
  query: WebhookEndpointListQuery,
  responses: {
    200: { description: "A page of endpoints", schema: WebhookEndpointPage },
    400: { description: "Invalid query or cursor" },
    401: { description: "Missing or wrong admin token" },
  },
  async handler({ env, query }) {
    const cursor = query.cursor === undefined ? undefined : decodeCursor(EndpointCursor, query.cursor);
    const rows = await withDb(env, (db) =>
      listEndpoints(db, { limit: query.limit + 1, ...(cursor ? { after: { at: cursor.t, id: cursor.i } } : {}) }),
    );
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    const next = rows.length > query.limit && last ? encodeCursor({ t: last.created_at, i: last.id }) : null;
    return json({ data: page, next_cursor: next }, 200, NO_STORE);
  },
});

export const getWebhookEndpoint = defineRoute({
  method: "GET",
  path: "/v1/admin/webhook-endpoints/{endpoint_id}",
  operationId: "getWebhookEndpoint",
  summary: "One webhook endpoint; never its secret",
  tag: "webhooks",
  auth: "admin",
  params: WebhookEndpointParams,
  responses: {
    200: { description: "The endpoint", schema: WebhookEndpoint },
    400: { description: "Invalid endpoint id" },
    401: { description: "Missing or wrong admin token" },
    404: { description: "No such endpoint" },
  },
  async handler({ env, params }) {
    const endpoint = await withDb(env, (db) => getEndpoint(db, params.endpoint_id));
    if (endpoint === null) throw notFound("webhook endpoint");
    return json(endpoint, 200, NO_STORE);
  },
});

export const replaceWebhookEndpoint = defineRoute({
  method: "PUT",
  path: "/v1/admin/webhook-endpoints/{endpoint_id}",
  operationId: "replaceWebhookEndpoint",
  summary: "Replace an endpoint's URL, event types, description and enabled flag (enable or disable it); the secret stays",
  tag: "webhooks",
  auth: "admin",
  params: WebhookEndpointParams,
  body: WebhookEndpointBody,
  responses: {
    200: { description: "The endpoint as it now is", schema: WebhookEndpoint },
    ...endpointErrors,
    404: { description: "No such endpoint" },
  },
  async handler({ env, params, body }) {
    const url = allowedUrl(env, body.url);
    const endpoint = await withDb(env, (db) =>
      replaceEndpoint(
        db,
        params.endpoint_id,
        { url, eventTypes: body.event_types, description: body.description ?? null, enabled: body.enabled },
        new Date(),
      ),
    );
    if (endpoint === null) throw notFound("webhook endpoint");
    forgetWebhookEndpoints();
    return json(endpoint, 200, NO_STORE);
  },
});

export const deleteWebhookEndpoint = defineRoute({
  method: "DELETE",
  path: "/v1/admin/webhook-endpoints/{endpoint_id}",
  operationId: "deleteWebhookEndpoint",
  summary: "Delete an endpoint with its deliveries; nothing more is sent to it",
  tag: "webhooks",
  auth: "admin",
  params: WebhookEndpointParams,
  responses: {
    204: { description: "Deleted" },
    400: { description: "Invalid endpoint id" },
    401: { description: "Missing or wrong admin token" },
    404: { description: "No such endpoint" },
  },
  async handler({ env, params }) {
    if (!(await withDb(env, (db) => deleteEndpoint(db, params.endpoint_id)))) throw notFound("webhook endpoint");
    forgetWebhookEndpoints();
    return empty(204);
  },
});

export const listWebhookDeliveries = defineRoute({
  method: "GET",
  path: "/v1/admin/webhook-deliveries",
  operationId: "listWebhookDeliveries",
  summary: "Delivery attempts, newest first: status code, latency, error, next retry, event id and type",
  tag: "webhooks",
  auth: "admin",
  query: WebhookDeliveryListQuery,
  responses: {
    200: { description: "A page of attempts", schema: WebhookAttemptPage },
    400: { description: "Invalid query or cursor" },
    401: { description: "Missing or wrong admin token" },
  },
  async handler({ env, query }) {
    const cursor = query.cursor === undefined ? undefined : decodeCursor(AttemptCursor, query.cursor);
    const rows = await withDb(env, (db) =>
      listAttempts(db, {
        endpointId: query.endpoint,
        limit: query.limit + 1,
        ...(cursor ? { after: { at: cursor.t, id: cursor.i } } : {}),
      }),
    );
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    const next = rows.length > query.limit && last ? encodeCursor({ t: last.attempted_at, i: last.id }) : null;
    return json({ data: page, next_cursor: next }, 200, NO_STORE);
  },
});

export const redeliverWebhook = defineRoute({
  method: "POST",
  path: "/v1/admin/webhook-deliveries/{delivery_id}/redeliver",
  operationId: "redeliverWebhook",
  summary: "Send one delivery again, with the same webhook-id, on a fresh retry schedule",
  tag: "webhooks",
  auth: "admin",
  params: WebhookDeliveryParams,
  responses: {
    202: { description: "Queued: the attempts show in the delivery list", schema: RedeliveryAccepted },
    400: { description: "Invalid delivery id" },
    401: { description: "Missing or wrong admin token" },
    404: { description: "No such delivery" },
  },
  async handler({ env, params }) {
    const restarted = await withDb(env, (db) => restartDelivery(db, params.delivery_id));
    if (restarted === null) throw notFound("webhook delivery");
    await env.WEBHOOKS_QUEUE.send({ type: "webhook.delivery", version: 1, delivery_id: params.delivery_id }, { contentType: "json" });
    return json({ delivery_id: params.delivery_id, event_id: restarted.eventId, status: "pending" }, 202, NO_STORE);
  },
});
