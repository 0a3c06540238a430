/**
 * Queue consumers. `edgecart-orders` archives paid orders into Postgres exactly once under
 * at-least-once delivery: one transaction per batch, idempotent by order id, acked per message.
 * Poison messages go to `edgecart-orders-dlq`, whose consumer records them in `dead_letters`.
 */
import { InventoryLevelV1, OrderArchivedV1 } from "./contracts";
import { withDb } from "./db/client";
import { upsertLevels } from "./db/inventory";
import { archiveOrders, recordDeadLetter } from "./db/orders";
import { errorFields, log } from "./http/log";

export const ORDERS_QUEUE = "edgecart-orders";
export const ORDERS_DLQ = "edgecart-orders-dlq";
export const INVENTORY_QUEUE = "edgecart-inventory";

/** Retry delay for a transient failure: 2 s doubling with each attempt, at most 5 minutes. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(2 * 2 ** Math.max(0, attempts - 1), 300);
}

/**
 * Whether a database error is worth retrying: connection trouble and Postgres classes 08
 * (connection), 40 (rollback: serialization, deadlock), 53 (resources), 57 (operator
 * intervention). Data errors (22, 23) would fail the same way again.
 */
export function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code ?? (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  if (typeof code !== "string" || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return ["08", "40", "53", "57", "58"].includes(code.slice(0, 2));
}

type Parsed = { message: Message; order: OrderArchivedV1 };

/** Consumes a batch of archival messages. */
export async function consumeOrders(batch: MessageBatch, env: Env): Promise<void> {
  const valid: Parsed[] = [];
  for (const message of batch.messages) {
    const parsed = OrderArchivedV1.safeParse(message.body);
    if (parsed.success) valid.push({ message, order: parsed.data });
    else await deadLetter(env, message, `invalid message: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  if (valid.length === 0) return;
  try {
    const fresh = await withDb(env, (db) => archiveOrders(db, valid.map((v) => v.order)));
    for (const { message } of valid) message.ack();
    log("info", "orders archived", { batch: valid.length, new: fresh });
  } catch (error) {
    if (isTransient(error)) {
      log("warn", "order archival failed; retrying the batch", { batch: valid.length, ...errorFields(error) });
      for (const { message } of valid) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      return;
    }
    // A data error: archive one by one so a single bad order cannot hold the rest back.
    for (const item of valid) await archiveOne(env, item);
  }
}

async function archiveOne(env: Env, { message, order }: Parsed): Promise<void> {
  try {
    await withDb(env, (db) => archiveOrders(db, [order]));
    message.ack();
  } catch (error) {
    if (isTransient(error)) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    else await deadLetter(env, message, error instanceof Error ? error.message : String(error));
  }
}

/** Sends a poison message to the dead-letter queue and acks it here. */
async function deadLetter(env: Env, message: Message, reason: string): Promise<void> {
  log("error", "poison order message dead-lettered", { message_id: message.id, reason });
  try {
    await env.ORDERS_DLQ.send(message.body, { contentType: "json" });
    message.ack();
  } catch (error) {
    log("error", "dead-letter send failed; retrying", { message_id: message.id, ...errorFields(error) });
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  }
}

/** Records dead-lettered messages in Postgres (`dead_letters`) for inspection and replay. */
export async function consumeDeadLetters(batch: MessageBatch, env: Env): Promise<void> {
  try {
    await withDb(env, async (db) => {
      for (const message of batch.messages) {
        const parsed = OrderArchivedV1.safeParse(message.body);
        await recordDeadLetter(db, {
          queue: ORDERS_QUEUE,
          messageId: message.id,
          body: message.body,
          error: parsed.success ? "failed after every retry" : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
          attempts: message.attempts,
        });
      }
    });
    batch.ackAll();
  } catch (error) {
    log("error", "recording dead letters failed; retrying", errorFields(error));
    batch.retryAll({ delaySeconds: 30 });
  }
}

/**
 * Writes reported stock levels to Postgres. Reports are state (newest ledger position wins), so
 * redelivery is harmless and an invalid report is dropped: the next change or the
 * reconciliation cron reports the SKU again.
 */
export async function consumeInventoryLevels(batch: MessageBatch, env: Env): Promise<void> {
  const reports: InventoryLevelV1[] = [];
  for (const message of batch.messages) {
    const parsed = InventoryLevelV1.safeParse(message.body);
    if (parsed.success) reports.push(parsed.data);
    else log("error", "invalid inventory level report dropped", { message_id: message.id });
  }
  try {
    await withDb(env, (db) => upsertLevels(db, reports));
    batch.ackAll();
  } catch (error) {
    log("warn", "inventory level upsert failed; retrying", errorFields(error));
    for (const message of batch.messages) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  }
}
