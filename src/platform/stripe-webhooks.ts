/**
 * Stripe's webhook verification, the official `stripe` package's own: its `Webhooks` module on its
 * Web platform functions (SubtleCryptoProvider, so it runs in Workers), built as the package's
 * Worker entry builds them, without the API client. That client is the rest of the package (every
 * API resource; 28% of the Worker's gzip bundle at stripe 23.1.0) and edgecart never calls Stripe's
 * API. The package's exports map offers only the whole SDK, so these modules are imported by path:
 * the version is pinned exactly in package.json, a release that moves them fails the type check and
 * the build, and test/stripe-signature.test.ts holds this to `Stripe.webhooks` of the public entry.
 */
import { StripeSignatureVerificationError } from "../../node_modules/stripe/esm/Error.js";
import { WebPlatformFunctions } from "../../node_modules/stripe/esm/platform/WebPlatformFunctions.js";
import { createWebhooks } from "../../node_modules/stripe/esm/Webhooks.js";

const platform = new WebPlatformFunctions();

/** `Stripe.webhooks` of the package (constructEventAsync, generateTestHeaderStringAsync, …). */
export const stripeWebhooks = createWebhooks(platform);

/** The package's Web Crypto provider, which its Worker entry uses. */
export const stripeCryptoProvider = platform.createDefaultCryptoProvider();

export { StripeSignatureVerificationError };
