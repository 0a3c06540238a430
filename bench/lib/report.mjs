// The machine a run happened on, the summaries of its runs (medians over rounds, ratios) and the
// Markdown rendering of a results document (bench/results/latest.md).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { root } from "../../scripts/lib/config.mjs";
import { median } from "./micro.mjs";
import { PHASES } from "./phases.mjs";

function packageVersion(name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, "node_modules", name, "package.json"), "utf8")).version;
  } catch {
    return null;
  }
}

function git(...args) {
  try {
    return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

/** Uncommitted changes (git status --porcelain), or null outside git. */
export function gitStatus() {
  return git("status", "--porcelain");
}

/** CPU, cores, versions, git commit and dirty flag, and the load average now. */
export function machine() {
  const cpus = os.cpus();
  const status = gitStatus();
  return {
    cpu_model: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    wrangler: packageVersion("wrangler"),
    workerd: packageVersion("workerd"),
    date: new Date().toISOString(),
    git_commit: git("rev-parse", "HEAD"),
    git_dirty: status === null ? null : status !== "",
    load_avg_start: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

const ENGINE_ORDER = ["noop", "durable-object", "bare-object", "pg-request", "pg-pooled", "pg-for-update"];
/** The engines of the hot SKU's comparison with the central database (phase a, every RTT). */
const inSweep = (engine) => engine === "durable-object" || engine.startsWith("pg-");
const round = (value, digits = 2) =>
  value === null || value === undefined || !Number.isFinite(value) ? null : Math.round(value * 10 ** digits) / 10 ** digits;
const spread = (values, digits = 1) => {
  const list = values.filter((v) => v !== null && v !== undefined && Number.isFinite(v));
  if (list.length === 0) return null;
  return {
    median: round(median(list), digits),
    min: round(Math.min(...list), digits),
    max: round(Math.max(...list), digits),
    n: list.length,
  };
};

/** Medians over rounds per (RTT, phase, engine), and the ratios the report leads with. */
export function summarize(runs) {
  const measured = runs.filter((run) => !run.failed);
  const key = (run) => `${run.rtt_ms}|${run.phase}|${run.engine}`;
  const groups = new Map();
  for (const run of measured) {
    if (!groups.has(key(run))) groups.set(key(run), []);
    groups.get(key(run)).push(run);
  }
  const cells = [...groups.values()].map((list) => ({
    rtt_ms: list[0].rtt_ms,
    phase: list[0].phase,
    engine: list[0].engine,
    rounds: list.length,
    ops_per_run: spread(
      list.map((r) => r.ops),
      0,
    ),
    ops_per_s: spread(list.map((r) => r.ops_per_s)),
    p50_ms: spread(
      list.map((r) => r.p50_ms),
      2,
    ),
    p99_ms: spread(
      list.map((r) => r.p99_ms),
      2,
    ),
    worker_cpu_ms_per_op: spread(
      list.map((r) => r.cpu_ms_per_op?.worker ?? null),
      2,
    ),
    granted: list.every((r) => r.granted === null) ? null : list.reduce((a, r) => a + (r.granted ?? 0), 0),
    refused: list.every((r) => r.refused === null) ? null : list.reduce((a, r) => a + (r.refused ?? 0), 0),
    errors: list.reduce((a, r) => a + r.errors, 0),
    oversell: Math.max(...list.map((r) => r.oversell)),
    conserved: list.every((r) => r.conserved === null) ? null : list.every((r) => r.conserved !== false),
  }));
  const find = (rtt, phase, engine, roundNo) =>
    measured.find((r) => r.rtt_ms === rtt && r.phase === phase && r.engine === engine && r.round === roundNo);
  /** Per-round ratio of a's rate to b's, then median and min–max over the rounds both ran. */
  const ratio = (rttA, phaseA, engineA, rttB, phaseB, engineB) => {
    const values = [];
    for (const a of measured.filter((r) => r.rtt_ms === rttA && r.phase === phaseA && r.engine === engineA)) {
      const b = find(rttB, phaseB, engineB, a.round);
      if (b && a.ops_per_s && b.ops_per_s) values.push(a.ops_per_s / b.ops_per_s);
    }
    return spread(values, 2);
  };
  const vsNoop = [];
  for (const cell of cells.filter((c) => c.rtt_ms === 0 && c.engine !== "noop")) {
    const r = ratio(0, cell.phase, cell.engine, 0, cell.phase, "noop");
    if (r) vsNoop.push({ phase: cell.phase, engine: cell.engine, ratio: r });
  }
  // edgecart against the bare design's floor (bench/worker/bare.ts), phase by phase.
  const doVsBare = [];
  for (const cell of cells.filter((c) => c.rtt_ms === 0 && c.engine === "bare-object")) {
    const r = ratio(0, cell.phase, "durable-object", 0, cell.phase, "bare-object");
    if (r) doVsBare.push({ phase: cell.phase, ratio: r });
  }
  const doVsPostgres = [];
  for (const cell of cells.filter((c) => c.engine.startsWith("pg-"))) {
    const r = ratio(cell.rtt_ms, cell.phase, "durable-object", cell.rtt_ms, cell.phase, cell.engine);
    if (r) doVsPostgres.push({ rtt_ms: cell.rtt_ms, phase: cell.phase, engine: cell.engine, ratio: r });
  }
  // The same figures nested: engines[engine][phase][rtt] = the median cell plus each round's run.
  const engines = {};
  for (const cell of cells) {
    const runsOf = measured
      .filter((r) => r.rtt_ms === cell.rtt_ms && r.phase === cell.phase && r.engine === cell.engine)
      .map((r) => ({
        round: r.round,
        ops: r.ops,
        ops_per_s: r.ops_per_s,
        reservations_per_s: r.reservations_per_s,
        p50_ms: r.p50_ms,
        p99_ms: r.p99_ms,
        oversell: r.oversell,
        errors: r.errors,
        conserved: r.conserved,
      }));
    engines[cell.engine] ??= {};
    engines[cell.engine][cell.phase] ??= {};
    engines[cell.engine][cell.phase][`rtt_${cell.rtt_ms}`] = { ...cell, runs: runsOf };
  }
  // Phase (a) at every simulated round trip: the hot SKU against each Postgres engine.
  const rttSweep = cells
    .filter((c) => c.phase === "reserve" && inSweep(c.engine))
    .sort((a, b) => a.rtt_ms - b.rtt_ms || ENGINE_ORDER.indexOf(a.engine) - ENGINE_ORDER.indexOf(b.engine))
    .map((c) => ({
      rtt_ms: c.rtt_ms,
      engine: c.engine,
      reservations_per_s: c.ops_per_s,
      p50_ms: c.p50_ms,
      p99_ms: c.p99_ms,
      oversell: c.oversell,
      durable_object_ratio:
        c.engine === "durable-object"
          ? null
          : (doVsPostgres.find((r) => r.rtt_ms === c.rtt_ms && r.phase === "reserve" && r.engine === c.engine)?.ratio ?? null),
    }));
  return {
    cells,
    engines,
    rtt_sweep: rttSweep,
    ratios: { vs_noop: vsNoop, durable_object_vs_bare: doVsBare, durable_object_vs_postgres: doVsPostgres },
  };
}

/** A figure to 3 significant digits or so: 2540, 586, 13.9, 5.64. */
function fmt(value) {
  if (value === null || value === undefined) return "–";
  const magnitude = Math.abs(value);
  return String(magnitude >= 100 ? Math.round(value) : magnitude >= 10 ? Math.round(value * 10) / 10 : Math.round(value * 100) / 100);
}
const range = (s, unit = "") => (s ? `${fmt(s.median)}${unit} (${fmt(s.min)}–${fmt(s.max)})` : "–");
const times = (s) => (s ? `**${s.median.toFixed(2)}×** (${s.min.toFixed(2)}–${s.max.toFixed(2)})` : "–");
const byEngine = (a, b) => ENGINE_ORDER.indexOf(a.engine) - ENGINE_ORDER.indexOf(b.engine);

/** Markdown for a results document. */
export function markdown(results) {
  const { machine: m, settings: s, summary, micro } = results;
  const lines = [];
  lines.push(`# edgecart bench (${s.mode})`, "");
  lines.push(
    `${m.date} · ${m.cpu_model}, ${m.cores} cores, ${m.memory_gib} GiB · ${m.os} · Node ${m.node} · wrangler ${m.wrangler} (workerd ${m.workerd}) · Postgres ${m.postgres ?? "?"} · ` +
      `commit ${m.git_commit?.slice(0, 12) ?? "?"}${m.git_dirty ? " + **uncommitted changes**" : ""}`,
  );
  lines.push(
    "",
    `Load average (1/5/15 min): ${m.load_avg_start.join(" / ")} at the start, ${m.load_avg_end?.join(" / ") ?? "?"} at the end, on ${m.cores} cores: other work on the machine shows here. Compare the ratios, which come from runs interleaved in the same rounds, not the absolute rates.`,
  );
  lines.push(
    "",
    `${s.concurrency} operations in flight; ${s.rounds} round(s), each running every engine of every phase one after the other (engine order rotated per round); figures are the median over rounds with (min–max). ` +
      `${s.calibrated ? `Operations per run: set per engine, phase and RTT by a calibration round (not reported) to last about ${s.seconds} s, at least ${2 * s.concurrency}.` : `Operations per run: ${s.ops}.`} ` +
      `Client: ${s.client_path}. Request logs: ${s.request_logs ? "on" : "off (BENCH_LOG=quiet)"}. wrangler's local observability collector: ${s.local_observability ? "on (--observability)" : "off (X_LOCAL_OBSERVABILITY=false)"}.${s.quiet_s ? ` Phase (b), whose engines make no objects, starts ${s.quiet_s} s after the last run that made or used objects (--quiet), once workerd has evicted them.` : ""}`,
  );

  lines.push("", "## Phases (no simulated round trip)", "");
  lines.push(
    "Worker CPU ms/op: CPU time of the Worker's workerd per operation (/proc, 10 ms ticks), Durable Objects included; Postgres's own CPU is not in it. When the runtime is the bottleneck, ÷ noop is about the inverse ratio of these.",
    "",
  );
  lines.push(
    "| phase | engine | operations/s | ÷ noop | p50 ms | p99 ms | Worker CPU ms/op | ops per run | granted / refused / errors | oversell | conserved |",
  );
  lines.push("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|:-:|");
  for (const phase of Object.keys(PHASES)) {
    for (const cell of summary.cells.filter((c) => c.rtt_ms === 0 && c.phase === phase).sort(byEngine)) {
      const r = summary.ratios.vs_noop.find((x) => x.phase === phase && x.engine === cell.engine);
      lines.push(
        `| ${PHASES[phase].label} | ${cell.engine} | ${range(cell.ops_per_s)} | ${cell.engine === "noop" ? "1" : times(r?.ratio)} | ${fmt(cell.p50_ms?.median)} | ${fmt(cell.p99_ms?.median)} | ${fmt(cell.worker_cpu_ms_per_op?.median)} | ${fmt(cell.ops_per_run?.median)} | ` +
          `${cell.granted === null ? `– / – / ${cell.errors}` : `${cell.granted} / ${cell.refused} / ${cell.errors}`} | ${cell.oversell} | ${cell.conserved === null ? "–" : cell.conserved ? "yes" : "**NO**"} |`,
      );
    }
  }
  const doNoop = summary.ratios.vs_noop.filter((r) => r.engine === "durable-object");
  if (doNoop.length > 0) {
    lines.push("", "durable-object ÷ noop, per phase (same requests per operation, same round):", "");
    for (const r of doNoop) lines.push(`- ${PHASES[r.phase].label}: ${times(r.ratio)}`);
  }
  const bare = summary.ratios.durable_object_vs_bare ?? [];
  if (bare.length > 0) {
    lines.push(
      "",
      "durable-object ÷ bare-object, per phase: edgecart against the runtime's floor for the same path (one object per cart, one RPC to the SKU's object, a commit in each, nothing else; bench/worker/bare.ts), same round:",
      "",
    );
    for (const r of bare) lines.push(`- ${PHASES[r.phase].label}: ${times(r.ratio)}`);
  }

  const sweep = summary.cells.filter((c) => PHASES[c.phase].swept && inSweep(c.engine));
  if (sweep.length > 0) {
    lines.push("", "## The hot SKU against the central database, by round trip", "");
    lines.push(
      "Phase (a). The simulated round trip (RTT) is paid by every round trip to Postgres, handshakes included, and by every call from a cart to the hot SKU's object (half before, half after the work).",
      "",
    );
    lines.push(
      "| RTT ms | engine | reservations/s | durable-object ÷ engine | p50 ms | p99 ms | Worker CPU ms/op | ops per run | granted / refused / errors | oversell | conserved |",
    );
    lines.push("|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|:-:|");
    const rtts = [...new Set(sweep.map((c) => c.rtt_ms))].sort((a, b) => a - b);
    for (const rtt of rtts) {
      for (const cell of sweep.filter((c) => c.rtt_ms === rtt && c.phase === "reserve").sort(byEngine)) {
        const r = summary.ratios.durable_object_vs_postgres.find(
          (x) => x.rtt_ms === rtt && x.phase === "reserve" && x.engine === cell.engine,
        );
        lines.push(
          `| ${rtt} | ${cell.engine} | ${range(cell.ops_per_s)} | ${cell.engine === "durable-object" ? "1" : times(r?.ratio)} | ${fmt(cell.p50_ms?.median)} | ${fmt(cell.p99_ms?.median)} | ${fmt(cell.worker_cpu_ms_per_op?.median)} | ${fmt(cell.ops_per_run?.median)} | ` +
            `${cell.granted} / ${cell.refused} / ${cell.errors} | ${cell.oversell} | ${cell.conserved ? "yes" : "**NO**"} |`,
        );
      }
    }
    const create = summary.ratios.durable_object_vs_postgres.filter((r) => r.phase === "create");
    if (create.length > 0) {
      lines.push(
        "",
        `Opening a cart (phase b, no round trip): ${create.map((r) => `durable-object ÷ ${r.engine} ${times(r.ratio)}`).join("; ")}.`,
      );
    }
  }

  if (micro?.ceiling) {
    lines.push("", "## One SKU object's ceiling", "");
    lines.push(
      "Concurrent `hold` RPCs from the bench Worker into ONE InventoryObject (1 unit each, fresh hold ids), each caller sending its next hold when the last is answered.",
      "",
    );
    lines.push("| concurrent callers | holds/s | p50 ms | p99 ms | holds per call | oversell |", "|--:|--:|--:|--:|--:|--:|");
    for (const c of Object.values(micro.ceiling)) {
      lines.push(
        `| ${c.callers} | ${fmt(c.holds_per_s)} (${fmt(c.min_holds_per_s)}–${fmt(c.max_holds_per_s)}) | ${fmt(c.p50_ms)} | ${fmt(c.p99_ms)} | ${c.holds} × ${c.repeats} | ${c.oversell} |`,
      );
    }
  }
  if (micro?.holds) {
    const h = micro.holds;
    lines.push("", "## Micro figures", "", "| figure | µs per hold, median (min–max) |", "|---|--:|");
    const row = (label, f) =>
      f && lines.push(`| ${label} (${f.holds} holds × ${f.repeats}) | ${fmt(f.us_per_hold)} (${fmt(f.min_us)}–${fmt(f.max_us)}) |`);
    row("one hold inside one InventoryObject, flushed (each write `storage.sync()`ed)", h.flushed);
    row("one hold inside one InventoryObject, batched (one flush at the end)", h.batched);
    row("one hold by RPC from the Worker, awaited one after the other", h.rpc);
  }
  if (micro?.bundle) {
    const b = micro.bundle;
    lines.push("", "## Production bundle", "");
    lines.push(
      `\`wrangler deploy --dry-run\` of the production wrangler.toml: ${b.modules.join(", ")}, ${(b.bytes / 1024).toFixed(1)} KiB, **gzip ${(b.gzip_bytes / 1024).toFixed(1)} KiB**.`,
    );
    if (b.contributors) {
      lines.push("", "| largest contributors (esbuild metafile) | KiB in the bundle | share |", "|---|--:|--:|");
      for (const c of b.contributors) lines.push(`| ${c.name} | ${(c.bytes / 1024).toFixed(1)} | ${c.share}% |`);
    }
  }
  if (results.problems?.length > 0) lines.push("", "## Problems", "", ...results.problems.map((p) => `- ${p}`));
  if (results.warnings?.length > 0) lines.push("", "## Warnings", "", ...results.warnings.map((w) => `- ${w}`));
  lines.push(
    "",
    `Reproduce: \`${s.command}\` (see docs/benchmarks.md). Engines: ${Object.entries(s.engines)
      .map(([name, text]) => `**${name}**: ${text}`)
      .join("; ")}.`,
    "",
  );
  return lines.join("\n");
}
