// The service under test, started the way `npm run dev` starts it: `node scripts/dev.mjs` with
// the bench's settings, against a scratch database on a real Postgres server (both engines hit the
// same server), through a relay the bench controls (its delay simulates a WAN round trip).
import { execFileSync, spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { root } from "../../scripts/lib/config.mjs";
import { createScratchDatabase, freePort } from "../../scripts/lib/postgres.mjs";

const require = createRequire(import.meta.url);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** A deadline for Promise.race that does not keep the process alive once the race is decided. */
const deadline = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** Children of `pid` and their descendants, from /proc: [{ pid, comm, args }]. */
export function descendants(pid) {
  const table = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const args = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean);
      table.push({ pid: Number(entry), ppid: Number(fields[1]), comm: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")), args });
    } catch {
      // Ended while being read.
    }
  }
  const found = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift();
    for (const proc of table) {
      if (proc.ppid === parent) {
        found.push(proc);
        queue.push(proc.pid);
      }
    }
  }
  return found;
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU time of a process in ms (/proc/<pid>/stat utime + stime), or null when gone. */
export function cpuMs(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // After the command: state(0) ppid(1) ... utime(11) stime(12), in clock ticks.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Resolves true when something accepts TCP connections on 127.0.0.1:port. */
export function listening(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** TCP ports `pid` listens on (its socket inodes matched against /proc/net/tcp*). */
function listeningPorts(pid) {
  const inodes = new Set();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]);
    } catch {
      // Closed meanwhile.
    }
  }
  const ports = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of fs.readFileSync(table, "utf8").split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[3] === "0A" && inodes.has(fields[9])) ports.push(parseInt(fields[1].split(":")[1], 16));
    }
  }
  return ports;
}

/**
 * The Worker runtime's own HTTP socket: `wrangler dev` serves its public port from a second
 * workerd whose ProxyWorker (a singleton Durable Object, there for live reload) forwards every
 * request; the runtime's entry socket is the one of its ports that answers /health as edgecart.
 */
async function runtimeEntry(pids) {
  for (const pid of pids) {
    for (const port of listeningPorts(pid)) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) });
        const body = await response.text();
        if (response.ok && response.headers.has("x-request-id") && JSON.parse(body).status === "ok") return `http://127.0.0.1:${port}`;
      } catch {
        // Not HTTP, or not the Worker (inspector, debug port).
      }
    }
  }
  return null;
}

/** Postgres server version, or throws with a hint when the server cannot be reached. */
export async function postgresVersion(serverUrl) {
  const pg = require("pg");
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    const { rows } = await client.query("show server_version");
    return rows[0].server_version;
  } catch (error) {
    throw new Error(`cannot reach Postgres at ${serverUrl} (${error.message}); start it or pass --pg-url`);
  } finally {
    await client.end().catch(() => {});
  }
}

/** The relay in a child process on `port` (0 = any) with `delayMs`; resolves to { port, stop() }. */
async function startRelayProcess(port, delayMs) {
  const child = spawn(process.execPath, [path.join(root, "bench/lib/relay-child.mjs"), String(port), String(delayMs)], { stdio: ["pipe", "pipe", "inherit"] });
  const bound = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const line = out.split("\n")[0];
      if (out.includes("\n")) resolve(JSON.parse(line).port);
    });
    child.once("exit", (code) => reject(new Error(`relay exited (${code}) before listening`)));
  });
  return {
    port: bound,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([exited, deadline(3000).then(() => child.kill("SIGKILL"))]);
    },
  };
}

/**
 * Starts a scratch database on `pgUrl`, the relay and `node scripts/dev.mjs` (BENCH_ROUTES=on,
 * RATE_LIMITS=off, a random admin token, a throwaway wrangler state folder), and waits for
 * /health. Resolves to the running service; `stop()` undoes everything and checks that nothing
 * is left listening.
 */
export async function startService({ pgUrl, logFile, log }) {
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
    const database = await createScratchDatabase(pgUrl, "edgecart_bench");
    undo.push(() => database.drop());
    log(`scratch database ${database.name} on ${new URL(pgUrl).host}`);

    let relay = await startRelayProcess(0, 0);
    undo.push(() => relay.stop());
    const relayPort = relay.port;

    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "edgecart-bench-"));
    undo.push(() => fs.rmSync(stateDir, { recursive: true, force: true }));

    const port = await freePort();
    const adminToken = crypto.randomBytes(24).toString("base64url");
    const out = fs.openSync(logFile, "w");
    const child = spawn(process.execPath, [path.join(root, "scripts/dev.mjs")], {
      cwd: root,
      stdio: ["ignore", out, out],
      env: {
        ...process.env,
        PORT: String(port),
        DATABASE_URL: database.url,
        DATABASE_WS_PROXY: `127.0.0.1:${relayPort}`,
        BENCH_ROUTES: "on",
        RATE_LIMITS: "off",
        ADMIN_TOKEN: adminToken,
        DEV_PERSIST_TO: path.join(stateDir, "state"),
        // dev.mjs stops itself when its parent goes away while this is set (see there): a bench
        // that dies never leaves a server behind.
        npm_lifecycle_event: process.env.npm_lifecycle_event ?? "bench",
      },
    });
    fs.closeSync(out);
    const exit = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
    let helpers = [];
    undo.push(async () => {
      helpers = [...helpers, ...descendants(child.pid)];
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const done = await Promise.race([exit.then(() => true), deadline(20_000).then(() => false)]);
        if (!done) {
          log("dev server did not stop in 20 s: SIGKILL");
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
      const left = helpers.filter((proc) => alive(proc.pid));
      if (left.length > 0) throw new Error(`processes left running after stop: ${left.map((p) => `${p.pid} (${p.comm})`).join(", ")}`);
      if (await listening(port)) throw new Error(`port ${port} still listening after stop`);
      log(`dev server stopped; port ${port} closed, no workerd left`);
    });

    const url = `http://127.0.0.1:${port}`;
    const readyBy = Date.now() + 120_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`dev server exited early; see ${path.relative(root, logFile)}`);
      if (Date.now() > readyBy) throw new Error(`dev server not healthy after 120 s; see ${path.relative(root, logFile)}`);
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
    const proxy = workerd.find((proc) => proc.args.some((arg) => arg === `--socket-addr=entry=127.0.0.1:${port}`));
    const runtime = workerd.filter((proc) => proc !== proxy);
    const wrangler = helpers.filter((proc) => proc.comm === "node");

    return {
      url,
      /** The Worker's workerd entry, bypassing wrangler's dev proxy (null when not found). */
      directUrl: await runtimeEntry(runtime.map((p) => p.pid)),
      adminToken,
      database: database.name,
      pids: { workerd: workerd.map((p) => p.pid), runtime: runtime.map((p) => p.pid), proxy: proxy ? [proxy.pid] : [], wrangler: wrangler.map((p) => p.pid) },
      /**
       * How often wrangler reloaded the Worker since it started (a file under watch changed, e.g.
       * someone editing src/ meanwhile): figures taken across a reload are suspect.
       */
      reloads() {
        return (fs.readFileSync(logFile, "utf8").match(/Reloading local server/g) ?? []).length;
      },
      /** Restarts the relay on the same port with a new simulated round trip. */
      async setDbRtt(delayMs) {
        await relay.stop();
        relay = await startRelayProcess(relayPort, delayMs);
      },
      stop: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
