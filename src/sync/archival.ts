/**
 * How a paid order reaches Postgres, end to end:
 * 1. The cart object settles the order (paid, or unfulfillable) and writes its archival message
 *    (domain/order.ts `archivalMessage`) to its outbox in the same transaction
 *    (objects/order-store.ts `settle`); a refund due goes the same way.
 * 2. It sends the message to the queue `edgecart-orders` (objects/order-desk.ts `drainOutbox`).
 * 3. This consumer writes each batch into Postgres (db/orders.ts, db/refunds.ts) exactly once
 *    under at-least-once delivery: idempotent by order id (and payment id), acked per message.
 * 4. Once Postgres committed, the consumer confirms each message to its cart object
 *    (`confirmDelivered`). Until a message is confirmed, the cart object's alarm sends it again,
 *    with backoff and without any limit on how long Postgres may be away; queue retries and dead
 *    letters may run out meanwhile, nothing is lost.
 * Poison messages go to `edgecart-orders-dlq` (sync/dead-letters.ts).
 */
import * as z from "zod";
import { OrderArchivedV1, RefundDueV1 } from "../contracts";
import { withDb } from "../db/client";
import { archiveOrders } from "../db/orders";
import { recordRefunds } from "../db/refunds";
import { cartIdOf } from "../domain/order";
import { cartStub } from "../objects/stubs";
import { backoffMs } from "../platform/backoff";
import { errorFields, log } from "../platform/log";

/** Every message the archival queue carries. */
export const ArchivalMessage = z.discriminatedUnion("type", [OrderArchivedV1, RefundDueV1]);
export type ArchivalMessage = z.infer<typeof ArchivalMessage>;

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

type Parsed = { message: Message; body: ArchivalMessage };

/** Writes the messages into Postgres (orders and refunds); already written ones change nothing. */
async function write(env: Env, items: readonly Parsed[]): Promise<number> {
  const orders = items.flatMap(({ body }) => (body.type === "order.paid" ? [body] : []));
  const refunds = items.flatMap(({ body }) => (body.type === "payment.refund_due" ? [body] : []));
  return withDb(env, async (db) => (await archiveOrders(db, orders)) + (await recordRefunds(db, refunds)));
}

/** The outbox key of a message in its cart object, and the cart it came from. */
function receipt(body: ArchivalMessage): { cartId: string | null; key: string } {
  return body.type === "order.paid"
    ? { cartId: cartIdOf(body.order.id), key: "archive" }
    : { cartId: cartIdOf(body.refund.order_id), key: `refund:${body.refund.payment_id}` };
}

/**
 * Tells each message's cart object that Postgres has it. A failed confirmation is only logged: the
 * cart object sends the message again later, and that delivery confirms it.
 */
async function confirm(env: Env, items: readonly Parsed[]): Promise<void> {
  await Promise.all(
    items.map(async ({ body }) => {
      const { cartId, key } = receipt(body);
      const stub = cartId === null ? null : cartStub(env, cartId);
      try {
        await stub?.confirmDelivered(key);
      } catch (error) {
        log("warn", "archival confirmation failed; the cart object will send again", { cart_id: cartId, key, ...errorFields(error) });
      }
    }),
  );
}

/** Consumes a batch of archival messages (paid orders and refunds due). */
export async function consumeOrders(batch: MessageBatch, env: Env): Promise<void> {
  const valid: Parsed[] = [];
  for (const message of batch.messages) {
    const parsed = ArchivalMessage.safeParse(message.body);
    if (parsed.success) valid.push({ message, body: parsed.data });
    else await deadLetter(env, message, `invalid message: ${describeIssues(parsed.error.issues)}`);
  }
  if (valid.length === 0) return;
  try {
    const fresh = await write(env, valid);
    for (const { message } of valid) message.ack();
    log("info", "orders archived", { batch: valid.length, new: fresh });
    await confirm(env, valid);
  } catch (error) {
    if (isTransient(error)) {
      log("warn", "order archival failed; retrying the batch", { batch: valid.length, ...errorFields(error) });
      for (const { message } of valid) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      return;
    }
    // A data error: archive one by one so a single bad message cannot hold the rest back.
    for (const item of valid) await archiveOne(env, item);
  }
}

async function archiveOne(env: Env, item: Parsed): Promise<void> {
  const { message } = item;
  try {
    await write(env, [item]);
    message.ack();
    await confirm(env, [item]);
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
