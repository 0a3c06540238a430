// The service under test: the bench Worker (bench/wrangler.toml) under `wrangler dev`, against a
// scratch database on a real Postgres server, reached through the bench's proxies
// (bench/lib/db-proxy.mjs), whose simulated round trip the runner sets between runs.
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { root } from "../../scripts/lib/config.mjs";
import { freePort } from "../../scripts/lib/postgres.mjs";
import { prepareDatabase } from "./database.mjs";
import { alive, descendants, listening, listeningPorts } from "./procs.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** A deadline for Promise.race that does not keep the process alive once the race is decided. */
const deadline = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * The Worker runtime's own HTTP socket. `wrangler dev` serves its public port from a second
 * workerd whose ProxyWorker (a singleton Durable Object, there for live reload) forwards every
 * request. The runtime workerd listens on several ports: its entry socket (HTTP), its inspector
 * (HTTP/WebSocket), and its debug port, which speaks Cap'n Proto RPC (the dev registry's
 * cross-process bindings). An HTTP request sent to the debug port is read as a Cap'n Proto
 * message of absurd size and workerd logs "NOSENTRY RPC connection broken … incoming RPC message
 * exceeds size limit": so the debug port, named in the bench's private dev registry, is never
 * probed. The entry is the remaining port that answers /health as edgecart.
 */
async function runtimeEntry(pids, registryDir) {
  const debugPorts = new Set();
  try {
    for (const name of fs.readdirSync(registryDir)) {
      const entry = JSON.parse(fs.readFileSync(path.join(registryDir, name), "utf8"));
      const port = Number(/:(\d+)$/.exec(entry.debugPortAddress ?? "")?.[1]);
      if (port) debugPorts.add(port);
    }
  } catch {
    // No registry: nothing is known about the debug port.
  }
  if (debugPorts.size === 0)
    return { url: null, reason: "the dev registry names no debug port, so the runtime's ports cannot be probed safely" };
  for (const pid of pids) {
    for (const port of listeningPorts(pid)) {
      if (debugPorts.has(port)) continue;
      try {
        const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) });
        const body = await response.text();
        if (response.ok && response.headers.has("x-request-id") && JSON.parse(body).status === "ok")
          return { url: `http://127.0.0.1:${port}`, debugPorts: [...debugPorts] };
      } catch {
        // Not the Worker (the inspector answers 4xx).
      }
    }
  }
  return { url: null, reason: "no port of the runtime answered /health" };
}

/** The db proxies in a child process; resolves to { wsPort, poolPort, setRtt(ms), stop() }. */
async function startDbProxy({ pgUrl, poolSize }) {
  const child = spawn(process.execPath, [path.join(root, "bench/lib/db-proxy-child.mjs"), JSON.stringify({ pgUrl, poolSize, rttMs: 0 })], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = readline.createInterface({ input: child.stdout });
  const waiting = [];
  lines.on("line", (line) => waiting.shift()?.(JSON.parse(line)));
  const next = () => new Promise((resolve) => waiting.push(resolve));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const ports = await Promise.race([
    next(),
    exited.then((code) => Promise.reject(new Error(`db proxy exited (${code}) before listening`))),
  ]);
  return {
    wsPort: ports.ws_port,
    poolPort: ports.pool_port,
    async setRtt(ms) {
      const answer = next();
      child.stdin.write(`${JSON.stringify({ rtt: ms })}\n`);
      const { rtt } = await answer;
      if (rtt !== ms) throw new Error(`db proxy answered rtt ${rtt}, asked ${ms}`);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      await Promise.race([exited, deadline(3000).then(() => child.kill("SIGKILL"))]);
    },
  };
}

const WRANGLER_ENV = { WRANGLER_SEND_METRICS: "false", DO_NOT_TRACK: "1", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

/**
 * Creates the scratch database, starts the db proxies and `wrangler dev -c bench/wrangler.toml`
 * (with a private dev registry, state folder and env file, a random admin token and webhook
 * secret, RATE_LIMITS=off, BENCH_LOG=quiet unless `logs`, wrangler's local observability off
 * unless `observability`), and waits for /health. Resolves to the running service; `stop()` undoes
 * everything and checks that nothing is left listening.
 */
export async function startService({ pgUrl, logFile, log, logs = false, observability = false, poolSize = 16 }) {
  const undo = [];
  const cleanup = async () => {
    for (const step of undo.reverse()) {
      try {
        await step();
      } catch (error) {
        log(`cleanup: ${error.message}`);
      }
    }
    undo.length = 0;
  };
  try {
    const database = await prepareDatabase(pgUrl);
    undo.push(() => database.drop());
    log(`scratch database ${database.name} on ${new URL(pgUrl).host} (migrated, schema edgecart_bench created)`);

    const proxy = await startDbProxy({ pgUrl: database.url, poolSize });
    undo.push(() => proxy.stop());

    const stateDir = fs.mkdtempSync(path.join(process.env.BENCH_STATE_DIR ?? os.tmpdir(), "edgecart-bench-"));
    undo.push(() => fs.rmSync(stateDir, { recursive: true, force: true }));
    const registryDir = path.join(stateDir, "registry");
    fs.mkdirSync(registryDir);

    const port = await freePort();
    const adminToken = crypto.randomBytes(24).toString("base64url");
    const webhookSecret = `whsec_${crypto.randomBytes(32).toString("base64")}`;
    const vars = {
      ADMIN_TOKEN: adminToken,
      PAYMENT_WEBHOOK_SECRET: webhookSecret,
      CART_TOKEN_SECRET: crypto.randomBytes(32).toString("base64url"),
      DATABASE_URL: database.url,
      DATABASE_WS_PROXY: `127.0.0.1:${proxy.wsPort}`,
      RATE_LIMITS: "off",
      BENCH_LOG: logs ? "on" : "quiet",
    };
    const envFile = path.join(stateDir, "bench.env");
    fs.writeFileSync(
      envFile,
      `${Object.entries(vars)
        .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
        .join("\n")}\n`,
      { mode: 0o600 },
    );
    const hyperdriveUrl = new URL(database.url);
    hyperdriveUrl.username = "bench";
    hyperdriveUrl.password = "bench"; // Hyperdrive wants one; the pool authenticates itself
    hyperdriveUrl.host = `127.0.0.1:${proxy.poolPort}`;

    const out = fs.openSync(logFile, "w");
    const args = [
      path.join(root, "node_modules/wrangler/bin/wrangler.js"),
      "dev",
      "-c",
      "bench/wrangler.toml",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--env-file",
      envFile,
      "--persist-to",
      path.join(stateDir, "state"),
      "--show-interactive-dev-session=false",
    ];
    const child = spawn(process.execPath, args, {
      cwd: root,
      stdio: ["ignore", out, out],
      env: {
        ...process.env,
        ...WRANGLER_ENV,
        // wrangler's local observability collector (on by default in wrangler dev) streams a trace
        // of every invocation to a collector Worker on the bench Worker's own thread: a cost
        // production does not have, paid per hop (the request, the cart object, the SKU object).
        X_LOCAL_OBSERVABILITY: observability ? "true" : "false",
        FORCE_COLOR: "0",
        // A dev registry of its own: other `wrangler dev` sessions on this machine (another
        // "edgecart" with the same queue names) can neither reconfigure this one nor take its
        // queue messages.
        WRANGLER_REGISTRY_PATH: registryDir,
        CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: hyperdriveUrl.toString(),
      },
    });
    fs.closeSync(out);
    const exit = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
    let helpers = [];
    undo.push(async () => {
      helpers = [...helpers, ...descendants(child.pid)];
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const done = await Promise.race([exit.then(() => true), deadline(15_000).then(() => false)]);
        if (!done) {
          log("wrangler did not stop in 15 s: SIGKILL");
          for (const proc of [...descendants(child.pid), { pid: child.pid }]) {
            try {
              process.kill(proc.pid, "SIGKILL");
            } catch {
              // Gone.
            }
          }
          await exit;
        }
      }
      for (let i = 0; i < 40 && helpers.some((proc) => alive(proc.pid)); i++) await sleep(50);
      const left = helpers.filter((proc) => alive(proc.pid));
      if (left.length > 0) throw new Error(`processes left running after stop: ${left.map((p) => `${p.pid} (${p.comm})`).join(", ")}`);
      if (await listening(port)) throw new Error(`port ${port} still listening after stop`);
      log(`wrangler stopped; port ${port} closed, no workerd left`);
    });

    const url = `http://127.0.0.1:${port}`;
    const readyBy = Date.now() + 120_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`wrangler dev exited early; see ${path.relative(root, logFile)}`);
      if (Date.now() > readyBy) throw new Error(`wrangler dev not healthy after 120 s; see ${path.relative(root, logFile)}`);
      try {
        const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) });
        await response.body?.cancel();
        if (response.ok) break;
      } catch {
        // Not up yet.
      }
      await sleep(200);
    }
    helpers = descendants(child.pid);
    const workerd = helpers.filter((proc) => proc.comm === "workerd");
    // wrangler runs two workerd: its dev proxy, which owns the public port, and the Worker's runtime.
    const devProxy = workerd.find((proc) => proc.args.some((arg) => arg === `--socket-addr=entry=127.0.0.1:${port}`));
    const runtime = workerd.filter((proc) => proc !== devProxy);
    const wrangler = [{ pid: child.pid }, ...helpers.filter((proc) => proc.comm === "node")];
    const entry = await runtimeEntry(
      runtime.map((p) => p.pid),
      registryDir,
    );

    return {
      url,
      /** The Worker's workerd entry, bypassing wrangler's dev proxy (null when not found). */
      directUrl: entry.url,
      directProblem: entry.reason ?? null,
      adminToken,
      webhookSecret,
      database: database.name,
      pids: {
        workerd: workerd.map((p) => p.pid),
        runtime: runtime.map((p) => p.pid),
        proxy: devProxy ? [devProxy.pid] : [],
        wrangler: wrangler.map((p) => p.pid),
      },
      /** How often wrangler reloaded the Worker (a watched file changed): figures across a reload are suspect. */
      reloads() {
        return (fs.readFileSync(logFile, "utf8").match(/Reloading local server/g) ?? []).length;
      },
      /** Warnings workerd printed about its RPC connections (the symptom --direct used to cause). */
      rpcWarnings() {
        return (fs.readFileSync(logFile, "utf8").match(/RPC connection broken/g) ?? []).length;
      },
      /** Sets the simulated round trip to Postgres (both proxies). */
      setDbRtt: (ms) => proxy.setRtt(ms),
      stop: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
