// npm run bench [-- --quick | --smoke] [options]: the flash sale, durable-object vs
// postgres-row-lock vs noop, same Worker, same runtime, same client, same run; plus micro figures.
// Writes bench/results/latest.json and latest.md (--smoke: smoke.json and smoke.md). See
// docs/benchmarks.md, or --help.
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { root, setting } from "../scripts/lib/config.mjs";
import { ENGINES } from "./lib/engines.mjs";
import { runFlashSale } from "./lib/flash-sale.mjs";
import { Client } from "./lib/http.mjs";
import { archival, bundleSize, cpuPerRequest, holds } from "./lib/micro.mjs";
import { machine, markdown, updateDocs } from "./lib/report.mjs";
import { postgresVersion, startService } from "./lib/server.mjs";

// maxSeconds caps each engine's measured sale (the slowest engine would otherwise set the run's
// length); solo: shoppers run one at a time afterwards, for the latency without queueing.
const PRESETS = {
  full: { shoppers: 10_000, concurrency: 64, stock: 500, warmup: 500, maxSeconds: 120, solo: 100, holds: { batched: 5000, flushed: 1000, rpc: 1000 }, repeats: 3, cpu: 500, archive: 5000 },
  quick: { shoppers: 2000, concurrency: 64, stock: 100, warmup: 100, maxSeconds: 12, solo: 20, holds: { batched: 2000, flushed: 200, rpc: 200 }, repeats: 3, cpu: 100, archive: 1000 },
  smoke: { shoppers: 100, concurrency: 8, stock: 20, warmup: 10, maxSeconds: Infinity, solo: 3, holds: { batched: 20, flushed: 5, rpc: 5 }, repeats: 1, cpu: 10, archive: 50 },
};

const HELP = `npm run bench [-- options]

  --quick              N=2000 shoppers, C=64, M=100 per engine, at most 12 s each; under 2 minutes
  --smoke              a few hundred requests, checks correctness only (CI); writes smoke.json/.md
  (neither)            the full run: N=10000, C=64, M=500, at most 120 s per engine
  --shoppers N         shoppers per engine
  --concurrency C      shoppers in flight
  --stock M            units of the hot SKU
  --warmup W           warm-up shoppers per engine (not measured)
  --max-seconds S      no new shopper after S seconds of an engine's sale
  --solo U             shoppers one at a time after each sale (latency without queueing)
  --engines LIST       comma-separated: noop,durable-object,postgres-row-lock (default: all)
  --db-rtt MS          also run postgres-row-lock with MS of simulated round trip to Postgres
  --no-micro           skip the micro figures
  --pg-url URL         Postgres server for the scratch database
                       (default $BENCH_PG_URL or postgres://postgres@127.0.0.1:5432/postgres)
  --direct            send the load straight to the Worker's workerd socket, bypassing wrangler's
                       dev proxy (faster, but seen to break wrangler dev under load: see
                       docs/benchmarks.md); the default goes through the proxy like a browser
  --url URL            bench a running server instead (started with BENCH_ROUTES=on RATE_LIMITS=off)
  --admin-token T      its admin token (default: ADMIN_TOKEN as npm run dev reads it)
  --out PATH           results path without extension (default bench/results/latest)
`;

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean" },
      smoke: { type: "boolean" },
      shoppers: { type: "string" },
      concurrency: { type: "string" },
      stock: { type: "string" },
      warmup: { type: "string" },
      "max-seconds": { type: "string" },
      solo: { type: "string" },
      engines: { type: "string" },
      "db-rtt": { type: "string" },
      "no-micro": { type: "boolean" },
      direct: { type: "boolean" },
      "pg-url": { type: "string" },
      url: { type: "string" },
      "admin-token": { type: "string" },
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
  const engines = (values.engines ?? Object.keys(ENGINES).join(",")).split(",").map((e) => e.trim());
  for (const engine of engines) if (!(engine in ENGINES)) throw new Error(`unknown engine ${engine}; known: ${Object.keys(ENGINES).join(", ")}`);
  const dbRtt = int("db-rtt", 0, 0);
  if (dbRtt > 0 && values.url) throw new Error("--db-rtt needs the bench to start the service (it controls the relay); drop --url");
  return {
    mode,
    shoppers: int("shoppers", preset.shoppers),
    concurrency: int("concurrency", preset.concurrency),
    stock: int("stock", preset.stock),
    warmup: int("warmup", preset.warmup, 0),
    maxSeconds: int("max-seconds", preset.maxSeconds),
    solo: int("solo", preset.solo, 0),
    engines,
    dbRtt,
    micro: !values["no-micro"],
    viaProxy: !values.direct,
    preset,
    pgUrl: values["pg-url"] ?? process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
    url: values.url?.replace(/\/$/, ""),
    adminToken: values["admin-token"],
    out: path.resolve(root, values.out ?? (mode === "smoke" ? "bench/results/smoke" : "bench/results/latest")),
  };
}

const log = (message) => process.stderr.write(`[bench] ${message}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Correctness problems of a run (speed is never asserted). */
function problemsOf(run, strict) {
  const problems = [];
  const name = run.db_rtt_ms ? `${run.engine} +${run.db_rtt_ms}ms` : run.engine;
  if (run.oversell !== 0) problems.push(`${name}: oversold ${run.oversell} units`);
  if (run.conserved === false) problems.push(`${name}: stock not conserved (granted ${run.granted}, final ${JSON.stringify(run.final)}, stock ${run.stock})`);
  if (run.stock_agrees === false) problems.push(`${name}: the stock read back (${JSON.stringify(run.final)}) disagrees with the ${run.granted} grants the clients saw`);
  if (strict && run.errors > 0) problems.push(`${name}: ${run.errors} errors ${JSON.stringify(run.error_kinds)}`);
  if (strict && run.sold_out === false) problems.push(`${name}: ${run.granted} granted, expected ${Math.min(run.stock, run.shoppers)}`);
  return problems;
}

async function main() {
  let opts;
  try {
    opts = options();
  } catch (error) {
    log(`${error.message} (--help lists the options)`);
    process.exit(2);
  }
  const startedAt = performance.now();
  const info = machine();
  const command = `npm run bench${opts.mode === "full" ? "" : ` -- --${opts.mode}`}${opts.dbRtt ? `${opts.mode === "full" ? " --" : ""} --db-rtt ${opts.dbRtt}` : ""}`;
  log(`${opts.mode}: ${opts.shoppers} shoppers, ${opts.concurrency} in flight, stock ${opts.stock}; engines ${opts.engines.join(", ")}${opts.dbRtt ? ` (+ postgres-row-lock at ${opts.dbRtt} ms RTT)` : ""}`);
  log(`load average ${info.load_avg_start.join(" ")} on ${info.cores} cores`);

  const micro = {};
  if (opts.micro) {
    // Before the server starts, so the build competes with nothing being measured.
    log("bundle: wrangler deploy --dry-run");
    micro.bundle = bundleSize();
  }

  let service;
  const logFile = path.join(root, "bench/results/server-log.tmp");
  if (opts.url) {
    service = { url: opts.url, adminToken: opts.adminToken ?? setting("ADMIN_TOKEN"), pids: null, stop: async () => {} };
    info.postgres = null;
    log(`target ${opts.url} (not started by the bench)`);
  } else {
    info.postgres = await postgresVersion(opts.pgUrl);
    log(`starting the service (node scripts/dev.mjs; log in ${path.relative(root, logFile)})`);
    const t = performance.now();
    service = await startService({ pgUrl: opts.pgUrl, logFile, log });
    log(`service up at ${service.url} in ${((performance.now() - t) / 1000).toFixed(1)} s (workerd ${service.pids.workerd.join(", ")})`);
  }
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
  const direct = !opts.viaProxy && service.directUrl;
  const clientPath = direct
    ? `straight to the Worker's workerd (${service.directUrl}), bypassing wrangler's dev proxy on ${service.url}`
    : `through ${service.url}${opts.url ? "" : " (wrangler's dev proxy, as a browser reaches npm run dev)"}`;
  if (!opts.viaProxy && !opts.url && !direct) log("the Worker's own socket was not found: going through wrangler's dev proxy");
  log(`client: ${clientPath}`);
  const client = new Client(direct ? service.directUrl : service.url, { connections: opts.concurrency, adminToken: service.adminToken });
  const proxyClient = direct ? new Client(service.url, { connections: 8, adminToken: service.adminToken }) : null;
  const runs = [];
  let reloads = 0;
  try {
    const probe = await client.request("POST", "/bench/noop", { body: {} });
    if (probe.status !== 204) throw new Error(`${service.url} does not serve the bench routes (POST /bench/noop: ${probe.status}); start it with BENCH_ROUTES=on RATE_LIMITS=off npm run dev`);
    const runId = Date.now().toString(36);
    const sale = { client, runId, shoppers: opts.shoppers, concurrency: opts.concurrency, stock: opts.stock, warmup: opts.warmup, maxSeconds: opts.maxSeconds, solo: opts.solo };
    for (const engineName of opts.engines) {
      runs.push(await runFlashSale({ ...sale, engineName, engine: ENGINES[engineName] }));
      await sleep(1000);
    }
    if (opts.dbRtt > 0) {
      await service.setDbRtt(opts.dbRtt);
      log(`relay now adds ${opts.dbRtt} ms per round trip to Postgres`);
      runs.push(await runFlashSale({ ...sale, engineName: "postgres-row-lock", engine: ENGINES["postgres-row-lock"], dbRttMs: opts.dbRtt }));
      await service.setDbRtt(0);
    }
    if (opts.micro) {
      const p = opts.preset;
      micro.holds = await holds(client, runId, p.holds, p.repeats, service.pids);
      micro.cpu = service.pids ? await cpuPerRequest(client, proxyClient, service.pids, runId, p.cpu) : { skipped: "--url target: the bench knows no workerd process id" };
      micro.archival = await archival(client, p.archive);
    }
    reloads = service.reloads?.() ?? 0;
  } finally {
    await client.close();
    await proxyClient?.close();
    await service.stop();
  }

  info.load_avg_end = (await import("node:os")).loadavg().map((l) => Math.round(l * 100) / 100);
  const problems = runs.flatMap((run) => problemsOf(run, opts.mode === "smoke"));
  // Not a failure of edgecart, but the figures are suspect: say so, and fail a smoke run.
  const warnings = reloads > 0 ? [`wrangler dev reloaded the Worker ${reloads} time(s) during the run (a watched file changed): rerun for clean figures`] : [];
  if (opts.mode === "smoke") problems.push(...warnings.splice(0));
  const results = {
    runs,
    micro,
    machine: info,
    settings: {
      mode: opts.mode,
      command,
      shoppers: opts.shoppers,
      concurrency: opts.concurrency,
      stock: opts.stock,
      warmup: opts.warmup,
      max_seconds_per_engine: Number.isFinite(opts.maxSeconds) ? opts.maxSeconds : null,
      solo: opts.solo,
      db_rtt_ms: opts.dbRtt,
      target: opts.url ? opts.url : "node scripts/dev.mjs started by the bench (wrangler dev, scratch database on the Postgres server)",
      client_path: clientPath,
      engines: Object.fromEntries(opts.engines.map((e) => [e, ENGINES[e].describe])),
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
  const latest = path.resolve(root, "bench/results/latest");
  if (opts.out === latest) updateDocs(text);
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
