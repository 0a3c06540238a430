/** Secrets the tests run with (never used outside tests); vitest.config.ts binds them. */
export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789abcdef";
export const TEST_WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
export const TEST_STRIPE_WEBHOOK_SECRET = "whsec_test_stripe_signing_secret_0123456789abcdef";
export const TEST_CART_TOKEN_SECRET = "test-cart-token-secret-0123456789abcdef0123456789";
/** Signs tax service requests in tests (Standard Webhooks key); the stub of test/global-setup.ts verifies it. */
export const TEST_TAX_SERVICE_SECRET = "whsec_UqH6TR9rkqBPav2QgoVCODAqpxyMYFK3VkfKVEhlpo0=";
/** The tax stub's flat rate in basis points, unless a test sets another for its scope. */
export const TEST_TAX_RATE_BP = 1900;
