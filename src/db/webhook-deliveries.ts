/**
 * Webhook deliveries and attempts in Postgres: queueing notes, the lease an attempt takes, every
 * attempt recorded with the delivery's new state, dead deliveries, redeliveries, and the attempts
 * list of the admin API. Queries only; statuses and retry times come in as parameters
 * (sync/webhook-delivery.ts decides them).
 */
import { and, desc, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type { WebhookAttempt, WebhookDeliveryStatus, WebhookEventType } from "../contracts";
import type { Db } from "./client";
import { webhookAttempts, webhookDeliveries, webhookEndpoints, webhookEvents } from "./schema";
import type { Position } from "./webhook-endpoints";

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
