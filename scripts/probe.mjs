// npm run probe [-- --seconds 5 --concurrency 64 --rounds 3 --url URL --against URL --phases P,Q
//                   --warmup 1 --quiet 15 --profile PHASE --native --top 25 --inspector WS_URL --bundle DIR]
// A storefront's view of the hot path, against a running edgecart (npm run dev with
// RATE_LIMITS=off): the rate of each phase, with `concurrency` requests in flight, divided by the
// rate of GET /health measured in the same rounds (the runtime's own ceiling on this machine).
// Phases, interleaved in every round:
//   health        GET /health
//   open          POST /v1/carts
//   new shopper   POST /v1/carts, then PUT one unit of a hot SKU (in series, per shopper)
//   second line   PUT a second SKU on a cart that already holds one line, its object warm: carts
//                 are made in batches just before their second lines, and only the second lines
//                 are timed
//   second cold   the same on carts left idle for COLD_IDLE_S first: workerd has evicted their
//                 objects (after about 10 s without a request), so each change opens the object's
//                 database again
// The SKUs are made for the run (a product of its own, archived at the end) with stock enough
// for every hold, so nothing is refused. Prints medians of the rounds with min–max. A warm-up
// round first (--warmup 0 skips it) runs every phase but second_cold once, unrecorded: the first
// seconds after the product is set up are slower (GET /health alone, 6 rounds of 3 s on a warm
// server: 455/s in the first, 569–624/s after).
//
// --against URL compares two running servers (two builds of edgecart, each `npm run dev` on its
// own PORT, DEV_PERSIST_TO and DEV_PG_DATA): every phase runs on one and then the other, the
// order swapped each round, and the report adds, per phase, the median over rounds of the rate
// at --against divided by the rate at --url in the same round. On a shared machine whose rates
// drift by more than a change moves them, that paired ratio is the figure to read.
//
// Every phase starts on a quiet server: one that follows a phase which made or used objects (a
// new shopper, a second line, the warm-up) waits until --quiet S seconds (default 15; 0 never
// waits) have passed since that phase ended, on every server of the run, so that workerd has
// evicted those objects (after about 10 s idle) and closed their databases before the clock
// starts; so does each batch of the second line after the one before it. The runtime does that
// work on the same thread as the Worker, so without the wait it lands in whichever phase runs
// next: opening carts, alone on a fresh server, ran at 1.01 of /health against 0.65 in the full
// run before the wait.
//
// Every run needs a fresh server, and no run may outlast its own holds: HOLD_TTL_SECONDS (15 min
// by default) after a cart's lines were added, the server renews or releases them (thousands at a
// time after a probe), on the same thread again. A probe that ran after another on the same server
// met the first one's renewals (/health at 2–80/s in some rounds, holds lapsing before their
// renewal); so does a run longer than the TTL less 30 s, which the probe detects from the carts'
// expiry and reports with a warning. For long runs (--against, many rounds), start the servers
// with HOLD_TTL_SECONDS=3600.
//
// --phases runs only those phases (health always runs: every ratio is to it).
//
// --profile PHASE runs the V8 sampling profiler of the --url server's Worker during that phase's
// timed part in every round, and prints where the samples fell: per function of the source, self
// and inclusive, as a share of the busy samples (the top --top). V8 samples the isolate's thread
// whatever it is doing, so its shares are of wall time, time the runtime spends blocked in its
// synchronous file work (creating an object's database, a commit's fsync) included, charged to the
// JavaScript that caused it (the call to the object's stub, `exec`). The runtime's inspector is
// found through wrangler's dev registry, which names the latest `npm run dev` only (with --against,
// start the --url server last, or pass --inspector ws://127.0.0.1:PORT/core:user:edgecart). Frames
// are named through the dev bundle's source map (--bundle, default the newest .wrangler/tmp/dev-*
// here: run it from the checkout `npm run dev` runs from). The raw profiles go to .data/profiles/.
//
// --native (with --profile) also records the runtime workerd's native samples during the same timed
// parts (Linux `perf record` with call graphs: it needs perf and the right to trace the process),
// on CPU only, and prints their shares by what the runtime was doing: committing (fsync and the
// rest), its local alarm scheduler, opening and closing objects, preparing and running SQL, garbage
// collection, JavaScript, the rest of the runtime, the kernel.
import path from "node:path";
import { baseUrl, flag, root, setting } from "./lib/config.mjs";
import { connectProfiler, findRuntime, newestDevBundle, startNativeProfiler, summarise, writeProfiles } from "./lib/profiler.mjs";
import { quietWindow } from "./lib/quiet.mjs";

const argv = process.argv.slice(2);
const seconds = Number(flag(argv, "seconds") ?? 5);
const concurrency = Number(flag(argv, "concurrency") ?? 64);
const rounds = Number(flag(argv, "rounds") ?? 3);
const admin = { authorization: `Bearer ${setting("ADMIN_TOKEN")}` };
const against = flag(argv, "against")?.replace(/\/$/, "");
const urls = [baseUrl(argv), ...(against ? [against] : [])];
const warmupRounds = Number(flag(argv, "warmup") ?? 1);
const profiled = flag(argv, "profile");
const inspector = flag(argv, "inspector");

/** A request to the server at `url`: its JSON answer, or an error for any status from 300. */
async function send(url, method, path, body, headers = {}) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${url}${path} → ${response.status} ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : null;
}

/**
 * Runs `once` with `concurrency` in flight for `seconds` (or until `once` answers false: nothing
 * left to do); operations per second.
 */
async function rate(once) {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        if ((await once()) === false) return;
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

/** How long carts sit idle before the cold phase (workerd evicts an idle object after about 10 s). */
const COLD_IDLE_S = 15;
/** Phases that make or use objects: their objects are evicted some 10 s after they end. */
const OBJECT_PHASES = new Set(["new_shopper", "second_line", "second_cold"]);
/** --quiet seconds after the last phase that made or used objects, on any server of the run. */
const quiet = quietWindow(Number(flag(argv, "quiet") ?? COLD_IDLE_S));

/**
 * Runs `phase` on a quiet machine: after a phase that used objects, waits until --quiet seconds
 * have passed since it ended (second_cold leaves its carts idle longer anyway, before its clock starts).
 */
async function quietly(phase, run) {
  if (phase !== "second_cold") await quiet.settle();
  try {
    return await run();
  } finally {
    if (OBJECT_PHASES.has(phase)) quiet.used();
  }
}
const ALL_PHASES = ["health", "open", "new_shopper", "second_line", "second_cold"];
const PHASES = ["health", ...(flag(argv, "phases")?.split(",") ?? ALL_PHASES).filter((p) => p !== "health")];
for (const phase of [...PHASES, ...(profiled ? [profiled] : [])]) {
  if (ALL_PHASES.includes(phase)) continue;
  console.error(`probe: unknown phase ${phase}: one of ${ALL_PHASES.join(", ")}`);
  process.exit(2);
}
if (profiled && !PHASES.includes(profiled)) PHASES.push(profiled);
/** The profiler while the first server runs --profile's phase (set in main after the warm-up), and perf's with --native. */
let profiler = null;
let native = null;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const holder = (c) => ({ authorization: `Bearer ${c.token}` });

/** One server under test: its own product (a hot SKU and a second one) and its phases. */
function target(url) {
  const call = (...args) => send(url, ...args);
  /** The server's HOLD_TTL_SECONDS in ms, read off the first cart it opens (null until then). */
  let holdTtlMs = null;
  /** When this run took its first hold on the server (ms since the epoch; null until then): renewalsDue counts from it. */
  let firstHoldAt = null;
  const id = `probe-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  const hot = `${id}-HOT`;
  const second = `${id}-TWO`;
  const cart = async () => {
    const c = await call("POST", "/v1/carts", {});
    holdTtlMs ??= Date.parse(c.expires_at) - Date.parse(c.created_at);
    return c;
  };
  /** Puts one unit of `sku` in cart `c`. */
  const add = (c, sku) => {
    firstHoldAt ??= Date.now();
    return call("PUT", `/v1/carts/${c.id}/items/${sku}`, { quantity: 1 }, holder(c));
  };
  /** Runs a phase's timed part, under the profiler when it is --profile's phase on the first server. */
  const timed = (phase, work) => {
    if (profiler === null || phase !== profiled || url !== urls[0]) return work();
    return profiler.around(() => (native === null ? work() : native.around(work)));
  };

  /** Opens `n` carts with one unit of `sku` each, `concurrency` at a time. */
  async function cartsWithLine(n, sku) {
    const made = [];
    let started = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (started < n) {
          started++;
          const c = await cart();
          await add(c, sku);
          made.push(c);
        }
      }),
    );
    return made;
  }

  /** Second lines (of `sku`) on `carts`, `concurrency` in flight: operations and seconds taken. */
  async function secondLines(carts, sku) {
    const started = performance.now();
    let done = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let c = carts.pop(); c !== undefined; c = carts.pop()) {
          await add(c, sku);
          done++;
        }
      }),
    );
    return { done, seconds: (performance.now() - started) / 1000 };
  }

  const units = 10_000_000;
  return {
    url,
    results: Object.fromEntries(PHASES.map((phase) => [phase, []])),
    /** The first round and phase that ran while the server could be renewing this run's first holds (null: none). */
    renewing: null,
    /**
     * Whether the server may be renewing or releasing holds this run took, on the same thread as
     * everything measured: a cart with a second line renews its first line's hold shortly before
     * it lapses (src/domain/expiry.ts, renewalAt: 30 s before, or a third of the hold's life for
     * short TTLs), and the SKU objects release the holds of carts that lapse.
     */
    renewalsDue() {
      if (firstHoldAt === null || holdTtlMs === null) return false;
      return Date.now() >= firstHoldAt + holdTtlMs - Math.min(30_000, holdTtlMs / 3);
    },
    async setUp() {
      await call("GET", "/health");
      await call(
        "PUT",
        `/v1/admin/products/${id}`,
        {
          title: "Probe",
          status: "active",
          variants: [
            { sku: hot, title: "Hot", price: { amount: 100, currency: "USD" } },
            { sku: second, title: "Two", price: { amount: 100, currency: "USD" } },
          ],
        },
        admin,
      );
      for (const sku of [hot, second]) await call("PUT", `/v1/admin/inventory/${sku}`, { on_hand: units }, admin);
    },
    tearDown: () => call("DELETE", `/v1/admin/products/${id}`, undefined, admin).catch(() => undefined),
    phases: {
      health: () => timed("health", () => rate(() => call("GET", "/health"))),
      open: () => timed("open", () => rate(cart)),
      new_shopper: () =>
        timed("new_shopper", () =>
          rate(async () => {
            const c = await cart();
            await add(c, hot);
          }),
        ),
      // Warm objects: batches of carts made just before their second lines; only those are timed.
      // Each batch waits for the last one's objects to be evicted, as phases do.
      async second_line() {
        const batch = concurrency * 8;
        let warm = { done: 0, seconds: 0 };
        while (warm.seconds < seconds) {
          if (warm.done > 0) {
            quiet.used();
            await quiet.settle();
          }
          const carts = await cartsWithLine(batch, hot);
          const run = await timed("second_line", () => secondLines(carts, second));
          warm = { done: warm.done + run.done, seconds: warm.seconds + run.seconds };
        }
        return warm.done / warm.seconds;
      },
      // Cold objects: as many carts as a warm phase serves in `seconds` (one warm batch without it), left idle first.
      async second_cold(warmRate) {
        const idle = await cartsWithLine(Math.max(concurrency * 2, Math.round(warmRate * seconds) || concurrency * 8), hot);
        await new Promise((resolve) => setTimeout(resolve, COLD_IDLE_S * 1000));
        const cold = await timed("second_cold", () => secondLines(idle, second));
        return cold.done / cold.seconds;
      },
    },
  };
}

const range = (xs) => `${median(xs).toFixed(0).padStart(6)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;

/** Each phase's median rate with min–max and its ratio to the same server's /health. */
function report(t) {
  const health = median(t.results.health);
  console.log(
    `\n${t.url}\nphase          rate/s (median, min–max)   ÷ /health (${rounds} rounds, ${concurrency} in flight, ${seconds} s each)`,
  );
  for (const [phase, xs] of Object.entries(t.results)) {
    const ratio = phase === "health" ? 1 : median(xs) / health;
    console.log(`${phase.padEnd(14)} ${range(xs)}`.padEnd(42) + ratio.toFixed(2));
  }
}

/** Prints where --profile's samples fell (and --native's) and where the raw profiles went. */
async function reportProfile(dir) {
  const bundle = flag(argv, "bundle") ?? newestDevBundle(root);
  const { samples, idle, self, inclusive } = summarise(profiler.profiles, bundle);
  const files = writeProfiles(profiler.profiles, path.join(dir, `${profiled}-${new Date().toISOString().replace(/[:.]/g, "-")}`));
  const top = Number(flag(argv, "top") ?? 25);
  const line = ({ name, share }) => `${(100 * share).toFixed(1).padStart(6)}%  ${name}`;
  const rows = (list) => list.slice(0, top).map(line);
  console.log(`\nprofile of ${profiled} at ${urls[0]}: ${samples} samples, ${((100 * idle) / Math.max(1, samples)).toFixed(0)}% idle`);
  console.log(`names from ${bundle ?? "(no dev bundle found: minified names)"}; shares of the busy samples`);
  console.log(`self:\n${rows(self).join("\n")}\ninclusive:\n${rows(inclusive).join("\n")}`);
  console.log(`raw profiles: ${files.map((f) => path.relative(process.cwd(), f)).join(", ")}`);
  if (native === null) return;
  const recorded = await native.finish();
  console.log(`\nnative samples of the runtime workerd during ${profiled}: ${recorded.samples} (on CPU), by what it was doing`);
  console.log(recorded.buckets.map(line).join("\n"));
  console.log(`perf data: ${path.relative(process.cwd(), recorded.data)} (perf report -i …)`);
}

async function main() {
  const targets = urls.map(target);
  for (const t of targets) await t.setUp();
  const dir = path.join(root, ".data", "profiles");
  try {
    for (let round = 1; round <= warmupRounds; round++)
      for (const phase of PHASES.filter((p) => p !== "second_cold")) for (const t of targets) await quietly(phase, t.phases[phase]);
    if (profiled) {
      const runtime = inspector && !argv.includes("--native") ? null : await findRuntime("edgecart");
      profiler = await connectProfiler(inspector ?? runtime.inspector);
      if (argv.includes("--native")) native = await startNativeProfiler(runtime.pid, dir);
    }
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 === 1 ? targets : [...targets].reverse();
      for (const phase of PHASES) {
        for (const t of order) {
          const warmRate = t.results.second_line?.at(-1);
          t.results[phase].push(await quietly(phase, () => t.phases[phase](warmRate)));
          if (t.renewing === null && t.renewalsDue()) t.renewing = `round ${round}, ${phase}`;
        }
      }
      for (const t of targets)
        console.log(
          `round ${round}${targets.length > 1 ? ` ${t.url}` : ""}: ${PHASES.map((p) => `${p} ${t.results[p].at(-1).toFixed(0)}/s`).join(", ")}`,
        );
    }
  } finally {
    profiler?.close();
    for (const t of targets) await t.tearDown();
  }
  for (const t of targets) report(t);
  for (const t of targets)
    if (t.renewing !== null)
      console.log(
        `\nwarning: from ${t.renewing} on, ${t.url} may have been renewing or releasing the holds of this run's first carts ` +
          "(alarms, on the thread measured): those rounds are not comparable. Run fewer or shorter rounds, or start the " +
          "servers with HOLD_TTL_SECONDS=3600.",
      );
  if (profiler) await reportProfile(dir);
  if (targets.length === 2) {
    const [a, b] = targets;
    console.log(`\npaired: the rate at ${b.url} ÷ the rate at ${a.url} in the same round, median (min–max) of ${rounds} rounds`);
    for (const phase of PHASES) {
      const ratios = a.results[phase].map((x, i) => b.results[phase][i] / x);
      const sorted = [...ratios].sort((x, y) => x - y);
      console.log(`${phase.padEnd(14)} ${median(ratios).toFixed(2)} (${sorted[0].toFixed(2)}–${sorted.at(-1).toFixed(2)})`);
    }
  }
}

main().catch((error) => {
  native?.abort();
  console.error(`probe: ${error.message}`);
  process.exit(1);
});
