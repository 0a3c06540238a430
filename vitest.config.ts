import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
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
  options: { exclude?: string[]; sequential?: boolean; sharedRuntime?: boolean; bindings?: Record<string, string> } = {},
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
      isolate: !options.sharedRuntime,
      // Hangs, not speed: on two busy cores in CI, tests without a budget of their own took up to
      // 21 s (and the linearizability run, before it got one, 32 s).
      testTimeout: 60_000,
      hookTimeout: 60_000,
    },
  });
}

/**
 * By default each test file gets a runtime of its own: a workerd process whose Durable Objects, KV,
 * queues and module state no other file sees. Starting one takes about 3.5 s per file (vitest's own
 * figure: spawn and environment). Files that only work on objects and rows they name themselves
 * (unique SKUs, carts, orders) do not need that, so they share one runtime per vitest worker, one
 * file after another (`isolate: false`): the `main` project. On two cores this took `npm test`
 * from 356 to 269 s, and its CPU time from 595 to 438 s.
 *
 * A file gets a runtime of its own (the `own-runtime` project) when it, or a test/lib module it
 * imports, names what every file in a runtime would see (RUNTIME_WIDE): spies on shared
 * prototypes, console or crypto; crons and queue batches run by hand (they drain work that other
 * files queued); automatic promotions, tax rates and the catalog's edge index in KV; KV read
 * directly; the archival backlog of the day; the per-client rate limits; the product listing;
 * promotions (one without a code applies to every cart), the tax settings and webhook endpoints
 * written through the admin API. So do the fuzzer's files, whose admin requests may change any of
 * these.
 */
const ROOT = path.dirname(fileURLToPath(import.meta.url));
const RUNTIME_WIDE =
  /vi\.(spyOn|mock|stubGlobal|useFakeTimers)|scheduled\(|getQueueResult|createMessageBatch|automatic|\/v1\/admin\/tax|env\.(CATALOG|STOREFRONT_KEYS)|backlog|RATE_LIMIT|rate_limited|\/v1\/products|\/v1\/admin\/(promotions|settings|webhook-endpoints)|unarchived/;
/** The fuzzer's files: a runtime each, always, and started first (StartFirstSequencer). */
const FUZZER = ["test/fuzz.test.ts", "test/fuzz-seeds.test.ts"];

/** Whether `file` (relative to the project root) or a local module it imports, transitively, matches RUNTIME_WIDE. */
function touchesRuntimeWideState(file: string, seen = new Set<string>()): boolean {
  if (seen.has(file)) return false;
  seen.add(file);
  const source = readFileSync(path.join(ROOT, file), "utf8");
  if (RUNTIME_WIDE.test(source)) return true;
  const imports = [...source.matchAll(/from "(\.\.?\/[^"]+)"/g)].map((m) => path.join(path.dirname(file), m[1]!));
  // Only the test tree's own modules: src/ is what every file tests.
  return imports.some(
    (module) => module.startsWith("test/") && touchesRuntimeWideState(module.endsWith(".ts") ? module : `${module}.ts`, seen),
  );
}

/** The test files outside the folders of the other projects, as paths relative to the project root. */
const MAIN_TESTS = readdirSync(path.join(ROOT, "test"), { recursive: true, encoding: "utf8" })
  .map((name) => path.join("test", name))
  .filter((file) => file.endsWith(".test.ts") && !/^test\/(recovery|tax|tax-rates)\//.test(file));
const OWN_RUNTIME = MAIN_TESTS.filter((file) => FUZZER.includes(file) || touchesRuntimeWideState(file));
const SHARED_RUNTIME = MAIN_TESTS.filter((file) => !OWN_RUNTIME.includes(file));

/**
 * The fuzzer's files (test/fuzz.test.ts, test/fuzz-seeds.test.ts) are the suite's longest by far,
 * and among its smallest. Without timings of their own (a fresh clone, as in CI) vitest starts
 * larger files first, so the fuzzer (then one file) started about two minutes in and ran alone at
 * the end: on a clean clone it ended 45 s after every other file of its project. They start first
 * in their project, and their project's files before any other project's; with timings, vitest
 * would have put them first in their project anyway, but not their project first.
 */
class StartFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    // Projects run one after another in `sorted`, the fuzzer's first; inside each only the fuzzer's
    // files move (the sort is stable).
    const first = (file: TestSpecification) => FUZZER.some((name) => file.moduleId.endsWith(`/${name}`));
    const projects = [...new Set([...sorted.filter(first), ...sorted].map((file) => file.project.name))];
    const key = (file: TestSpecification) => 2 * projects.indexOf(file.project.name) + (first(file) ? 0 : 1);
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
      workersProject("own-runtime", OWN_RUNTIME),
      workersProject("main", SHARED_RUNTIME, { sharedRuntime: true }),
      workersProject("recovery", ["test/recovery/**/*.test.ts"], { sequential: true }),
      // Carts and checkout with the external tax service (the stub): TAX_MODE=external.
      workersProject("tax", ["test/tax/**/*.test.ts"], { bindings: { TAX_MODE: "external" } }),
      // Carts and checkout with the rate table per country: TAX_MODE=rates.
      workersProject("tax-rates", ["test/tax-rates/**/*.test.ts"], { bindings: { TAX_MODE: "rates" } }),
    ],
  },
});
