// npm run bench [-- --quick | --smoke] [options]: edgecart's durable-object design against a
// no-op, the bare design's floor (bench/worker/bare.ts) and three central-Postgres designs, phase by phase, interleaved in rounds, in the bench
// Worker (bench/wrangler.toml) under `wrangler dev`; plus the single-object ceiling, micro figures
// and the production bundle's size. Writes bench/results/latest.json and latest.md (--smoke:
// smoke.json and smoke.md). See docs/benchmarks.md, or --help.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { root } from "../scripts/lib/config.mjs";
import { quietWindow } from "../scripts/lib/quiet.mjs";
import { buildProductionBundle, bundleReport } from "./lib/bundle.mjs";
import { postgresVersion } from "./lib/database.mjs";
import { ENGINES } from "./lib/engines.mjs";
import { Client } from "./lib/http.mjs";
import { ceiling, holds } from "./lib/micro.mjs";
import { options } from "./lib/options.mjs";
import { PHASES, runPhase } from "./lib/phases.mjs";
import { plan, problemsOf } from "./lib/plan.mjs";
import { cpuMs } from "./lib/procs.mjs";
import { Progress } from "./lib/progress.mjs";
import { gitStatus, machine, markdown, summarize } from "./lib/report.mjs";
import { startService } from "./lib/service.mjs";

const log = (message) => process.stderr.write(`[bench] ${message}\n`);
const round1 = (v) => (v === null || v === undefined ? "–" : Math.round(v * 10) / 10);

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
  log(
    `${opts.mode}: ${opts.rounds} round(s) of ${cells.reduce((n, c) => n + c.engines.length, 0)} runs; RTT ${opts.rtts.join(", ")} ms; ${opts.concurrency} in flight`,
  );
  log(
    `load average ${info.load_avg_start.join(" ")} on ${info.cores} cores; commit ${info.git_commit?.slice(0, 12)}${info.git_dirty ? " + uncommitted changes" : ""}`,
  );

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
  const service = await startService({
    pgUrl: opts.pgUrl,
    logFile,
    log,
    logs: opts.logs,
    observability: opts.observability,
    poolSize: opts.poolSize,
  });
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
    const short = {
      noop: "N",
      "durable-object": "DO",
      "bare-object": "BARE",
      "pg-request": "PGR",
      "pg-pooled": "PGP",
      "pg-for-update": "PGU",
    };
    const phaseShort = { reserve: "A", create: "B", shopper: "C", "second-line": "D", "new-shopper": "E", "second-cold": "F" };
    // workerd evicts an object idle for about 10 s and closes its database on the Worker's
    // thread, in whichever run comes next: a phase whose engines make no objects starts once
    // --quiet seconds have passed since the last run that made or used any, and is then clean.
    const quiet = quietWindow(opts.quiet);
    const one = async (cell, engineName, roundNo, ops) => {
      const objectFree = PHASES[cell.phase].objectFree === true;
      if (objectFree) await quiet.settle();
      try {
        return await measure(cell, engineName, roundNo, ops);
      } finally {
        if (!objectFree) quiet.used();
      }
    };
    const measure = async (cell, engineName, roundNo, ops) => {
      const tag = `${runId}-R${roundNo}-${phaseShort[cell.phase]}-${short[engineName]}-${cell.rtt}`;
      const label = `${roundNo === 0 ? "calibrate" : `round ${roundNo}`} ${cell.phase} ${engineName}${cell.rtt ? ` @${cell.rtt}ms` : ""}`;
      const progress = new Progress(label, ops);
      try {
        const run = await runPhase({
          ...base,
          phase: cell.phase,
          engineName,
          engine: ENGINES[engineName],
          ops,
          rttMs: cell.rtt,
          tag,
          progress,
        });
        progress.finish(
          `${run.ops_per_s}/s p50 ${round1(run.p50_ms)} p99 ${round1(run.p99_ms)} ms${run.errors ? ` ${run.errors} errors` : ""}${run.oversell ? ` OVERSOLD ${run.oversell}` : ""}`,
        );
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
    if (reloads > 0)
      warnings.push(`wrangler dev reloaded the Worker ${reloads} time(s) during the run (a watched file changed): rerun for clean figures`);
    if (rpcWarnings > 0)
      warnings.push(`workerd logged ${rpcWarnings} "RPC connection broken" warning(s): see bench/results/server-log.tmp`);
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
      quiet_s: opts.quiet,
      client_path: clientPath,
      request_logs: opts.logs,
      local_observability: opts.observability,
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
