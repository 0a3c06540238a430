/**
 * Outgoing webhooks in Postgres: endpoints, the events sent and their deliveries (one per event
 * and endpoint), every attempt, and the per-SKU stock alert state. Queries only; the rules come
 * in as parameters (sync/webhooks.ts passes them from domain/webhooks.ts).
 */
import { and, asc, desc, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type {
  InventoryLevelV1,
  WebhookAttempt,
  WebhookDeliveryStatus,
  WebhookEndpoint,
  WebhookEventPayload,
  WebhookEventType,
} from "../contracts";
import type { Db } from "./client";
import { stockAlerts, webhookAttempts, webhookDeliveries, webhookEndpoints, webhookEvents } from "./schema";

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

/** A SKU's alert state as stored (state null: no report seen yet). */
export interface StockAlertRow {
  sku: string;
  low_threshold: number | null;
  state: string | null;
  ledger_seq: number;
}

/** What the fan-out decides for one level report: the SKU's new state and the events it emits. */
export type StockDecision = (row: StockAlertRow, report: InventoryLevelV1) => { state: string; events: WebhookEventPayload[] };

/**
 * Fans events out, in one transaction: level reports first move each SKU's alert state (in ledger
 * order, under a row lock; a report not newer than the stored position changes nothing) and add
 * the events `decide` says they emit; then every event wanted by at least one endpoint is stored
 * with a delivery per such endpoint. Stored twice, nothing changes. Returns the deliveries of
 * these events whose first message is still owed (never queued), and any older ones still owed,
 * to send now.
 */
export async function fanOut(
  db: Db,
  input: {
    events: WebhookEventPayload[];
    reports: InventoryLevelV1[];
    decide: StockDecision;
    wants: (type: WebhookEventType) => string[];
    newDeliveryId: () => string;
  },
): Promise<{ deliveries: string[]; events: WebhookEventPayload[] }> {
  return db.transaction(async (tx) => {
    const events = [...input.events];
    const reports = [...input.reports].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : a.ledger_seq - b.ledger_seq));
    if (reports.length > 0) {
      const skus = [...new Set(reports.map((r) => r.sku))];
      await tx
        .insert(stockAlerts)
        .values(skus.map((sku) => ({ sku })))
        .onConflictDoNothing();
      const locked = await tx.select().from(stockAlerts).where(inArray(stockAlerts.sku, skus)).orderBy(asc(stockAlerts.sku)).for("update");
      const rows = new Map(
        locked.map((row) => [row.sku, { sku: row.sku, low_threshold: row.lowThreshold, state: row.state, ledger_seq: row.ledgerSeq }]),
      );
      const changed = new Set<string>();
      for (const report of reports) {
        const row = rows.get(report.sku)!;
        if (report.ledger_seq <= row.ledger_seq) continue;
        const decision = input.decide(row, report);
        events.push(...decision.events);
        rows.set(report.sku, { ...row, state: decision.state, ledger_seq: report.ledger_seq });
        changed.add(report.sku);
      }
      for (const sku of changed) {
        const row = rows.get(sku)!;
        await tx
          .update(stockAlerts)
          .set({ state: row.state, ledgerSeq: row.ledger_seq, updatedAt: new Date() })
          .where(eq(stockAlerts.sku, sku));
      }
    }
    const wanted = events.map((event) => ({ event, endpoints: input.wants(event.type) })).filter((e) => e.endpoints.length > 0);
    // Deliveries an earlier fan-out stored but never queued (it died in between; a stock event's
    // report is not fanned out twice, so nothing else would find them), a minute on.
    const stragglers = await tx
      .select({ id: webhookDeliveries.id })
      .from(webhookDeliveries)
      .where(
        and(
          isNull(webhookDeliveries.queuedAt),
          eq(webhookDeliveries.status, "pending"),
          lt(webhookDeliveries.createdAt, sql`now() - interval '1 minute'`),
        ),
      )
      .limit(100);
    if (wanted.length === 0) return { deliveries: stragglers.map((row) => row.id), events };
    await tx
      .insert(webhookEvents)
      .values(
        wanted.map(({ event }) => ({
          id: event.id,
          type: event.type,
          payload: sql`${JSON.stringify(event)}::jsonb`,
          createdAt: new Date(event.timestamp),
        })),
      )
      .onConflictDoNothing();
    await tx
      .insert(webhookDeliveries)
      .values(
        wanted.flatMap(({ event, endpoints }) =>
          endpoints.map((endpointId) => ({ id: input.newDeliveryId(), eventId: event.id, endpointId })),
        ),
      )
      .onConflictDoNothing();
    const owed = await tx
      .select({ id: webhookDeliveries.id })
      .from(webhookDeliveries)
      .where(
        and(
          inArray(
            webhookDeliveries.eventId,
            wanted.map(({ event }) => event.id),
          ),
          isNull(webhookDeliveries.queuedAt),
          eq(webhookDeliveries.status, "pending"),
        ),
      );
    return { deliveries: [...new Set([...owed, ...stragglers].map((row) => row.id))], events };
  });
}

/** Notes that the deliveries' first messages are queued. */
export async function markQueued(db: Db, ids: readonly string[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(webhookDeliveries)
    .set({ queuedAt: now })
    .where(and(inArray(webhookDeliveries.id, [...ids]), isNull(webhookDeliveries.queuedAt)));
}

/** A delivery claimed for one attempt, with what the attempt needs. */
export interface ClaimedDelivery {
  id: string;
  attempts: number;
  event: { id: string; type: WebhookEventType; payload: unknown };
  endpoint: { id: string; url: string; secret: string; enabled: boolean } | null;
}

/**
 * Claims a pending delivery for one attempt: it is leased until `leaseUntil`, so a duplicate
 * message waits instead of sending at the same time. Otherwise: `done` (delivered, failed or
 * dead: nothing to send), `busy` (another attempt holds it) or `missing` (deleted with its endpoint).
 */
export async function claimDelivery(
  db: Db,
  id: string,
  now: Date,
  leaseUntil: Date,
): Promise<{ kind: "claimed"; delivery: ClaimedDelivery } | { kind: "done" | "busy" | "missing" }> {
  const [claimed] = await db
    .update(webhookDeliveries)
    .set({ leaseUntil })
    .where(
      and(
        eq(webhookDeliveries.id, id),
        eq(webhookDeliveries.status, "pending"),
        or(isNull(webhookDeliveries.leaseUntil), lt(webhookDeliveries.leaseUntil, now)),
      ),
    )
    .returning();
  if (!claimed) {
    const [row] = await db.select({ status: webhookDeliveries.status }).from(webhookDeliveries).where(eq(webhookDeliveries.id, id));
    if (!row) return { kind: "missing" };
    return { kind: row.status === "pending" ? "busy" : "done" };
  }
  const [event] = await db.select().from(webhookEvents).where(eq(webhookEvents.id, claimed.eventId));
  const [endpoint] = await db
    .select({ id: webhookEndpoints.id, url: webhookEndpoints.url, secret: webhookEndpoints.secret, enabled: webhookEndpoints.enabled })
    .from(webhookEndpoints)
    .where(eq(webhookEndpoints.id, claimed.endpointId));
  return {
    kind: "claimed",
    delivery: {
      id: claimed.id,
      attempts: claimed.attempts,
      event: { id: event!.id, type: event!.type as WebhookEventType, payload: event!.payload },
      endpoint: endpoint ?? null,
    },
  };
}

/** Records an attempt and moves its delivery on (delivered, failed, dead, or pending with its next retry), releasing the lease. */
export async function recordAttempt(
  db: Db,
  attempt: {
    id: string;
    deliveryId: string;
    endpointId: string;
    eventId: string;
    eventType: string;
    attempt: number;
    statusCode: number | null;
    latencyMs: number;
    error: string | null;
    nextRetryAt: Date | null;
    attemptedAt: Date;
  },
  status: WebhookDeliveryStatus,
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.insert(webhookAttempts).values(attempt);
    await tx
      .update(webhookDeliveries)
      .set({
        status,
        attempts: sql`${webhookDeliveries.attempts} + 1`,
        leaseUntil: null,
        nextRetryAt: attempt.nextRetryAt,
        ...(status === "delivered" ? { deliveredAt: attempt.attemptedAt } : {}),
      })
      .where(eq(webhookDeliveries.id, attempt.deliveryId));
  });
}

/** Marks a still pending delivery dead without an attempt (Queues gave up on its message). */
export async function markDeliveryDead(db: Db, id: string): Promise<void> {
  await db
    .update(webhookDeliveries)
    .set({ status: "dead", leaseUntil: null, nextRetryAt: null })
    .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.status, "pending")));
}

/** Puts a delivery back to pending with a fresh schedule (attempt 1 next), for a redelivery; its event id, or null when unknown. */
export async function restartDelivery(db: Db, id: string): Promise<{ eventId: string } | null> {
  const [row] = await db
    .update(webhookDeliveries)
    .set({ status: "pending", attempts: 0, leaseUntil: null, nextRetryAt: null })
    .where(eq(webhookDeliveries.id, id))
    .returning({ eventId: webhookDeliveries.eventId });
  return row ?? null;
}

/** Attempts newest first (attempted_at, then id), of one endpoint or all, after `after`. */
export async function listAttempts(
  db: Db,
  options: { endpointId?: string | undefined; limit: number; after?: Position },
): Promise<WebhookAttempt[]> {
  const { after } = options;
  const rows = await db
    .select({ attempt: webhookAttempts, deliveryStatus: webhookDeliveries.status })
    .from(webhookAttempts)
    .innerJoin(webhookDeliveries, eq(webhookDeliveries.id, webhookAttempts.deliveryId))
    .where(
      and(
        options.endpointId === undefined ? undefined : eq(webhookAttempts.endpointId, options.endpointId),
        after === undefined
          ? undefined
          : or(
              lt(webhookAttempts.attemptedAt, new Date(after.at)),
              and(eq(webhookAttempts.attemptedAt, new Date(after.at)), lt(webhookAttempts.id, after.id)),
            ),
      ),
    )
    .orderBy(desc(webhookAttempts.attemptedAt), desc(webhookAttempts.id))
    .limit(options.limit);
  return rows.map(({ attempt: a, deliveryStatus }) => ({
    id: a.id,
    delivery_id: a.deliveryId,
    endpoint_id: a.endpointId,
    event_id: a.eventId,
    event_type: a.eventType as WebhookEventType,
    attempt: a.attempt,
    status_code: a.statusCode,
    latency_ms: a.latencyMs,
    error: a.error,
    next_retry_at: a.nextRetryAt?.toISOString() ?? null,
    attempted_at: a.attemptedAt.toISOString(),
    delivery_status: deliveryStatus as WebhookDeliveryStatus,
  }));
}

/** A SKU's alert row, or null when none exists yet. */
export async function getStockAlert(db: Db, sku: string): Promise<StockAlertRow | null> {
  const [row] = await db.select().from(stockAlerts).where(eq(stockAlerts.sku, sku));
  return row ? { sku: row.sku, low_threshold: row.lowThreshold, state: row.state, ledger_seq: row.ledgerSeq } : null;
}

/** Sets (or clears, with null) a SKU's own low-stock threshold. */
export async function setStockThreshold(db: Db, sku: string, threshold: number | null): Promise<StockAlertRow> {
  const [row] = await db
    .insert(stockAlerts)
    .values({ sku, lowThreshold: threshold })
    .onConflictDoUpdate({ target: stockAlerts.sku, set: { lowThreshold: threshold, updatedAt: new Date() } })
    .returning();
  return { sku: row!.sku, low_threshold: row!.lowThreshold, state: row!.state, ledger_seq: row!.ledgerSeq };
}
