// The V8 sampling profiler of a running `wrangler dev`'s Worker, for `npm run probe -- --profile`,
// and the runtime's native samples, for `--native`. The profiler talks the DevTools protocol to the
// inspector of the runtime workerd (the process that runs the Worker), found through wrangler's dev
// registry (below): wrangler's own inspector proxy (9229) accepts only the DevTools front end's
// origin, and with it did not answer this client's calls. Locally the Worker and every Durable
// Object run in that one isolate, so a profile covers the request, the cart's object and the SKU's
// object together. Samples are attributed through the dev bundle's source map to the function and
// line of the source (src/…, node_modules/…); native frames (the runtime's own work: SQLite, RPC,
// Response) keep the runtime's name. Profiles are summed over the sections profiled; each section's
// raw profile is written as a .cpuprofile (DevTools, speedscope).
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import { SourceMap } from "node:module";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { listeningPorts } from "../../bench/lib/procs.mjs";

/** The folders wrangler keeps its dev registry in (WRANGLER_REGISTRY_PATH, else its global config folder). */
function registryDirs() {
  if (process.env.WRANGLER_REGISTRY_PATH) return [process.env.WRANGLER_REGISTRY_PATH];
  const config = process.env.XDG_CONFIG_HOME ?? path.join(os.homedir(), ".config");
  return [path.join(os.homedir(), ".wrangler", "registry"), path.join(config, ".wrangler", "registry")];
}

/**
 * The runtime workerd that runs Worker `name` under `wrangler dev`: its process id and the
 * WebSocket URL of its inspector. The dev registry names that workerd's debug port (Cap'n Proto:
 * never sent HTTP); the process listening there is the runtime, and of its other ports the
 * inspector is the one whose `/json` lists `core:user:<name>`. The registry holds the latest
 * `wrangler dev` of that name only.
 */
export async function findRuntime(name) {
  const file = registryDirs()
    .map((dir) => path.join(dir, name))
    .find((candidate) => fs.existsSync(candidate));
  if (file === undefined) throw new Error(`no dev registry entry for ${name}: is \`npm run dev\` running? (or pass --inspector)`);
  const debugPort = Number(/:(\d+)$/.exec(JSON.parse(fs.readFileSync(file, "utf8")).debugPortAddress ?? "")?.[1]);
  const runtime = fs
    .readdirSync("/proc")
    .filter((pid) => /^\d+$/.test(pid))
    .find((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("workerd") && listeningPorts(pid).includes(debugPort);
      } catch {
        return false;
      }
    });
  if (runtime === undefined) throw new Error(`no running workerd listens on ${name}'s debug port ${debugPort} (pass --inspector)`);
  for (const port of listeningPorts(runtime)) {
    if (port === debugPort) continue;
    try {
      const response = await fetch(`http://127.0.0.1:${port}/json`, { signal: AbortSignal.timeout(2000) });
      const targets = await response.json();
      const target = targets.find?.((t) => t.webSocketDebuggerUrl?.endsWith(`/core:user:${name}`));
      if (target) return { pid: Number(runtime), inspector: target.webSocketDebuggerUrl };
    } catch {
      // The entry socket (the Worker answers), or not JSON.
    }
  }
  throw new Error(`workerd ${runtime} has no inspector for core:user:${name} (pass --inspector)`);
}

/**
 * Connects to the inspector at `url` and returns a profiler of sections: `around(fn)` profiles
 * `fn`. A session the runtime leaves unanswered (seen now and then on the first connection) is
 * dropped and opened again, up to three times.
 */
export async function connectProfiler(url, { intervalUs = 200 } = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await openSession(url, intervalUs, attempt === 1 ? 3000 : 5000);
    } catch (error) {
      if (attempt === 3 || !/did not answer/.test(error.message)) throw error;
    }
  }
}

async function openSession(url, intervalUs, firstAnswerMs) {
  const socket = new WebSocket(url);
  const pending = new Map();
  let nextId = 0;
  socket.onmessage = (event) => {
    const message = JSON.parse(String(event.data));
    const waiter = message.id === undefined ? undefined : pending.get(message.id);
    if (waiter === undefined) return;
    pending.delete(message.id);
    if (message.error) waiter.reject(new Error(`${waiter.method}: ${message.error.message}`));
    else waiter.resolve(message.result);
  };
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = () => reject(new Error(`cannot connect to the inspector at ${url} (is \`npm run dev\` running? see --inspector)`));
  });
  const send = (method, params = {}, timeoutMs = 30_000) =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`the inspector at ${url} did not answer ${method}`));
      }, timeoutMs);
      pending.set(id, {
        method,
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      socket.send(JSON.stringify({ id, method, params }));
    });
  try {
    await send("Profiler.enable", {}, firstAnswerMs);
  } catch (error) {
    socket.close();
    throw error;
  }
  await send("Profiler.setSamplingInterval", { interval: intervalUs });
  const profiles = [];
  return {
    profiles,
    /** Runs `fn` with the profiler on; its profile is kept. */
    async around(fn) {
      await send("Profiler.start");
      try {
        return await fn();
      } finally {
        profiles.push((await send("Profiler.stop")).profile);
      }
    },
    close: () => socket.close(),
  };
}

/** The newest dev bundle wrangler wrote under `root` (.wrangler/tmp/dev-*), or null. */
export function newestDevBundle(root) {
  const tmp = path.join(root, ".wrangler", "tmp");
  if (!fs.existsSync(tmp)) return null;
  const bundles = fs
    .readdirSync(tmp)
    .filter((name) => name.startsWith("dev-") && fs.existsSync(path.join(tmp, name, "index.js.map")))
    .map((name) => path.join(tmp, name))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  return bundles[0] ?? null;
}

/**
 * Sums `profiles` by function: self samples (in the function itself) and inclusive (with what it
 * calls), each as a share of the busy samples (all but idle). Frames of the bundle (`index.js`)
 * are named through `bundleDir`'s source map when given.
 */
export function summarise(profiles, bundleDir) {
  const map = bundleDir ? new SourceMap(JSON.parse(fs.readFileSync(path.join(bundleDir, "index.js.map"), "utf8"))) : null;
  const names = new Map();
  const nameOf = ({ functionName, url, lineNumber, columnNumber }) => {
    const name = functionName || "(anonymous)";
    if (!url.endsWith("index.js")) return name;
    const at = `${lineNumber}:${columnNumber}`;
    if (!names.has(at)) {
      const entry = map?.findEntry(lineNumber, columnNumber);
      const source = entry?.originalSource
        ?.replace(/^.*node_modules\//, "node_modules/")
        .replace(/^(\.\.\/)+/, "")
        .replace(/^.*?\/(src|bench|scripts)\//, "$1/");
      names.set(at, source ? `${entry.name ?? name} ${source}:${entry.originalLine + 1}` : `${name} index.js:${lineNumber + 1}`);
    }
    return names.get(at);
  };
  const self = new Map();
  const inclusive = new Map();
  let total = 0;
  let idle = 0;
  for (const profile of profiles) {
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    const parents = new Map();
    for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
    const counts = new Map();
    for (const sample of profile.samples) counts.set(sample, (counts.get(sample) ?? 0) + 1);
    for (const [id, count] of counts) {
      total += count;
      const leaf = nameOf(nodes.get(id).callFrame);
      if (leaf === "(idle)") {
        idle += count;
        continue;
      }
      self.set(leaf, (self.get(leaf) ?? 0) + count);
      const seen = new Set();
      for (let at = id; at !== undefined; at = parents.get(at)) {
        const name = nameOf(nodes.get(at).callFrame);
        if (seen.has(name) || name === "(root)") continue;
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + count);
      }
    }
  }
  const busy = total - idle;
  return { samples: total, idle, self: ranked(self, busy), inclusive: ranked(inclusive, busy) };
}

/** Counts by name as shares of `total`, largest first. */
function ranked(counts, total) {
  return [...counts].sort((a, b) => b[1] - a[1]).map(([name, count]) => ({ name, share: total === 0 ? 0 : count / total }));
}

/** Writes each profile to `<prefix>-<n>.cpuprofile` (making its folder); the paths written. */
export function writeProfiles(profiles, prefix) {
  fs.mkdirSync(path.dirname(prefix), { recursive: true });
  return profiles.map((profile, i) => {
    const file = `${prefix}-${i + 1}.cpuprofile`;
    fs.writeFileSync(file, JSON.stringify(profile));
    return file;
  });
}

/**
 * Where a native sample's time went: by the first rule whose frame appears anywhere in its stack,
 * else by its leaf frame (JavaScript and V8, the kernel, or the rest of the runtime). The names are
 * workerd's and SQLite's own symbols (workerd ships unstripped); the rules follow the local
 * runtime's code paths, so a new workerd may move samples between them.
 */
const NATIVE_BUCKETS = [
  ["closing evicted objects (SQLite close, WAL checkpoint)", ["ActorSqlite::~ActorSqlite", "SqliteDatabase::~SqliteDatabase"]],
  ["alarm scheduler (local: its own SQLite file, committed at setAlarm)", ["AlarmScheduler::", "startPrecommitAlarmScheduling"]],
  ["creating or opening objects (files, schema)", ["worker_new_actor"]],
  ["commits: fsync", ["xSync"]],
  ["commits: the rest", ["vdbeCommit", "ActorSqlite::commitImpl"]],
  ["SQL: preparing statements", ["sqlite3LockAndPrepare", "sqlite3Prepare"]],
  ["SQL: running statements", ["sqlite3_step", "sqlite3VdbeExec"]],
  ["V8 garbage collection", ["v8::internal::Heap::", "Scavenger", "MarkCompactCollector"]],
];

/** The bucket of one sample of `perf script` (its frame lines, leaf first). */
function nativeBucket(frames) {
  const rule = NATIVE_BUCKETS.find(([, names]) => names.some((name) => frames.some((frame) => frame.includes(name))));
  if (rule) return rule[0];
  const leaf = frames[0] ?? "";
  if (/\bv8::|Builtins_|\[unknown\]|\(\/memfd:|perf-\d+\.map/.test(leaf))
    return "JavaScript and V8 (compiled code, interpreter, runtime calls)";
  if (leaf.includes("[kernel.kallsyms]")) return "kernel (other: network, scheduling, memory)";
  return "the rest of the runtime (HTTP, RPC, serialisation, allocation)";
}

/**
 * Records native samples (Linux perf, call graphs) of process `pid` while sections run:
 * `around(fn)` enables the recording for `fn` only (perf's control FIFO); `finish()` stops perf
 * and buckets the samples (NATIVE_BUCKETS). Needs `perf` and the right to trace `pid`.
 */
export async function startNativeProfiler(pid, dir) {
  fs.mkdirSync(dir, { recursive: true });
  const control = path.join(dir, `perf-${process.pid}.ctl`);
  const data = path.join(dir, `perf-${process.pid}.data`);
  fs.rmSync(control, { force: true });
  execFileSync("mkfifo", [control]);
  const perf = spawn("perf", ["record", "-F", "2000", "-g", "-p", String(pid), "-D", "-1", "--control", `fifo:${control}`, "-o", data], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  perf.stderr.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => perf.on("close", resolve));
  perf.on("error", (error) => (stderr += error.message));
  const opened = await Promise.race([
    fs.promises.open(control, "w"),
    exited.then(() => null),
    new Promise((resolve) => setTimeout(() => resolve(null), 10_000)),
  ]);
  if (opened === null) {
    perf.kill("SIGKILL");
    throw new Error(`perf record did not start: ${stderr.trim() || "no answer"} (is perf installed, may it trace pid ${pid}?)`);
  }
  return {
    /** Stops perf without reading its samples (the run failed). */
    abort: () => perf.kill("SIGKILL"),
    async around(fn) {
      await opened.write("enable\n");
      try {
        return await fn();
      } finally {
        await opened.write("disable\n");
      }
    },
    /** Stops perf and reads its samples: the share of each bucket, and the file it wrote. */
    async finish() {
      await opened.close();
      perf.kill("SIGINT");
      await exited;
      fs.rmSync(control, { force: true });
      const script = spawn("perf", ["script", "-i", data], { stdio: ["ignore", "pipe", "ignore"] });
      const counts = new Map();
      let total = 0;
      let stack = [];
      const settle = () => {
        if (stack.length === 0) return;
        total++;
        // The first line is the sample's header (command, pid, time, event); then frames, leaf first.
        const name = nativeBucket(stack.slice(1));
        counts.set(name, (counts.get(name) ?? 0) + 1);
        stack = [];
      };
      for await (const line of createInterface({ input: script.stdout })) {
        if (line.trim() === "") settle();
        else stack.push(line);
      }
      settle();
      return { samples: total, buckets: ranked(counts, total), data };
    },
  };
}
