/**
 * Webhook delivery (step 4 of sync/webhooks.ts): each `webhook.delivery` message is one attempt.
 * The delivery is leased in Postgres (one attempt at a time), the endpoint read fresh (disabled or
 * deleted: nothing is sent), its URL checked again, the event signed (Standard Webhooks;
 * `webhook-id` is the event id on every attempt) and POSTed with a 10 s timeout, redirects not
 * followed. Every attempt is recorded. A failure is retried by the queue on the schedule of
 * domain/webhooks.ts (8 attempts over 27.6 h), then the delivery is dead-lettered
 * (`edgecart-webhooks-dlq`).
 */
import { Webhook } from "standardwebhooks";
import type { WebhookDeliveryV1 } from "../contracts";
import { withDb } from "../db/client";
import { claimDelivery, recordAttempt } from "../db/webhook-deliveries";
import { checkWebhookUrl, delivered, WEBHOOK_MAX_ATTEMPTS, WEBHOOK_TIMEOUT_MS, webhookRetryDelay } from "../domain/webhooks";
import { errorFields, log } from "../platform/log";
import { retryDelaySeconds } from "./archival";
import { newId, webhookSettings } from "./webhook-settings";

/** How long one attempt holds its delivery (the 10 s timeout and the bookkeeping around it). */
const LEASE_MS = 30_000;

/** The headers and body of one signed attempt. */
export function signedRequest(
  secret: string,
  eventId: string,
  payload: unknown,
  at: Date,
): { headers: Record<string, string>; body: string } {
  const body = JSON.stringify(payload);
  const signature = new Webhook(secret).sign(eventId, at, body);
  return {
    body,
    headers: {
      "content-type": "application/json",
      "user-agent": "edgecart-webhooks/1",
      "webhook-id": eventId,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": signature,
    },
  };
}

/** POSTs one attempt: the receiver's status, or the error that kept it from answering. */
async function post(
  url: string,
  request: { headers: Record<string, string>; body: string },
): Promise<{ status: number | null; error: string | null; latencyMs: number }> {
  const started = performance.now();
  const since = Date.now();
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: request.headers,
      body: request.body,
      redirect: "manual",
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    await response.body?.cancel().catch(() => undefined);
    const latencyMs = Math.max(0, Math.round(performance.now() - started) || Date.now() - since);
    return { status: response.status, error: delivered(response.status) ? null : `the receiver answered ${response.status}`, latencyMs };
  } catch (error) {
    const latencyMs = Math.max(0, Date.now() - since);
    const timeout = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    return {
      status: null,
      error: timeout
        ? `no answer within ${WEBHOOK_TIMEOUT_MS / 1000} s`
        : `request failed: ${error instanceof Error ? error.message : String(error)}`.slice(0, 500),
      latencyMs,
    };
  }
}

/** One delivery attempt (see the header). */
export async function attemptDelivery(env: Env, message: Message, body: WebhookDeliveryV1): Promise<void> {
  try {
    await withDb(env, async (db) => {
      const now = new Date();
      const claim = await claimDelivery(db, body.delivery_id, now, new Date(now.getTime() + LEASE_MS));
      if (claim.kind === "busy") return message.retry({ delaySeconds: LEASE_MS / 1000 });
      if (claim.kind !== "claimed") return message.ack();
      const { delivery } = claim;
      const number = delivery.attempts + 1;
      const base = {
        id: newId("wha_"),
        deliveryId: delivery.id,
        endpointId: delivery.endpoint?.id ?? "",
        eventId: delivery.event.id,
        eventType: delivery.event.type,
        attempt: number,
      };
      const endpoint = delivery.endpoint;
      if (endpoint === null || !endpoint.enabled) {
        await recordAttempt(
          db,
          {
            ...base,
            endpointId: endpoint?.id ?? base.endpointId,
            statusCode: null,
            latencyMs: 0,
            error: "the endpoint is disabled: nothing was sent",
            nextRetryAt: null,
            attemptedAt: now,
          },
          "failed",
        );
        return message.ack();
      }
      const allowed = checkWebhookUrl(endpoint.url, { allowLoopback: webhookSettings(env).allowLoopback });
      if (!allowed.ok) {
        log("warn", "webhook URL refused at delivery", { endpoint_id: endpoint.id, reason: allowed.reason });
        await recordAttempt(
          db,
          {
            ...base,
            statusCode: null,
            latencyMs: 0,
            error: `URL refused: ${allowed.reason}; nothing was sent`,
            nextRetryAt: null,
            attemptedAt: now,
          },
          "failed",
        );
        return message.ack();
      }
      const result = await post(allowed.url, signedRequest(endpoint.secret, delivery.event.id, delivery.event.payload, now));
      if (result.status !== null && delivered(result.status)) {
        await recordAttempt(
          db,
          { ...base, statusCode: result.status, latencyMs: result.latencyMs, error: null, nextRetryAt: null, attemptedAt: now },
          "delivered",
        );
        return message.ack();
      }
      const delay = webhookRetryDelay(number);
      if (delay === null) {
        await recordAttempt(
          db,
          {
            ...base,
            statusCode: result.status,
            latencyMs: result.latencyMs,
            error: `${result.error}; dead-lettered after ${WEBHOOK_MAX_ATTEMPTS} attempts`,
            nextRetryAt: null,
            attemptedAt: now,
          },
          "dead",
        );
        await env.WEBHOOKS_DLQ.send(
          { ...body, reason: `failed ${WEBHOOK_MAX_ATTEMPTS} attempts; last: ${result.error}` },
          { contentType: "json" },
        );
        return message.ack();
      }
      await recordAttempt(
        db,
        {
          ...base,
          statusCode: result.status,
          latencyMs: result.latencyMs,
          error: result.error,
          nextRetryAt: new Date(now.getTime() + delay * 1000),
          attemptedAt: now,
        },
        "pending",
      );
      message.retry({ delaySeconds: delay });
    });
  } catch (error) {
    log("warn", "webhook delivery bookkeeping failed; retrying", { delivery_id: body.delivery_id, ...errorFields(error) });
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  }
}
