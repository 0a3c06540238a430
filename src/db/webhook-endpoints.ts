/**
 * Webhook endpoints in Postgres: where the merchant wants events (the admin API's reads and
 * writes) and what the fan-out needs of the enabled ones. Queries only.
 */
import { and, desc, eq, lt, or } from "drizzle-orm";
import type { WebhookEndpoint, WebhookEventType } from "../contracts";
import type { Db } from "./client";
import { webhookEndpoints } from "./schema";

type EndpointRow = typeof webhookEndpoints.$inferSelect;

function toEndpoint(row: EndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    url: row.url,
    event_types: row.eventTypes as WebhookEventType[],
    description: row.description,
    enabled: row.enabled,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/** A listed item's place, for keyset pagination (newest first). */
export interface Position {
  at: string;
  id: string;
}

export async function insertEndpoint(
  db: Db,
  endpoint: { id: string; url: string; eventTypes: string[]; description: string | null; enabled: boolean; secret: string; now: Date },
): Promise<WebhookEndpoint> {
  const { now, ...values } = endpoint;
  const [row] = await db
    .insert(webhookEndpoints)
    .values({ ...values, createdAt: now, updatedAt: now })
    .returning();
  return toEndpoint(row!);
}

export async function getEndpoint(db: Db, id: string): Promise<WebhookEndpoint | null> {
  const [row] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
  return row ? toEndpoint(row) : null;
}

/** Endpoints newest first (created_at, then id), after `after`. */
export async function listEndpoints(db: Db, options: { limit: number; after?: Position }): Promise<WebhookEndpoint[]> {
  const { after } = options;
  const rows = await db
    .select()
    .from(webhookEndpoints)
    .where(
      after === undefined
        ? undefined
        : or(
            lt(webhookEndpoints.createdAt, new Date(after.at)),
            and(eq(webhookEndpoints.createdAt, new Date(after.at)), lt(webhookEndpoints.id, after.id)),
          ),
    )
    .orderBy(desc(webhookEndpoints.createdAt), desc(webhookEndpoints.id))
    .limit(options.limit);
  return rows.map(toEndpoint);
}

/** Replaces an endpoint's URL, types, description and enabled flag (never its secret); null when unknown. */
export async function replaceEndpoint(
  db: Db,
  id: string,
  values: { url: string; eventTypes: string[]; description: string | null; enabled: boolean },
  now: Date,
): Promise<WebhookEndpoint | null> {
  const [row] = await db
    .update(webhookEndpoints)
    .set({ ...values, updatedAt: now })
    .where(eq(webhookEndpoints.id, id))
    .returning();
  return row ? toEndpoint(row) : null;
}

/** Deletes an endpoint with its deliveries and attempts; false when unknown. */
export async function deleteEndpoint(db: Db, id: string): Promise<boolean> {
  const rows = await db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id)).returning({ id: webhookEndpoints.id });
  return rows.length > 0;
}

/** What the fan-out needs of every enabled endpoint. */
export interface EndpointRef {
  id: string;
  event_types: string[];
  enabled: boolean;
}

export async function enabledEndpoints(db: Db): Promise<EndpointRef[]> {
  const rows = await db
    .select({ id: webhookEndpoints.id, eventTypes: webhookEndpoints.eventTypes })
    .from(webhookEndpoints)
    .where(eq(webhookEndpoints.enabled, true));
  return rows.map((row) => ({ id: row.id, event_types: row.eventTypes, enabled: true }));
}
