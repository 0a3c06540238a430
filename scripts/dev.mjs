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
// Postgres's data folder; default .data/pglite). X_LOCAL_OBSERVABILITY (default false here; wrangler's
// own default is true): wrangler's local observability collector, which streams a trace of every
// invocation (each request, each Durable Object call) to a collector Worker in the same workerd
// process. Production Workers observability costs the request nothing of the kind; locally it
// was about 40% of the runtime's CPU on a line change (docs/benchmarks.md "Identical
// conditions"), so it is off unless asked for. Console output is printed either way.
//
// The back-office dashboard (admin/) is built into build/assets first and rebuilt on every change
// while this runs; wrangler serves it at /admin/.
//
// The pieces: scripts/lib/dev-settings.mjs (settings), dev-lifecycle.mjs (stopping and cleanup),
// process-tree.mjs (wrangler's helpers), dev-crons.mjs (the cron timer).
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildAdmin } from "./build-admin.mjs";
import { runCrons } from "./lib/dev-crons.mjs";
import { cleanups, helpers, installStopHandlers, removeEnvFile, setEnvFile, setWrangler, stop, stopping } from "./lib/dev-lifecycle.mjs";
import { describe, OPTIONAL_SECRETS, portFromEnv, portInUse, settings } from "./lib/dev-settings.mjs";
import { log, ms, sleep, warn, withTimeout } from "./lib/dev-util.mjs";
import { migrate, startEmbeddedPostgres } from "./lib/postgres.mjs";
import { descendants, killTree, running } from "./lib/process-tree.mjs";
import { startRelay } from "./lib/relay.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dataDir = path.resolve(root, process.env.DEV_PG_DATA || path.join(".data", "pglite"));
const lockPath = `${dataDir}.lock`;
const wranglerJs = path.join(root, "node_modules", "wrangler", "bin", "wrangler.js");
const DEFAULT_ADMIN_TOKEN = "dev-admin-token";

installStopHandlers(lockPath);

// ---- main ----------------------------------------------------------------------------------------

async function main() {
  process.chdir(root);
  if (!fs.existsSync(wranglerJs)) throw new Error("node_modules/wrangler is missing: run `npm ci` first");

  const port = portFromEnv("PORT", 8787);
  const { vars, fromEnv } = settings(root);
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
    log(
      `embedded Postgres (PGlite, ${reopened ? "reopened" : "new"} ${path.relative(root, dataDir)}) on 127.0.0.1:${pg.port} in ${ms(databaseStarted)}`,
    );
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
  const envFile = path.join(root, ".data", `dev-${port}.env`);
  setEnvFile(envFile);
  fs.mkdirSync(path.dirname(envFile), { recursive: true });
  // A file left by a run that was killed outright (its port is free again) is replaced, never
  // reused: "wx" creates it anew with mode 600.
  fs.rmSync(envFile, { force: true });
  fs.writeFileSync(
    envFile,
    `${Object.entries(vars)
      .map(([name, value]) => `${name}=${JSON.stringify(String(value))}`)
      .join("\n")}\n`,
    { mode: 0o600, flag: "wx" },
  );
  // --test-scheduled: wrangler dev does not fire crons itself; the timer below does, through it.
  const args = [wranglerJs, "dev", "--ip", "127.0.0.1", "--port", String(port), "--env-file", envFile, "--test-scheduled"];
  if (process.env.DEV_PERSIST_TO) args.push("--persist-to", process.env.DEV_PERSIST_TO);
  for (const name of OPTIONAL_SECRETS) if (vars[name]) args.push("--var", `${name}:${vars[name]}`);
  log(`wrangler dev on 127.0.0.1:${port}`);
  const wrangler = spawn(process.execPath, args, {
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
      X_LOCAL_OBSERVABILITY: process.env.X_LOCAL_OBSERVABILITY ?? "false",
    },
  });
  // workerd and other helpers seen under wrangler (`helpers`); they are checked again after
  // wrangler exits, when they no longer show up as its descendants.
  const noteHelpers = () => {
    if (wrangler.exitCode === null && wrangler.signalCode === null) {
      for (const [pid, start] of descendants(wrangler.pid)) helpers.set(pid, start);
    }
  };
  setWrangler(wrangler);
  const wranglerExit = new Promise((resolve) => {
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
