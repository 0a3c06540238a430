/**
 * Stripe webhook bodies (`POST /v1/webhooks/stripe`): the event envelope and the PaymentIntent it
 * carries, only the fields edgecart reads. Stripe adds fields with every API version, so unknown
 * keys are ignored here, like the Standard Webhooks body.
 */
import * as z from "zod";

/** The event types that pay or fail an order; every other type is acknowledged and ignored. */
export const STRIPE_PAYMENT_EVENTS = {
  "payment_intent.succeeded": "payment.succeeded",
  "payment_intent.payment_failed": "payment.failed",
} as const;

/** A Stripe event (https://docs.stripe.com/api/events/object); `id` (`evt_…`) is the deduplication key. */
export const StripeEvent = z.object({
  id: z.string().min(1).max(255),
  type: z.string().min(1).max(100),
  data: z.object({ object: z.unknown() }),
});
export type StripeEvent = z.infer<typeof StripeEvent>;

const MinorUnits = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/**
 * The PaymentIntent of a `payment_intent.*` event (https://docs.stripe.com/api/payment_intents/object).
 * Amounts are in the currency's smallest unit, as edgecart's are; the currency is lower case
 * (`usd`). The order it pays is named by the storefront in `metadata.order_id`.
 */
export const StripePaymentIntent = z.object({
  id: z.string().min(1).max(200),
  amount: MinorUnits,
  amount_received: MinorUnits.nullish(),
  currency: z.string().regex(/^[A-Za-z]{3}$/, "must be a three-letter ISO currency code"),
  metadata: z.object({ order_id: z.string().max(200).optional() }).nullish(),
});
export type StripePaymentIntent = z.infer<typeof StripePaymentIntent>;
