/**
 * The webhooks queue's dead letters: poison messages sent to `edgecart-webhooks-dlq` by the
 * consumer, and the DLQ's consumer, which marks dead deliveries and keeps every message in
 * `dead_letters`.
 */
import * as z from "zod";
import { withDb } from "../db/client";
import { recordDeadLetter } from "../db/orders";
import { markDeliveryDead } from "../db/webhook-deliveries";
import { errorFields, log } from "../platform/log";
import { retryDelaySeconds } from "./archival";
import { WEBHOOKS_QUEUE } from "./queues";

/** Sends a poison message to the dead-letter queue and acks it here. */
export async function deadLetter(env: Env, message: Message, reason: string): Promise<void> {
  log("error", "poison webhook message dead-lettered", { message_id: message.id, reason });
  try {
    await env.WEBHOOKS_DLQ.send({ body: message.body, reason }, { contentType: "json" });
    message.ack();
  } catch (error) {
    log("error", "dead-letter send failed; retrying", { message_id: message.id, ...errorFields(error) });
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  }
}

const DeadDelivery = z.object({ type: z.literal("webhook.delivery"), delivery_id: z.string() });

/** Dead letters of the webhooks queue: deliveries are marked dead; every message is kept in `dead_letters`. */
export async function consumeWebhookDeadLetters(batch: MessageBatch, env: Env): Promise<void> {
  try {
    await withDb(env, async (db) => {
      for (const message of batch.messages) {
        const delivery = DeadDelivery.safeParse(message.body);
        if (delivery.success) await markDeliveryDead(db, delivery.data.delivery_id);
        const reason = (message.body as { reason?: unknown } | null)?.reason;
        await recordDeadLetter(db, {
          queue: WEBHOOKS_QUEUE,
          messageId: message.id,
          body: message.body,
          error: typeof reason === "string" ? reason : "failed after every retry",
          attempts: message.attempts,
        });
      }
    });
    batch.ackAll();
  } catch (error) {
    log("error", "recording webhook dead letters failed; retrying", errorFields(error));
    batch.retryAll({ delaySeconds: 30 });
  }
}
