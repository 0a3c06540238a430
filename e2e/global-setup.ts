// Starts `npm run dev` for the end-to-end tests: a free port, fresh Worker and Postgres state in
// a temporary folder, rate limits off (every test browser and client is 127.0.0.1), and an admin
// token of its own. Waits until the server and its database answer, and stops the whole process
// group (npm, dev.mjs, wrangler, workerd) with SIGTERM afterwards, as Ctrl-C would.
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  interface ProvidedContext {
    baseUrl: string;
    adminToken: string;
    port: number;
  }
}

const root = path.resolve(import.meta.dirname, "..");
export const artifactsDir = path.join(root, "artifacts", "e2e");

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

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Screenshots and the server log of this run only.
  fs.rmSync(artifactsDir, { recursive: true, force: true });
  fs.mkdirSync(artifactsDir, { recursive: true });
  const state = fs.mkdtempSync(path.join(os.tmpdir(), "edgecart-e2e-"));
  const port = await freePort();
  const adminToken = `e2e-${crypto.randomUUID()}`;
  const log = fs.openSync(path.join(artifactsDir, "dev-server.log"), "w");
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
    },
  });
  let exited: string | undefined;
  child.once("exit", (code, signal) => (exited = signal ?? `code ${code}`));
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
      throw new Error(`npm run dev exited (${exited}) before it was ready; see artifacts/e2e/dev-server.log`);
    }
    const ready = await fetch(`${baseUrl}/health?deep=1`, { signal: AbortSignal.timeout(10_000) })
      .then(async (r) => (await r.text(), r.ok))
      .catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error("npm run dev was not ready in 150 s; see artifacts/e2e/dev-server.log");
    }
    await sleep(200);
  }
  project.provide("baseUrl", baseUrl);
  project.provide("adminToken", adminToken);
  project.provide("port", port);
  return stop;
}
