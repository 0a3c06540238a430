// npm run bench [-- --quick | --smoke] [options]: edgecart's durable-object design against a
// no-op and three central-Postgres designs, phase by phase, interleaved in rounds, in the bench
// Worker (bench/wrangler.toml) under `wrangler dev`; plus the single-object ceiling, micro figures
// and the production bundle's size. Writes bench/results/latest.json and latest.md (--smoke:
// smoke.json and smoke.md). See docs/benchmarks.md, or --help.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { root } from "../scripts/lib/config.mjs";
import { buildProductionBundle, bundleReport } from "./lib/bundle.mjs";
import { postgresVersion } from "./lib/database.mjs";
import { ENGINE_NAMES, ENGINES } from "./lib/engines.mjs";
import { Client } from "./lib/http.mjs";
import { ceiling, holds } from "./lib/micro.mjs";
import { PHASE_NAMES, PHASES, runPhase } from "./lib/phases.mjs";
import { Progress } from "./lib/progress.mjs";
import { gitStatus, machine, markdown, summarize } from "./lib/report.mjs";
import { cpuMs, startService } from "./lib/service.mjs";

const PRESETS = {
  full: { concurrency: 64, seconds: 6, rounds: 3, rtts: [0, 20, 80], ops: null, maxOps: 50_000, holds: { flushed: 1000, batched: 5000, rpc: 1000 }, microRepeats: 3, ceiling: { holds: 4000, repeats: 3 } },
  quick: { concurrency: 64, seconds: 1.5, rounds: 3, rtts: [0, 80], ops: null, maxOps: 10_000, holds: { flushed: 200, batched: 2000, rpc: 100 }, microRepeats: 3, ceiling: { holds: 1000, repeats: 2 } },
  smoke: { concurrency: 8, seconds: null, rounds: 1, rtts: [0, 20], ops: 24, maxOps: 24, holds: { flushed: 5, batched: 20, rpc: 5 }, microRepeats: 1, ceiling: { holds: 300, repeats: 1 } },
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
  --via-proxy          send the load through wrangler's dev proxy instead of straight to workerd
  --logs               keep the Worker's per-request log lines (default: BENCH_LOG=quiet)
  --allow-dirty        run on a git tree with uncommitted changes (recorded in the results)
  --no-micro           skip the ceiling and micro figures
  --no-bundle          skip the production bundle's size
  --pool-size N        connections of the Hyperdrive-like pool (default 16)
  --pg-url URL         Postgres server for the scratch database
                       (default $BENCH_PG_URL or postgres://postgres@127.0.0.1:5432/postgres)
  --out PATH           results path without extension (default bench/results/latest)
`;

function options() {
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
      "via-proxy": { type: "boolean" },
      logs: { type: "boolean" },
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
    const items = values[name] === undefined ? fallback : values[name].split(",").map((x) => x.trim()).filter(Boolean);
    for (const item of items) if (!known.includes(item)) throw new Error(`--${name}: unknown ${item}; known: ${known.join(", ")}`);
    return items;
  };
  const rtts = values.rtt === undefined ? preset.rtts : values.rtt.split(",").map((x) => Number(x.trim()));
  if (rtts.some((r) => !Number.isInteger(r) || r < 0 || r > 5000)) throw new Error("--rtt takes whole milliseconds from 0 to 5000, comma-separated");
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
    viaProxy: Boolean(values["via-proxy"]),
    logs: Boolean(values.logs),
    allowDirty: Boolean(values["allow-dirty"]),
    micro: !values["no-micro"],
    bundle: !values["no-bundle"] && mode !== "smoke",
    poolSize: int("pool-size", 16),
    pgUrl: values["pg-url"] ?? process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
    out: path.resolve(root, values.out ?? (mode === "smoke" ? "bench/results/smoke" : "bench/results/latest")),
    argv: process.argv.slice(2),
  };
}

const log = (message) => process.stderr.write(`[bench] ${message}\n`);
const round1 = (v) => (v === null || v === undefined ? "–" : Math.round(v * 10) / 10);

/** Correctness problems of a run (speed is never asserted). */
function problemsOf(run, strict) {
  const name = `${run.phase}/${run.engine}${run.rtt_ms ? ` @${run.rtt_ms} ms` : ""} round ${run.round}`;
  if (run.failed) return [`${name}: failed: ${run.failed}`];
  const problems = [];
  if (run.oversell !== 0) problems.push(`${name}: oversold ${run.oversell} units`);
  if (run.conserved === false) problems.push(`${name}: stock not conserved (stock ${run.stock}, granted ${run.granted ?? run.completed}, final ${JSON.stringify(run.final)})`);
  if (run.stock_agrees === false && run.errors === 0) problems.push(`${name}: the stock read back (${JSON.stringify(run.final)}) disagrees with the ${run.granted} grants the client saw`);
  if (strict && run.errors > 0) problems.push(`${name}: ${run.errors} errors ${JSON.stringify(run.error_kinds)}`);
  if (strict && run.sold_out === false) problems.push(`${name}: ${run.granted} granted of ${run.stock} units with ${run.ops} attempts`);
  // The simulated round trip must show: every durable-object or Postgres operation of phase (a)
  // crosses it at least once.
  if (strict && run.rtt_ms > 0 && run.phase === "reserve" && run.engine !== "noop" && run.p50_ms !== null && run.p50_ms < run.rtt_ms) {
    problems.push(`${name}: p50 ${run.p50_ms} ms is under the simulated round trip of ${run.rtt_ms} ms`);
  }
  return problems;
}

/** The (RTT, phase, engine) cells of a run, in the order they run within a round. */
function plan(opts) {
  const cells = [];
  for (const rtt of opts.rtts) {
    for (const phase of opts.phases) {
      const spec = PHASES[phase];
      if (rtt > 0 && !spec.swept) continue;
      const engines = spec.engines.filter((e) => opts.engines.includes(e) && !(rtt > 0 && e === "noop"));
      if (engines.length > 0) cells.push({ rtt, phase, engines });
    }
  }
  return cells;
}

async function main() {
  let opts;
  try {
    opts = options();
  } catch (error) {
    log(`${error.message} (--help lists the options)`);
    process.exit(2);
  }
  const status = gitStatus();
  if (status && !opts.allowDirty) {
    log(`the git tree has uncommitted changes; commit them, or pass --allow-dirty (recorded in the results):\n${status}`);
    process.exit(2);
  }
  const startedAt = performance.now();
  const info = machine();
  const command = `npm run bench${opts.argv.length > 0 ? ` -- ${opts.argv.join(" ")}` : ""}`;
  const cells = plan(opts);
  log(`${opts.mode}: ${opts.rounds} round(s) of ${cells.reduce((n, c) => n + c.engines.length, 0)} runs; RTT ${opts.rtts.join(", ")} ms; ${opts.concurrency} in flight`);
  log(`load average ${info.load_avg_start.join(" ")} on ${info.cores} cores; commit ${info.git_commit?.slice(0, 12)}${info.git_dirty ? " + uncommitted changes" : ""}`);

  const micro = {};
  if (opts.bundle) {
    // Before the service starts, so the build competes with nothing being measured.
    log("production bundle: wrangler deploy --dry-run --metafile");
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "edgecart-bundle-"));
    try {
      const { stdout } = buildProductionBundle(outdir);
      micro.bundle = bundleReport(outdir, { wranglerStdout: stdout });
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  }

  info.postgres = await postgresVersion(opts.pgUrl);
  const logFile = path.join(root, "bench/results/server-log.tmp");
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  log(`starting the bench Worker (wrangler dev -c bench/wrangler.toml; log in ${path.relative(root, logFile)})`);
  const t0 = performance.now();
  const service = await startService({ pgUrl: opts.pgUrl, logFile, log, logs: opts.logs, poolSize: opts.poolSize });
  log(`up at ${service.url} in ${((performance.now() - t0) / 1000).toFixed(1)} s (runtime workerd ${service.pids.runtime.join(", ")})`);
  let interrupted = false;
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      log(`${signal}: stopping the service`);
      service.stop().finally(() => process.exit(130));
    });
  }

  // Straight to the Worker's runtime unless asked otherwise: wrangler's dev proxy is dev tooling
  // (a singleton Durable Object relaying every request) that production does not have.
  const warnings = [];
  let target = service.url;
  let clientPath = `through wrangler's dev proxy (${service.url})`;
  if (!opts.viaProxy) {
    if (service.directUrl) {
      target = service.directUrl;
      clientPath = `straight to the Worker's workerd (${service.directUrl}), not through wrangler's dev proxy`;
    } else {
      warnings.push(`the Worker's own socket was not found (${service.directProblem}): the load went through wrangler's dev proxy`);
      log(`WARNING: ${warnings.at(-1)}`);
    }
  }
  log(`client: ${clientPath}`);
  const client = new Client(target, { connections: opts.concurrency, adminToken: service.adminToken });
  const runs = [];
  const calibration = [];
  const runId = Date.now().toString(36).slice(-6);
  const opsFor = new Map();
  try {
    const probe = await client.request("POST", "/bench/noop", { body: {} });
    if (probe.status !== 204) throw new Error(`${target} does not serve the bench routes (POST /bench/noop: ${probe.status})`);
    const sum = (pids) => pids.reduce((total, pid) => total + (cpuMs(pid) ?? NaN), 0);
    const cpu = () => ({ runtime: sum(service.pids.runtime), proxy: sum(service.pids.proxy), wrangler: sum(service.pids.wrangler) });
    const base = { client, concurrency: opts.concurrency, webhookSecret: service.webhookSecret, cpu };
    const short = { noop: "N", "durable-object": "DO", "pg-request": "PGR", "pg-pooled": "PGP", "pg-for-update": "PGU" };
    const phaseShort = { reserve: "A", create: "B", shopper: "C", "second-line": "D", "new-shopper": "E" };
    const one = async (cell, engineName, roundNo, ops) => {
      const tag = `${runId}-R${roundNo}-${phaseShort[cell.phase]}-${short[engineName]}-${cell.rtt}`;
      const label = `${roundNo === 0 ? "calibrate" : `round ${roundNo}`} ${cell.phase} ${engineName}${cell.rtt ? ` @${cell.rtt}ms` : ""}`;
      const progress = new Progress(label, ops);
      try {
        const run = await runPhase({ ...base, phase: cell.phase, engineName, engine: ENGINES[engineName], ops, rttMs: cell.rtt, tag, progress });
        progress.finish(`${run.ops_per_s}/s p50 ${round1(run.p50_ms)} p99 ${round1(run.p99_ms)} ms${run.errors ? ` ${run.errors} errors` : ""}${run.oversell ? ` OVERSOLD ${run.oversell}` : ""}`);
        return { round: roundNo, ...run };
      } catch (error) {
        progress.finish(`FAILED: ${error.message}`);
        return { round: roundNo, phase: cell.phase, engine: engineName, rtt_ms: cell.rtt, ops, failed: error.message };
      }
    };

    // Calibration (and warm-up): every cell once with `concurrency` operations; the operations per
    // run are then set so that a run lasts about `seconds`, the same for every round.
    for (const cell of cells) {
      await service.setDbRtt(cell.rtt);
      for (const engineName of cell.engines) {
        const key = `${cell.rtt}|${cell.phase}|${engineName}`;
        if (opts.ops !== null) {
          opsFor.set(key, opts.ops);
          continue;
        }
        const run = await one(cell, engineName, 0, opts.concurrency);
        calibration.push(run);
        const rate = run.failed ? null : run.ops_per_s;
        // At least twice the concurrency: a run of one burst would time the ramp, not the pace.
        opsFor.set(key, Math.max(2 * opts.concurrency, Math.min(opts.maxOps, Math.round((rate ?? 0) * opts.seconds))));
      }
    }
    for (let roundNo = 1; roundNo <= opts.rounds; roundNo++) {
      for (const cell of cells) {
        await service.setDbRtt(cell.rtt);
        const shift = (roundNo - 1) % cell.engines.length;
        for (const engineName of [...cell.engines.slice(shift), ...cell.engines.slice(0, shift)]) {
          runs.push(await one(cell, engineName, roundNo, opsFor.get(`${cell.rtt}|${cell.phase}|${engineName}`)));
        }
      }
    }
    await service.setDbRtt(0);
    if (opts.micro) {
      const p = opts.preset;
      try {
        micro.ceiling = await ceiling(client, runId, [64, 256], p.ceiling.holds, p.ceiling.repeats);
        micro.holds = await holds(client, runId, p.holds, p.microRepeats);
      } catch (error) {
        micro.failed = error.message;
        log(`micro figures failed: ${error.message}`);
      }
    }
  } finally {
    await client.close();
    const reloads = service.reloads();
    const rpcWarnings = service.rpcWarnings();
    if (reloads > 0) warnings.push(`wrangler dev reloaded the Worker ${reloads} time(s) during the run (a watched file changed): rerun for clean figures`);
    if (rpcWarnings > 0) warnings.push(`workerd logged ${rpcWarnings} "RPC connection broken" warning(s): see bench/results/server-log.tmp`);
    await service.stop();
  }

  info.load_avg_end = os.loadavg().map((l) => Math.round(l * 100) / 100);
  const strict = opts.mode === "smoke";
  const problems = [...calibration, ...runs].flatMap((run) => problemsOf(run, strict));
  if (micro.failed) problems.push(`micro figures: ${micro.failed}`);
  if (strict) problems.push(...warnings.splice(0));
  const results = {
    summary: summarize(runs),
    runs,
    calibration,
    micro,
    machine: info,
    settings: {
      mode: opts.mode,
      command,
      rounds: opts.rounds,
      concurrency: opts.concurrency,
      seconds: opts.seconds,
      ops: opts.ops,
      calibrated: opts.ops === null,
      rtt_ms: opts.rtts,
      phases: Object.fromEntries(opts.phases.map((p) => [p, `${PHASES[p].label}: ${PHASES[p].describe}`])),
      engines: Object.fromEntries(opts.engines.map((e) => [e, ENGINES[e].describe])),
      client_path: clientPath,
      request_logs: opts.logs,
      pool_size: opts.poolSize,
      target: "wrangler dev -c bench/wrangler.toml started by the bench (scratch database on the Postgres server)",
      wall_s: Math.round((performance.now() - startedAt) / 100) / 10,
    },
    problems,
    warnings,
  };
  fs.mkdirSync(path.dirname(opts.out), { recursive: true });
  const text = markdown(results);
  for (const [ext, content] of [
    ["json", `${JSON.stringify(results, null, 2)}\n`],
    ["md", text],
  ]) {
    // Written aside first (bench/results/*.tmp is ignored) so a failed run never leaves half a file.
    const file = `${opts.out}.${ext}`;
    fs.writeFileSync(`${file}.tmp`, content);
    fs.renameSync(`${file}.tmp`, file);
  }
  process.stdout.write(`\n${text}\n`);
  log(`wrote ${path.relative(root, opts.out)}.json and .md in ${results.settings.wall_s} s`);
  for (const warning of warnings) log(`WARNING: ${warning}`);
  if (problems.length > 0) {
    for (const problem of problems) log(`PROBLEM: ${problem}`);
    process.exit(1);
  }
}

main().catch((error) => {
  log(`error: ${error?.stack ?? error}`);
  process.exit(1);
});
