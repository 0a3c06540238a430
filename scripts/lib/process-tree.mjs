// Process tree helpers of `npm run dev` (scripts/dev.mjs): who runs under wrangler, whether a pid
// still runs, and killing a whole tree.
import { execFileSync } from "node:child_process";
import fs from "node:fs";

/** pid -> { ppid, state, start } of every process (Linux /proc; else `ps`, without state/start). */
export function processTable() {
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
export function descendants(pid) {
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
export function running(pid, start) {
  const info = processTable().get(pid);
  if (info) return info.state !== "Z" && (start === undefined || info.start === start);
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}

export function killTree(pid, signal) {
  if (!pid) return;
  for (const child of [pid, ...descendants(pid).keys()]) {
    try {
      process.kill(child, signal);
    } catch {
      // Already gone.
    }
  }
}
