/**
 * Stripe webhooks, verified with the official `stripe` package's webhook module and its Web Crypto
 * provider (../platform/stripe-webhooks): HMAC-SHA256 of "{t}.{body}" under STRIPE_WEBHOOK_SECRET,
 * in `Stripe-Signature`. A `payment_intent.succeeded` or `payment_intent.payment_failed` whose
 * intent names an order in `metadata.order_id` goes to the same payment state machine as the
 * Standard Webhooks endpoint (the cart object's `payment()`), deduplicated by the Stripe event id.
 * No API key is needed.
 */
import * as z from "zod";
import { STRIPE_PAYMENT_EVENTS, StripeEvent, StripePaymentIntent } from "../contracts";
import { cartIdOf } from "../domain/order";
import { parseOrThrow } from "../http/input";
import { ApiError, notFound } from "../http/problem";
import { defineRoute, empty } from "../http/route";
import { cartStub } from "../objects/stubs";
import { StripeSignatureVerificationError, stripeCryptoProvider, stripeWebhooks } from "../platform/stripe-webhooks";

/** Seconds a signature's timestamp may be from the server's clock, either way (Stripe's default). */
export const STRIPE_TOLERANCE_SECONDS = 300;

/** A payment event: the envelope with its PaymentIntent. */
const StripePaymentEvent = StripeEvent.extend({ data: z.object({ object: StripePaymentIntent }) });

function invalidSignature(): ApiError {
  return new ApiError(
    401,
    "invalid_signature",
    "The Stripe-Signature header is missing or invalid, or its timestamp is more than 5 minutes off.",
  );
}

function isPaymentEvent(type: string): type is keyof typeof STRIPE_PAYMENT_EVENTS {
  return Object.hasOwn(STRIPE_PAYMENT_EVENTS, type);
}

/** The `t=` of a Stripe-Signature header (Unix seconds), as the package reads it. */
function signedAt(header: string): number {
  const item = header.split(",").find((part) => part.startsWith("t="));
  return item === undefined ? Number.NaN : Number.parseInt(item.slice(2), 10);
}

/**
 * Verifies the signature over the raw body and returns the parsed event. The package refuses a
 * timestamp older than the tolerance; one as far in the future is refused here too.
 */
async function verify(secret: string, header: string | null, rawBody: string): Promise<unknown> {
  if (header === null || header.length === 0 || header.length > 4096) throw invalidSignature();
  let event: unknown;
  try {
    event = await stripeWebhooks.constructEventAsync(rawBody, header, secret, STRIPE_TOLERANCE_SECONDS, stripeCryptoProvider);
  } catch (error) {
    if (error instanceof StripeSignatureVerificationError) throw invalidSignature();
    if (error instanceof SyntaxError) {
      throw new ApiError(400, "invalid_request", "The webhook body is not JSON.", { errors: [{ path: "", message: "malformed JSON" }] });
    }
    throw error;
  }
  if (signedAt(header) - Math.floor(Date.now() / 1000) > STRIPE_TOLERANCE_SECONDS) throw invalidSignature();
  return event;
}

/** The amount the event reports paid: what was received on success, the intent's amount on failure (nothing was received). */
function amountOf(type: keyof typeof STRIPE_PAYMENT_EVENTS, intent: StripePaymentIntent): number {
  return type === "payment_intent.succeeded" ? (intent.amount_received ?? intent.amount) : intent.amount;
}

export const stripeWebhook = defineRoute({
  method: "POST",
  path: "/v1/webhooks/stripe",
  operationId: "stripeWebhook",
  summary: "Stripe events (payment_intent.succeeded, payment_intent.payment_failed); deduplicated by the event id",
  tag: "payments",
  auth: "webhook",
  signature: "stripe",
  rawBody: true,
  rawBodySchema: StripePaymentEvent.describe(
    "A Stripe event, signed over the raw bytes; unknown fields are ignored. The order is the intent's metadata.order_id",
  ),
  headers: {
    "stripe-signature": {
      description: "t=<Unix seconds>,v1=<hex HMAC-SHA256 of {t}.{body}> (Stripe's scheme); more than 5 minutes off is refused",
      required: true,
      schema: z.string(),
    },
  },
  responses: {
    204: { description: "Handled (or a duplicate event id, or an event type that is ignored)" },
    400: { description: "A verified body that is not JSON or not a valid event" },
    401: { description: "invalid_signature", problems: ["invalid_signature"] },
    404: { description: "Unknown order, or an intent without metadata.order_id" },
    409: {
      description: "amount_mismatch (order untouched) or order_not_payable (recorded for refund)",
      problems: ["amount_mismatch", "order_not_payable"],
    },
  },
  async handler({ env, request, rawBody }) {
    const secret = env.STRIPE_WEBHOOK_SECRET;
    if (!secret) throw new Error("STRIPE_WEBHOOK_SECRET is not configured");
    const verified = await verify(secret, request.headers.get("stripe-signature"), rawBody ?? "");
    // The envelope keeps the whole intent (z.unknown()); its fields are checked, NUL included, below.
    const envelope = parseOrThrow(StripeEvent, verified, "body", { anyText: true });
    if (!isPaymentEvent(envelope.type)) return empty(204);
    const type = envelope.type;
    const intent = parseOrThrow(StripePaymentEvent, verified, "body").data.object;
    const cartId = cartIdOf(intent.metadata?.order_id ?? "");
    const stub = cartId === null ? null : cartStub(env, cartId);
    if (stub === null) throw notFound("order");
    const result = await stub.payment({
      webhookId: envelope.id,
      type: STRIPE_PAYMENT_EVENTS[type],
      amount: amountOf(type, intent),
      currency: intent.currency.toUpperCase(),
      paymentId: intent.id,
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
