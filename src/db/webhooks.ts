/**
 * Outgoing webhooks in Postgres: endpoints (db/webhook-endpoints.ts), the events sent and their
 * deliveries (one per event and endpoint) with every attempt (db/webhook-deliveries.ts), and the
 * per-SKU stock alert state (db/stock-alerts.ts); this module is the fan-out that stores them
 * together, and re-exports the rest. Queries only; the rules come in as parameters
 * (sync/webhooks.ts and its modules pass them from domain/webhooks.ts).
 */
import { and, asc, eq, inArray, isNull, lt, sql } from "drizzle-orm";
import type { InventoryLevelV1, WebhookEventPayload, WebhookEventType } from "../contracts";
import type { Db } from "./client";
import { stockAlerts, webhookDeliveries, webhookEvents } from "./schema";
import type { StockDecision } from "./stock-alerts";

export { getStockAlert, type StockAlertRow, type StockDecision, setStockThreshold } from "./stock-alerts";
export {
  type ClaimedDelivery,
  claimDelivery,
  listAttempts,
  markDeliveryDead,
  markQueued,
  recordAttempt,
  restartDelivery,
} from "./webhook-deliveries";
export {
  deleteEndpoint,
  type EndpointRef,
  enabledEndpoints,
  getEndpoint,
  insertEndpoint,
  listEndpoints,
  type Position,
  replaceEndpoint,
} from "./webhook-endpoints";

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
