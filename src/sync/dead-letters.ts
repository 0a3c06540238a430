/**
 * Dead letters: archival messages that were invalid or failed past every retry land in
 * `edgecart-orders-dlq`; this consumer records them in Postgres (`dead_letters`) for inspection
 * and replay.
 */
import { withDb } from "../db/client";
import { recordDeadLetter } from "../db/orders";
import { errorFields, log } from "../platform/log";
import { ArchivalMessage, describeIssues } from "./archival";
import { ORDERS_QUEUE } from "./queues";

/** Records dead-lettered messages in Postgres (`dead_letters`). */
export async function consumeDeadLetters(batch: MessageBatch, env: Env): Promise<void> {
  try {
    await withDb(env, async (db) => {
      for (const message of batch.messages) {
        const parsed = ArchivalMessage.safeParse(message.body);
        await recordDeadLetter(db, {
          queue: ORDERS_QUEUE,
          messageId: message.id,
          body: message.body,
          error: parsed.success ? "failed after every retry" : describeIssues(parsed.error.issues),
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
