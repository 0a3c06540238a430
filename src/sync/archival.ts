/**
 * How a paid order reaches Postgres. The cart object marks the order paid and writes its
 * archival message (domain/order.ts `archivalMessage`) to its outbox in one transaction; it
 * sends the outbox to the queue `edgecart-orders` and its alarm retries until sent
 * (objects/order-desk.ts). This consumer writes each batch into Postgres (db/orders.ts) exactly
 * once under at-least-once delivery: one transaction per batch, idempotent by order id, acked per
 * message. Poison messages go to `edgecart-orders-dlq` (sync/dead-letters.ts).
 */
import { OrderArchivedV1 } from "../contracts";
import { withDb } from "../db/client";
import { archiveOrders } from "../db/orders";
import { backoffMs } from "../platform/backoff";
import { errorFields, log } from "../platform/log";

/** Queue redelivery of a transient failure: 2 s doubling with each attempt, at most 5 minutes. */
export const QUEUE_RETRY_BACKOFF = { baseMs: 2000, capMs: 300_000 };

/** Delay in seconds before redelivery number `attempts` of a message that failed transiently. */
export function retryDelaySeconds(attempts: number): number {
  return backoffMs(attempts, QUEUE_RETRY_BACKOFF.baseMs, QUEUE_RETRY_BACKOFF.capMs) / 1000;
}

/**
 * Whether a database error is worth retrying: connection trouble and Postgres classes 08
 * (connection), 40 (rollback: serialization, deadlock), 53 (resources), 57 (operator
 * intervention), 58 (system). Data errors (22, 23) would fail the same way again.
 */
export function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code ?? (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  if (typeof code !== "string" || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return ["08", "40", "53", "57", "58"].includes(code.slice(0, 2));
}

/** The issues of a failed parse, as one line for logs and dead letters. */
export function describeIssues(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  return issues.map((i) => `${i.path.map(String).join(".")}: ${i.message}`).join("; ");
}

type Parsed = { message: Message; order: OrderArchivedV1 };

/** Consumes a batch of archival messages. */
export async function consumeOrders(batch: MessageBatch, env: Env): Promise<void> {
  const valid: Parsed[] = [];
  for (const message of batch.messages) {
    const parsed = OrderArchivedV1.safeParse(message.body);
    if (parsed.success) valid.push({ message, order: parsed.data });
    else await deadLetter(env, message, `invalid message: ${describeIssues(parsed.error.issues)}`);
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
