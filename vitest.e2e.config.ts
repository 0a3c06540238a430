// `npm run test:e2e`: the dashboard end to end, in headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core) against `npm run dev`, which e2e/global-setup.ts starts on a free
// port with fresh state and stops afterwards. Node environment, not the Workers pool. One file
// at a time: the machine has two cores and the server is shared.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["e2e/**/*.e2e.ts"],
    environment: "node",
    globalSetup: ["./e2e/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
