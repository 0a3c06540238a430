// The lifecycle of `npm run dev` (scripts/dev.mjs): cleanup steps run last-in first-out on every
// way out (a signal, the parent's exit, an error), and a second signal forces.
import fs from "node:fs";
import { log, warn } from "./dev-util.mjs";
import { killTree, running } from "./process-tree.mjs";

/** Cleanup steps, run last-in first-out. */
export const cleanups = [];
let wrangler; // ChildProcess
/** workerd and other helpers seen under wrangler: pid -> start time. */
export const helpers = new Map();
/** The settings file handed to wrangler while it exists (it holds the secrets). */
let envFile;
export let stopping = false;
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
export function removeEnvFile() {
  if (envFile) fs.rmSync(envFile, { force: true });
}

/** wrangler's process, once started: a forced stop kills its tree. */
export function setWrangler(child) {
  wrangler = child;
}

/** The settings file handed to wrangler (removed on every way out). */
export function setEnvFile(file) {
  envFile = file;
}

export async function stop(reason, exitCode) {
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

/**
 * Installs the ways out: every one removes the settings file and this process's lock (`lockPath`);
 * a signal stops, a second one forces.
 */
export function installStopHandlers(lockPath) {
  // Every way out, a forced one included, removes the settings file and this process's lock.
  process.on("exit", () => {
    removeEnvFile();
    try {
      if (Number(fs.readFileSync(lockPath, "utf8")) === process.pid) fs.rmSync(lockPath, { force: true });
    } catch {
      // No lock, or not ours.
    }
  });

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
}
