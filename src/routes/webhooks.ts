/**
 * Payment provider webhooks, signed per Standard Webhooks (the `standardwebhooks` package:
 * HMAC-SHA256 over "{id}.{timestamp}.{body}", 5-minute timestamp tolerance).
 */
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import * as z from "zod";
import { PaymentData, PaymentEvent } from "../contracts";
import { cartIdOf } from "../domain/order";
import { parseOrThrow } from "../http/input";
import { ApiError, notFound } from "../http/problem";
import { defineRoute, empty } from "../http/route";
import { cartStub } from "../objects/stubs";

const HANDLED = new Set(["payment.succeeded", "payment.failed"]);

function invalidSignature(): ApiError {
  return new ApiError(401, "invalid_signature", "The webhook signature is missing, invalid, or its timestamp is more than 5 minutes off.");
}

/** Verifies the signature over the raw body and returns the parsed event. */
function verify(secret: string, request: Request, rawBody: string): unknown {
  const headers = {
    "webhook-id": request.headers.get("webhook-id") ?? "",
    "webhook-timestamp": request.headers.get("webhook-timestamp") ?? "",
    "webhook-signature": request.headers.get("webhook-signature") ?? "",
  };
  if (!headers["webhook-id"] || headers["webhook-id"].length > 255) throw invalidSignature();
  try {
    new Webhook(secret).verify(rawBody, headers, { jsonParse: false });
  } catch (error) {
    if (error instanceof WebhookVerificationError) throw invalidSignature();
    throw error;
  }
  try {
    return JSON.parse(rawBody);
  } catch {
    throw new ApiError(400, "invalid_request", "The webhook body is not JSON.", { errors: [{ path: "", message: "malformed JSON" }] });
  }
}

export const paymentWebhook = defineRoute({
  method: "POST",
  path: "/v1/webhooks/payments",
  operationId: "paymentWebhook",
  summary: "Payment provider events (Standard Webhooks); deduplicated by webhook-id",
  tag: "payments",
  auth: "webhook",
  rawBody: true,
  rawBodySchema: PaymentEvent.extend({ data: PaymentData.optional() }).describe("Signed over the raw bytes; unknown fields are ignored"),
  headers: {
    "webhook-id": { description: "Unique message id (dedupe key)", required: true, schema: z.string() },
    "webhook-timestamp": { description: "Unix seconds; more than 5 minutes off is refused", required: true, schema: z.string() },
    "webhook-signature": { description: "v1,<base64 HMAC-SHA256 of {id}.{timestamp}.{body}>", required: true, schema: z.string() },
  },
  responses: {
    204: { description: "Handled (or a duplicate, or an event type that is ignored)" },
    400: { description: "A verified body that is not a valid payment event" },
    401: { description: "invalid_signature", problems: ["invalid_signature"] },
    404: { description: "Unknown order" },
    409: {
      description: "amount_mismatch (order untouched) or order_not_payable (recorded for refund)",
      problems: ["amount_mismatch", "order_not_payable"],
    },
  },
  async handler({ env, request, rawBody }) {
    const secret = env.PAYMENT_WEBHOOK_SECRET;
    if (!secret) throw new Error("PAYMENT_WEBHOOK_SECRET is not configured");
    // The event keeps its whole data (z.unknown()); the fields used are checked, NUL included, below.
    const event = parseOrThrow(PaymentEvent, verify(secret, request, rawBody ?? ""), "body", { anyText: true });
    if (!HANDLED.has(event.type)) return empty(204);
    const data = parseOrThrow(PaymentData, event.data, "body");
    const cartId = cartIdOf(data.order_id);
    const stub = cartId === null ? null : cartStub(env, cartId);
    if (stub === null) throw notFound("order");
    const result = await stub.payment({
      webhookId: request.headers.get("webhook-id")!,
      type: event.type,
      amount: data.amount,
      currency: data.currency,
      paymentId: data.payment_id,
    });
    if (result.ok) return empty(204);
    switch (result.reason) {
      case "not_found":
        throw notFound("order");
      case "amount_mismatch":
        throw new ApiError(409, "amount_mismatch", "The amount or currency does not match the order; it is left untouched.", {
          expected: result.expected,
        });
      case "order_not_payable":
        throw new ApiError(409, "order_not_payable", `The order is ${result.status}; the payment is recorded for refund.`, {
          order_status: result.status,
        });
    }
  },
});
