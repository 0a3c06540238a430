import { availableParallelism } from "node:os";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig, defineProject } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";
import {
  TEST_ADMIN_TOKEN,
  TEST_CART_TOKEN_SECRET,
  TEST_STRIPE_WEBHOOK_SECRET,
  TEST_TAX_SERVICE_SECRET,
  TEST_WEBHOOK_SECRET,
} from "./test/secrets.ts";

/**
 * One project of tests in the Workers runtime, with its own Postgres, relay and tax service stub
 * (test/global-setup.ts). `recovery` takes Postgres away on purpose (the relay's outage switch), so
 * it gets a database of its own and runs its files one at a time; `main` never sees its outages.
 * `bindings` adds to or overrides the common bindings (vars included) for one project.
 */
function workersProject(
  name: string,
  include: string[],
  options: { exclude?: string[]; sequential?: boolean; bindings?: Record<string, string> } = {},
) {
  return defineProject({
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
            STRIPE_WEBHOOK_SECRET: TEST_STRIPE_WEBHOOK_SECRET,
            // This project's stub; TAX_MODE stays wrangler.toml's "none" unless `bindings` says otherwise.
            TAX_SERVICE_URL: inject("taxServiceUrl"),
            TAX_SERVICE_SECRET: TEST_TAX_SERVICE_SECRET,
            // Outgoing webhooks reach the test receiver on loopback (test/lib/webhook-receiver.ts).
            WEBHOOKS_ALLOW_LOOPBACK: "on",
            ...options.bindings,
          },
        },
      })),
    ],
    test: {
      name,
      globalSetup: ["./test/global-setup.ts"],
      include,
      exclude: options.exclude ?? [],
      fileParallelism: !options.sequential,
      testTimeout: 30_000,
      hookTimeout: 60_000,
    },
  });
}

/**
 * The fuzzer (test/fuzz.test.ts) is the suite's longest file by far, and one of its smallest.
 * Without timings of its own (a fresh clone, as in CI) vitest starts larger files first, so the
 * fuzzer started about two minutes in and ran alone at the end: on a clean clone it ended 45 s
 * after every other file of its project. Files named here start first in their project; with
 * timings, vitest would have put them there anyway.
 */
const START_FIRST = ["/test/fuzz.test.ts"];

class StartFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    // Projects run one after another in `sorted`; only the order inside each changes (the sort is stable).
    const projects = [...new Set(sorted.map((file) => file.project.name))];
    const key = (file: TestSpecification) =>
      2 * projects.indexOf(file.project.name) + (START_FIRST.some((name) => file.moduleId.endsWith(name)) ? 0 : 1);
    return sorted.sort((a, b) => key(a) - key(b));
  }
}

export default defineConfig({
  test: {
    // Logs of passing tests are noise; a failing test shows its request logs.
    silent: "passed-only",
    sequence: { sequencer: StartFirstSequencer },
    // Files spend about half their time waiting (Postgres, queues, alarms, the receivers): with one
    // file per core, two cores were 54% idle and the suite took 434 s; with four files at once they
    // were 6% idle and it took 303 s. Machines with more cores keep vitest's default, one per core.
    maxWorkers: Math.max(4, availableParallelism()),
    projects: [
      workersProject("main", ["test/**/*.test.ts"], { exclude: ["test/recovery/**", "test/tax/**", "test/tax-rates/**"] }),
      workersProject("recovery", ["test/recovery/**/*.test.ts"], { sequential: true }),
      // Carts and checkout with the external tax service (the stub): TAX_MODE=external.
      workersProject("tax", ["test/tax/**/*.test.ts"], { bindings: { TAX_MODE: "external" } }),
      // Carts and checkout with the rate table per country: TAX_MODE=rates.
      workersProject("tax-rates", ["test/tax-rates/**/*.test.ts"], { bindings: { TAX_MODE: "rates" } }),
    ],
  },
});
