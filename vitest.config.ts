import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { TEST_ADMIN_TOKEN, TEST_CART_TOKEN_SECRET, TEST_WEBHOOK_SECRET } from "./test/secrets.ts";


export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          DATABASE_URL: inject("databaseUrl"),
          DATABASE_WS_PROXY: inject("databaseWsProxy"),
          DATABASE_KIND: inject("databaseKind"),
          ADMIN_TOKEN: TEST_ADMIN_TOKEN,
          PAYMENT_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
          CART_TOKEN_SECRET: TEST_CART_TOKEN_SECRET,
        },
      },
    })),
  ],
  test: {
    globalSetup: ["./test/global-setup.ts"],
    include: ["test/**/*.test.ts"],
    // Logs of passing tests are noise; a failing test shows its request logs.
    silent: "passed-only",
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
