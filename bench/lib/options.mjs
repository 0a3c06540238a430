// The options of `npm run bench` (bench/run.mjs): presets, --help, and parsing.
import path from "node:path";
import { parseArgs } from "node:util";
import { root } from "../../scripts/lib/config.mjs";
import { ENGINE_NAMES } from "./engines.mjs";
import { PHASE_NAMES } from "./phases.mjs";

const PRESETS = {
  full: {
    concurrency: 64,
    seconds: 6,
    rounds: 3,
    rtts: [0, 20, 80],
    ops: null,
    maxOps: 50_000,
    quiet: 15,
    holds: { flushed: 1000, batched: 5000, rpc: 1000 },
    microRepeats: 3,
    ceiling: { holds: 4000, repeats: 3 },
  },
  quick: {
    concurrency: 64,
    seconds: 1.5,
    rounds: 3,
    rtts: [0, 80],
    ops: null,
    maxOps: 10_000,
    quiet: 15,
    holds: { flushed: 200, batched: 2000, rpc: 100 },
    microRepeats: 3,
    ceiling: { holds: 1000, repeats: 2 },
  },
  smoke: {
    concurrency: 8,
    seconds: null,
    rounds: 1,
    rtts: [0, 20],
    ops: 24,
    maxOps: 24,
    quiet: 0,
    holds: { flushed: 5, batched: 20, rpc: 5 },
    microRepeats: 1,
    ceiling: { holds: 300, repeats: 1 },
  },
};

const HELP = `npm run bench [-- options]

  (none)               the full run: 3 rounds, ~6 s per run, RTT 0, 20 and 80 ms (10-20 minutes)
  --quick              3 rounds, ~1.5 s per run, RTT 0 and 80 ms (about 5 minutes)
  --smoke              correctness only (CI): 24 operations per run, 1 round, RTT 0 and 20 ms;
                       asserts 0 oversell, conservation, no errors; writes smoke.json/.md
  --rounds N           rounds (every engine of every phase once per round, interleaved)
  --seconds S          target length of one run (sets the operations per run by calibration)
  --ops N              fixed operations per run instead (no calibration round)
  --concurrency C      operations in flight (default 64; smoke 8)
  --rtt LIST           simulated round trips in ms, e.g. 0,20,80 (phase a is run at each; the
                       other phases at 0 only)
  --phases LIST        ${PHASE_NAMES.join(",")} (default: all)
  --engines LIST       ${ENGINE_NAMES.join(",")} (default: all)
  --quiet S            before a phase whose engines make no objects (b), wait until S seconds
                       have passed since the last run that made or used objects, so that workerd
                       has evicted them (default 15; smoke 0)
  --via-proxy          send the load through wrangler's dev proxy instead of straight to workerd
  --logs               keep the Worker's per-request log lines (default: BENCH_LOG=quiet)
  --observability      keep wrangler's local observability collector (a trace of every
                       invocation streamed to a collector on the Worker's thread; default: off)
  --allow-dirty        run on a git tree with uncommitted changes (recorded in the results)
  --no-micro           skip the ceiling and micro figures
  --no-bundle          skip the production bundle's size
  --pool-size N        connections of the Hyperdrive-like pool (default 16)
  --pg-url URL         Postgres server for the scratch database
                       (default $BENCH_PG_URL or postgres://postgres@127.0.0.1:5432/postgres)
  --out PATH           results path without extension (default bench/results/latest)
`;

export function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean" },
      smoke: { type: "boolean" },
      rounds: { type: "string" },
      seconds: { type: "string" },
      ops: { type: "string" },
      concurrency: { type: "string" },
      rtt: { type: "string" },
      phases: { type: "string" },
      engines: { type: "string" },
      quiet: { type: "string" },
      "via-proxy": { type: "boolean" },
      logs: { type: "boolean" },
      observability: { type: "boolean" },
      "allow-dirty": { type: "boolean" },
      "no-micro": { type: "boolean" },
      "no-bundle": { type: "boolean" },
      "pool-size": { type: "string" },
      "pg-url": { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  if (values.quick && values.smoke) throw new Error("--quick or --smoke, not both");
  const mode = values.smoke ? "smoke" : values.quick ? "quick" : "full";
  const preset = PRESETS[mode];
  const int = (name, fallback, min = 1) => {
    if (values[name] === undefined) return fallback;
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
    return n;
  };
  const list = (name, known, fallback) => {
    const items =
      values[name] === undefined
        ? fallback
        : values[name]
            .split(",")
            .map((x) => x.trim())
            .filter(Boolean);
    for (const item of items) if (!known.includes(item)) throw new Error(`--${name}: unknown ${item}; known: ${known.join(", ")}`);
    return items;
  };
  const rtts = values.rtt === undefined ? preset.rtts : values.rtt.split(",").map((x) => Number(x.trim()));
  if (rtts.some((r) => !Number.isInteger(r) || r < 0 || r > 5000))
    throw new Error("--rtt takes whole milliseconds from 0 to 5000, comma-separated");
  const ops = int("ops", preset.ops);
  return {
    mode,
    preset,
    rounds: int("rounds", preset.rounds),
    seconds: values.seconds === undefined ? preset.seconds : Number(values.seconds),
    ops,
    maxOps: ops ?? preset.maxOps,
    concurrency: int("concurrency", preset.concurrency),
    rtts: [...new Set(rtts)].sort((a, b) => a - b),
    phases: list("phases", PHASE_NAMES, PHASE_NAMES),
    engines: list("engines", ENGINE_NAMES, ENGINE_NAMES),
    quiet: int("quiet", preset.quiet, 0),
    viaProxy: Boolean(values["via-proxy"]),
    logs: Boolean(values.logs),
    observability: Boolean(values.observability),
    allowDirty: Boolean(values["allow-dirty"]),
    micro: !values["no-micro"],
    bundle: !values["no-bundle"] && mode !== "smoke",
    poolSize: int("pool-size", 16),
    pgUrl: values["pg-url"] ?? process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
    out: path.resolve(root, values.out ?? (mode === "smoke" ? "bench/results/smoke" : "bench/results/latest")),
    argv: process.argv.slice(2),
  };
}
