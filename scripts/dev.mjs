// `npm run dev`: local Postgres + Neon relay + `wrangler dev`, stopped together.
//
// Settings come from .dev.vars (created from .dev.vars.example when missing); an environment
// variable of the same name wins. Every effective value reaches wrangler through a private env
// file (.data/dev-<port>.env, mode 600), never the command line, and the file is deleted as soon
// as wrangler has read it (when /health first answers), and again on every way out.
// Without DATABASE_URL an embedded PGlite keeps its data in .data/pglite. Unless DATABASE_URL
// points at Neon itself (*.neon.tech), the WebSocket->TCP relay lets the Worker's Neon driver reach
// it (DATABASE_WS_PROXY). Postgres is up and migrated before wrangler starts, so /health never
// answers before the database can serve. Ctrl-C, SIGTERM or SIGHUP (to this process or to its
// whole process group) stop wrangler (and its workerd), the relay and Postgres; a second signal,
// a second or more later, forces. When wrangler exits on its own, the rest is stopped and its exit
// code is returned.
//
// Environment only: PORT (8787), DEV_PG_PORT and DEV_RELAY_PORT (default: free ports),
// DEV_PERSIST_TO (wrangler's --persist-to; default .wrangler/state) and DEV_PG_DATA (the embedded
// Postgres's data folder; default .data/pglite).
//
// The back-office dashboard (admin/) is built into build/assets first and rebuilt on every change
// while this runs; wrangler serves it at /admin/.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";
import { buildAdmin } from "./build-admin.mjs";
import { migrate, startEmbeddedPostgres } from "./lib/postgres.mjs";
import { startRelay } from "./lib/relay.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const devVarsPath = path.join(root, ".dev.vars");
const examplePath = path.join(root, ".dev.vars.example");
const dataDir = path.resolve(root, process.env.DEV_PG_DATA || path.join(".data", "pglite"));
const lockPath = `${dataDir}.lock`;
const wranglerJs = path.join(root, "node_modules", "wrangler", "bin", "wrangler.js");
/** Names read from the environment only; never passed to the Worker. */
const ENV_ONLY = new Set(["PORT", "DEV_PG_PORT", "DEV_RELAY_PORT", "DEV_PERSIST_TO", "DEV_PG_DATA"]);
/** Values never printed. */
const SECRET = new Set(["ADMIN_TOKEN", "PAYMENT_WEBHOOK_SECRET", "DATABASE_URL", "TAX_SERVICE_SECRET"]);
/**
 * Secrets the Worker reads only in some modes, so not in wrangler.toml's `[secrets] required`.
 * wrangler dev takes from an env file only the names wrangler.toml declares (vars and required
 * secrets) and silently drops the rest, so these reach it as `--var NAME:value` instead: hidden in
 * wrangler's binding table, but visible in the process list. Development values only.
 */
const OPTIONAL_SECRETS = ["TAX_SERVICE_SECRET"];
const DEFAULT_ADMIN_TOKEN = "dev-admin-token";

const log = (message) => console.log(`[dev] ${message}`);
const warn = (message) => console.error(`[dev] ${message}`);
const ms = (since) => `${Math.round(performance.now() - since)} ms`;

// ---- lifecycle -----------------------------------------------------------------------------------

/** Cleanup steps, run last-in first-out. */
const cleanups = [];
let wrangler; // ChildProcess
let wranglerExit; // Promise<{ code, signal }>
/** workerd and other helpers seen under wrangler: pid -> start time. */
const helpers = new Map();
/** The settings file handed to wrangler while it exists (it holds the secrets). */
let envFile;
let stopping = false;
let stoppingSince = 0;

/**
 * A signal that arrives this soon after the stop began is the same request delivered twice, not a
 * request to force: a signal to the process group (Ctrl-C in a terminal, `kill -TERM -<pgid>`)
 * reaches this process directly and, a few milliseconds later, again from npm, which forwards
 * SIGINT and SIGTERM to its child, and its child is this very process (the npm script and
 * scripts/node.sh both `exec`).
 */
const REPEAT_WINDOW_MS = 1000;

/** Removes the settings file (synchronous: it also runs in the exit handler). */
function removeEnvFile() {
  if (envFile) fs.rmSync(envFile, { force: true });
}

// Every way out, a forced one included, removes the settings file and this process's lock.
process.on("exit", () => {
  removeEnvFile();
  try {
    if (Number(fs.readFileSync(lockPath, "utf8")) === process.pid) fs.rmSync(lockPath, { force: true });
  } catch {
    // No lock, or not ours.
  }
});

async function stop(reason, exitCode) {
  if (stopping) return;
  stopping = true;
  stoppingSince = performance.now();
  if (reason) log(reason);
  let failed = false;
  for (const step of cleanups.reverse()) {
    try {
      await step();
    } catch (error) {
      failed = true;
      warn(`cleanup failed: ${error?.message ?? error}`);
    }
  }
  process.exit(failed && exitCode === 0 ? 1 : exitCode);
}

/** Second signal: stop waiting. The exit handler still removes the settings file and the lock. */
function force(signal) {
  warn(`${signal} again: killing everything now`);
  killTree(wrangler?.pid, "SIGKILL");
  for (const [pid, start] of helpers) {
    if (running(pid, start)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }
  }
  process.exit(1);
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    if (!stopping) {
      // A stop the user asked for is a success, not an error npm should complain about.
      void stop(`${signal}: stopping (send it again, e.g. Ctrl-C, to force)`, 0);
    } else if (performance.now() - stoppingSince >= REPEAT_WINDOW_MS) {
      force(signal);
    }
  });
}
// When npm itself dies without forwarding a signal (SIGKILL; SIGHUP, which npm does not forward),
// this process is re-parented: stop as if signalled.
if (process.env.npm_lifecycle_event) {
  const parentPid = process.ppid;
  setInterval(() => {
    if (process.ppid !== parentPid) void stop(`parent process ${parentPid} exited: stopping`, 0);
  }, 200).unref();
}
process.on("uncaughtException", (error) => {
  warn(`error: ${error?.stack ?? error}`);
  void stop(undefined, 1);
});

// ---- process tree helpers ------------------------------------------------------------------------

/** pid -> { ppid, state, start } of every process (Linux /proc; else `ps`, without state/start). */
function processTable() {
  const table = new Map();
  try {
    for (const entry of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
        // Fields after the ")" that closes the command name: state, ppid, ..., starttime (20th).
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        table.set(Number(entry), { ppid: Number(fields[1]), state: fields[0], start: fields[19] });
      } catch {
        // The process ended while being read.
      }
    }
  } catch {
    // No /proc (macOS): ask ps.
    for (const line of execFileSync("ps", ["-A", "-o", "pid=,ppid="], { encoding: "utf8" }).split("\n")) {
      const [pid, ppid] = line.trim().split(/\s+/).map(Number);
      if (pid) table.set(pid, { ppid });
    }
  }
  return table;
}

/** Descendants of `pid` as pid -> start time (to tell a pid apart from a later reuse). */
function descendants(pid) {
  const table = processTable();
  const found = new Map();
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift();
    for (const [child, { ppid, start }] of table) {
      if (ppid === parent && !found.has(child)) {
        found.set(child, start);
        queue.push(child);
      }
    }
  }
  return found;
}

/** Whether `pid` (started at `start`, when known) still runs; zombies awaiting reaping do not count. */
function running(pid, start) {
  const info = processTable().get(pid);
  if (info) return info.state !== "Z" && (start === undefined || info.start === start);
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}

function killTree(pid, signal) {
  if (!pid) return;
  for (const child of [pid, ...descendants(pid).keys()]) {
    try {
      process.kill(child, signal);
    } catch {
      // Already gone.
    }
  }
}

const sleep = (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds));

// ---- settings ------------------------------------------------------------------------------------

function readVars(file) {
  return fs.existsSync(file) ? parseEnv(fs.readFileSync(file, "utf8")) : {};
}

function portFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${name}=${raw} is not a TCP port`);
  }
  return port;
}

function portInUse(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(true));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(false)));
  });
}

function settings() {
  if (!fs.existsSync(devVarsPath)) {
    fs.copyFileSync(examplePath, devVarsPath);
    log("created .dev.vars from .dev.vars.example");
  }
  const defaults = readVars(examplePath);
  const file = readVars(devVarsPath);
  const missing = Object.keys(defaults).filter((name) => !(name in file));
  if (missing.length > 0) log(`.dev.vars lacks ${missing.join(", ")}: using .dev.vars.example's`);
  const vars = { ...defaults, ...file };
  const fromEnv = [];
  for (const name of new Set([...Object.keys(vars), "DATABASE_WS_PROXY"])) {
    if (ENV_ONLY.has(name)) {
      delete vars[name];
    } else if (process.env[name] !== undefined) {
      vars[name] = process.env[name];
      fromEnv.push(name);
    }
  }
  return { vars, fromEnv };
}

// ---- main ----------------------------------------------------------------------------------------

async function main() {
  process.chdir(root);
  if (!fs.existsSync(wranglerJs)) throw new Error("node_modules/wrangler is missing: run `npm ci` first");

  const port = portFromEnv("PORT", 8787);
  const { vars, fromEnv } = settings();
  if (process.env.PORT) fromEnv.unshift("PORT");
  if (fromEnv.length > 0) log(`from the environment: ${fromEnv.join(", ")}`);
  if (await portInUse(port)) throw new Error(`port ${port} is in use (another \`npm run dev\`?); set PORT`);

  // Postgres first, up and migrated before wrangler starts: /health must not answer (and seed
  // must not write) before the database can serve. The embedded one binds its port itself.
  const databaseStarted = performance.now();
  let databaseHost;
  const embedded = !vars.DATABASE_URL;
  if (embedded) {
    fs.mkdirSync(path.dirname(dataDir), { recursive: true });
    takeLock();
    const reopened = fs.existsSync(path.join(dataDir, "PG_VERSION"));
    const pg = await startEmbeddedPostgres({ dataDir, port: portFromEnv("DEV_PG_PORT", undefined) });
    // Registered now so that it runs after wrangler and the relay have stopped.
    cleanups.push(async () => {
      await withTimeout(pg.close(), 5000, "embedded Postgres did not close in 5 s");
      log("embedded Postgres stopped");
    });
    log(`embedded Postgres (PGlite, ${reopened ? "reopened" : "new"} ${path.relative(root, dataDir)}) on 127.0.0.1:${pg.port} in ${ms(databaseStarted)}`);
    vars.DATABASE_URL = pg.url;
    databaseHost = "127.0.0.1";
  } else {
    try {
      databaseHost = new URL(vars.DATABASE_URL).hostname;
    } catch {
      throw new Error("DATABASE_URL is not a URL (postgres://user:password@host:port/database)");
    }
    log(`Postgres at ${databaseHost} (DATABASE_URL)`);
  }
  if (stopping) return;
  await migrateLogged(vars.DATABASE_URL);
  const databaseReadyAt = performance.now();
  if (stopping) return;

  // Relay, unless DATABASE_WS_PROXY names one already or the Worker can reach Neon itself.
  if (vars.DATABASE_WS_PROXY) {
    log(`no relay started: DATABASE_WS_PROXY=${vars.DATABASE_WS_PROXY}`);
  } else if (databaseHost.endsWith(".neon.tech")) {
    log("Neon URL: no relay, the Worker connects directly");
  } else {
    if (!["127.0.0.1", "localhost", "[::1]", "::1"].includes(databaseHost)) {
      warn(`DATABASE_URL host ${databaseHost} is not loopback: the relay only forwards to this machine`);
    }
    // PGlite has one backend shared by every connection: the relay hands it out one at a time.
    const relay = await startRelay({ port: portFromEnv("DEV_RELAY_PORT", 0), serialize: embedded });
    cleanups.push(async () => {
      await withTimeout(relay.close(), 3000, "relay did not close in 3 s");
      log("relay stopped");
    });
    vars.DATABASE_WS_PROXY = relay.url;
    log(`relay on ${relay.url}`);
  }

  // The dashboard's assets must exist before wrangler starts (wrangler.toml [assets]).
  const stopWatching = await buildAdmin({ watch: true, log });
  cleanups.push(stopWatching);

  if (stopping) return;
  // wrangler dev, started with this node (no npx wrapper, which would orphan wrangler on kill).
  // Settings go to wrangler in a private env file, not as --var arguments: secrets such as a real
  // DATABASE_URL password would otherwise show in every process listing.
  // Named by port: a second `npm run dev` (e.g. under `npm run bench`) must not replace this one's.
  envFile = path.join(root, ".data", `dev-${port}.env`);
  fs.mkdirSync(path.dirname(envFile), { recursive: true });
  // A file left by a run that was killed outright (its port is free again) is replaced, never
  // reused: "wx" creates it anew with mode 600.
  fs.rmSync(envFile, { force: true });
  fs.writeFileSync(envFile, Object.entries(vars).map(([name, value]) => `${name}=${JSON.stringify(String(value))}`).join("\n") + "\n", { mode: 0o600, flag: "wx" });
  // --test-scheduled: wrangler dev does not fire crons itself; the timer below does, through it.
  const args = [wranglerJs, "dev", "--ip", "127.0.0.1", "--port", String(port), "--env-file", envFile, "--test-scheduled"];
  if (process.env.DEV_PERSIST_TO) args.push("--persist-to", process.env.DEV_PERSIST_TO);
  for (const name of OPTIONAL_SECRETS) if (vars[name]) args.push("--var", `${name}:${vars[name]}`);
  log(`wrangler dev on 127.0.0.1:${port}`);
  wrangler = spawn(process.execPath, args, {
    cwd: root,
    stdio: "inherit",
    // The same values in wrangler's environment: when wrangler.toml changes, wrangler resolves
    // its bindings again, after the file is gone, and then takes the names wrangler.toml declares
    // ([vars], [secrets] required) from its environment. (wrangler 4.156 also copies the file
    // into its environment at start-up; this does not depend on that.)
    env: {
      ...process.env,
      ...vars,
      WRANGLER_SEND_METRICS: process.env.WRANGLER_SEND_METRICS ?? "false",
      DO_NOT_TRACK: process.env.DO_NOT_TRACK ?? "1",
      CLOUDFLARE_CF_FETCH_ENABLED: process.env.CLOUDFLARE_CF_FETCH_ENABLED ?? "false",
    },
  });
  // workerd and other helpers seen under wrangler (`helpers`); they are checked again after
  // wrangler exits, when they no longer show up as its descendants.
  const noteHelpers = () => {
    if (wrangler.exitCode === null && wrangler.signalCode === null) {
      for (const [pid, start] of descendants(wrangler.pid)) helpers.set(pid, start);
    }
  };
  wranglerExit = new Promise((resolve) => {
    wrangler.once("exit", (code, signal) => resolve({ code, signal }));
    wrangler.once("error", (error) => {
      warn(`wrangler did not start: ${error.message}`);
      resolve({ code: 1, signal: null });
    });
  });
  const helperWatch = setInterval(noteHelpers, 2000);
  cleanups.push(async () => {
    const t = performance.now();
    clearInterval(helperWatch);
    noteHelpers();
    if (wrangler.exitCode === null && wrangler.signalCode === null) {
      wrangler.kill("SIGTERM");
      const exited = await Promise.race([wranglerExit.then(() => true), sleep(8000).then(() => false)]);
      if (!exited) {
        warn("wrangler did not stop in 8 s: SIGKILL");
        killTree(wrangler.pid, "SIGKILL");
        await wranglerExit;
      }
    }
    // workerd normally dies with wrangler; make sure none survives to keep the port.
    const left = () => [...helpers].filter(([pid, start]) => running(pid, start));
    for (let i = 0; i < 20 && left().length > 0; i++) await sleep(50);
    if (left().length > 0) {
      for (const [pid] of left()) {
        warn(`killing leftover wrangler helper ${pid}`);
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Gone meanwhile.
        }
      }
    }
    log(`wrangler stopped in ${ms(t)}`);
  });
  void wranglerExit.then(({ code, signal }) => {
    if (stopping) return;
    void stop(`wrangler exited (${signal ?? `code ${code}`}): stopping`, code ?? 1);
  });

  // Ready: /health answers.
  const deadline = Date.now() + 120_000;
  while (!stopping) {
    if (await healthy(`http://127.0.0.1:${port}/health`)) break;
    if (Date.now() > deadline) {
      warn(`no answer from /health after 120 s; still waiting for wrangler`);
      return;
    }
    await sleep(100);
  }
  const healthyAt = performance.now();
  // wrangler read the settings file before it started serving: the secrets leave the disk.
  removeEnvFile();
  if (stopping) return;
  noteHelpers();
  const token = vars.ADMIN_TOKEN === DEFAULT_ADMIN_TOKEN ? DEFAULT_ADMIN_TOKEN : "$ADMIN_TOKEN";
  const base = `localhost:${port}`;
  // Times count from this process's start.
  const at = (time) => `${(time / 1000).toFixed(1)} s`;
  log(`ready in ${at(performance.now())} (database ${at(databaseReadyAt)}, /health ${at(healthyAt)}): http://127.0.0.1:${port}`);
  log(`  curl ${base}/health?deep=1`);
  log(`  curl ${base}/v1/openapi.json`);
  log(`  ${port === 8787 ? "" : `PORT=${port} `}npm run seed   # demo catalog: 24 products, 56 SKUs, with stock`);
  log(`  curl ${base}/v1/products?limit=3`);
  log(`  curl -H "authorization: Bearer ${token}" ${base}/v1/admin/inventory/APP-CLASSIC-TEE-BLACK-M`);
  log(`settings: ${describe(vars)}`);
  runCrons(port);
}

/**
 * Fires the Worker's crons as Cloudflare would (wrangler.toml [triggers]): every minute the
 * catalog publish outbox, every 15 minutes (and once now) the inventory levels snapshot.
 */
function runCrons(port) {
  const fire = (cron) =>
    fetch(`http://127.0.0.1:${port}/__scheduled?cron=${encodeURIComponent(cron)}`).catch((error) => {
      if (!stopping) warn(`cron ${cron}: ${error?.message ?? error}`);
    });
  let minute = 0;
  void fire("*/15 * * * *");
  const timer = setInterval(() => {
    minute++;
    void fire("* * * * *");
    if (minute % 15 === 0) void fire("*/15 * * * *");
  }, 60_000);
  timer.unref();
  cleanups.push(async () => clearInterval(timer));
}

async function migrateLogged(url) {
  const t = performance.now();
  await migrate(url);
  log(`migrations applied in ${ms(t)}`);
}

async function healthy(url) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(15_000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

function describe(vars) {
  return Object.entries(vars)
    .map(([name, value]) => `${name}=${SECRET.has(name) && value ? (name === "DATABASE_URL" ? redactUrl(value) : "***") : value}`)
    .join(" ");
}

function redactUrl(value) {
  try {
    const url = new URL(value);
    if (url.password) url.password = "***";
    return url.toString();
  } catch {
    return "***";
  }
}

function withTimeout(promise, milliseconds, message) {
  return Promise.race([
    promise,
    sleep(milliseconds).then(() => {
      throw new Error(message);
    }),
  ]);
}

/** One embedded Postgres per data folder: two PGlite processes on it would corrupt it. */
function takeLock() {
  try {
    const pid = Number(fs.readFileSync(lockPath, "utf8"));
    if (pid && pid !== process.pid && running(pid)) {
      throw new Error(`${path.relative(root, dataDir)} is in use by process ${pid} (another \`npm run dev\`? set DEV_PG_DATA)`);
    }
  } catch (error) {
    if (error.code !== "ENOENT") throw error;
  }
  fs.writeFileSync(lockPath, String(process.pid));
  cleanups.push(() => fs.rmSync(lockPath, { force: true }));
}

main().catch((error) => {
  warn(`error: ${error?.message ?? error}`);
  void stop(undefined, 1);
});
