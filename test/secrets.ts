/** Secrets the tests run with (never used outside tests); vitest.config.ts binds them. */
export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789abcdef";
export const TEST_WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
export const TEST_STRIPE_WEBHOOK_SECRET = "whsec_test_stripe_signing_secret_0123456789abcdef";
export const TEST_CART_TOKEN_SECRET = "test-cart-token-secret-0123456789abcdef0123456789";
