/**
 * Starts `npm run dev` on a free port with fresh Worker and Postgres state in a temporary folder,
 * rate limits off (every test client is 127.0.0.1) and an admin token of its own; waits until the
 * server and its database answer; `stop()` ends the whole process group (npm, dev.mjs, wrangler,
 * workerd) with SIGTERM, as Ctrl-C would, and removes the state. Used by the end-to-end tests'
 * global setup and by examples/ci.ts (Node runs this file as it is: erasable TypeScript only).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");

export interface DevServer {
  baseUrl: string;
  port: number;
  adminToken: string;
  /** Stops the server and removes its state. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts the server, its output going to `logFile`; `env` adds settings (e.g. a
 * PAYMENT_WEBHOOK_SECRET of its own). Throws, after stopping it, if it is not ready in 150 s.
 */
export async function startDevServer(options: { logFile: string; env?: Record<string, string> }): Promise<DevServer> {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), "edgecart-e2e-"));
  const port = await freePort();
  const adminToken = `e2e-${crypto.randomUUID()}`;
  fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
  const log = fs.openSync(options.logFile, "w");
  const logName = path.relative(root, options.logFile);
  const child = spawn("npm", ["run", "dev"], {
    cwd: root,
    detached: true, // its own process group, stopped as one
    stdio: ["ignore", log, log],
    env: {
      ...process.env,
      PORT: String(port),
      ADMIN_TOKEN: adminToken,
      RATE_LIMITS: "off",
      DEV_PG_DATA: path.join(state, "pglite"),
      DEV_PERSIST_TO: path.join(state, "wrangler"),
      ...options.env,
    },
  });
  let exited: string | undefined;
  child.once("exit", (code, signal) => {
    exited = signal ?? `code ${code}`;
  });
  const pgid = child.pid!;

  const stop = async () => {
    if (groupAlive(pgid)) process.kill(-pgid, "SIGTERM");
    for (let i = 0; i < 300 && groupAlive(pgid); i++) await sleep(100);
    if (groupAlive(pgid)) process.kill(-pgid, "SIGKILL");
    fs.closeSync(log);
    fs.rmSync(state, { recursive: true, force: true });
  };

  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 150_000;
  for (;;) {
    if (exited !== undefined) {
      await stop();
      throw new Error(`npm run dev exited (${exited}) before it was ready; see ${logName}`);
    }
    const ready = await fetch(`${baseUrl}/health?deep=1`, { signal: AbortSignal.timeout(10_000) })
      .then(async (r) => {
        await r.text();
        return r.ok;
      })
      .catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`npm run dev was not ready in 150 s; see ${logName}`);
    }
    await sleep(200);
  }
  return { baseUrl, port, adminToken, stop };
}
