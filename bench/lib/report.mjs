// The machine a run happened on, and the Markdown rendering of a results document.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { root } from "../../scripts/lib/config.mjs";

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

/** CPU, cores, versions, git commit and the load average now. */
export function machine() {
  const cpus = os.cpus();
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
    git_dirty: (git("status", "--porcelain") ?? "") !== "",
    load_avg_start: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** A figure to 3 significant digits or so: 2540, 586, 13.9, 5.64. */
function fmt(value) {
  if (value === null || value === undefined) return "–";
  const magnitude = Math.abs(value);
  return String(magnitude >= 100 ? Math.round(value) : magnitude >= 10 ? Math.round(value * 10) / 10 : Math.round(value * 100) / 100);
}
const dash = (value, unit = "") => (value === null || value === undefined ? "–" : `${fmt(value)}${unit}`);
const triple = (a, b, c) => (a === null || a === undefined ? "–" : `${fmt(a)} / ${fmt(b)} / ${fmt(c)}`);
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}×` : "–");
const label = (run) => (run.engine === "postgres-row-lock" && run.db_rtt_ms ? `${run.engine} (+${run.db_rtt_ms} ms RTT)` : run.engine);

/** Markdown for a results document (bench/results/latest.md). */
export function markdown(results) {
  const { machine: m, settings: s, runs, micro } = results;
  const lines = [];
  lines.push(`# edgecart bench: the flash sale (${s.mode})`, "");
  lines.push(
    `${m.date} · ${m.cpu_model}, ${m.cores} cores, ${m.memory_gib} GiB · ${m.os} · Node ${m.node} · wrangler ${m.wrangler} (workerd ${m.workerd}) · Postgres ${m.postgres ?? "?"} · ` +
      `commit ${m.git_commit?.slice(0, 12) ?? "?"}${m.git_dirty ? " + uncommitted changes" : ""}`,
  );
  lines.push("", `Load average (1/5/15 min): ${m.load_avg_start.join(" / ")} at the start, ${m.load_avg_end?.join(" / ") ?? "?"} at the end (${m.cores} cores; other work on the machine shows here).`);
  lines.push(
    "",
    `Up to ${s.shoppers} shoppers per engine${s.max_seconds_per_engine ? ` (none started after ${s.max_seconds_per_engine} s)` : ""}, ${s.concurrency} in flight, ${s.stock} units of one hot SKU; ` +
      `each shopper creates a cart, then puts 1 unit in it. Warm-up: ${s.warmup} shoppers per engine on another SKU; afterwards ${s.solo} shoppers one at a time. ` +
      `Target: ${s.target}; client ${s.client_path}.`,
  );
  lines.push("");
  lines.push(
    "| engine | shoppers | reservations/s | requests/s | granted / refused / errors | reservation p50 / p99 / p99.9 ms | granted p50 / p99 / p99.9 ms | refused p50 / p99 / p99.9 ms | one at a time p50 / p99 ms | oversell | conserved | load 1 min |",
  );
  lines.push("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|--:|");
  for (const run of runs) {
    lines.push(
      `| ${label(run)} | ${run.shoppers} | ${dash(run.reservations_per_s)} | ${dash(run.requests_per_s)} | ${run.granted === null ? `– / – / ${run.errors}` : `${run.granted} / ${run.refused} / ${run.errors}`} | ` +
        `${triple(run.p50_ms, run.p99_ms, run.p999_ms)} | ${triple(run.granted_p50_ms, run.granted_p99_ms, run.granted_p999_ms)} | ${triple(run.refused_p50_ms, run.refused_p99_ms, run.refused_p999_ms)} | ` +
        `${run.unloaded_p50_ms === null ? "–" : `${fmt(run.unloaded_p50_ms)} / ${fmt(run.unloaded_p99_ms)}`} | ${run.oversell} | ${run.conserved === undefined ? "–" : run.conserved ? "yes" : "**NO**"} | ${run.load_avg.after[0]} |`,
    );
  }
  const find = (engine, rtt = 0) => runs.find((run) => run.engine === engine && (run.db_rtt_ms ?? 0) === rtt);
  const durable = find("durable-object");
  const postgres = find("postgres-row-lock");
  const noop = find("noop");
  const remote = runs.find((run) => run.engine === "postgres-row-lock" && run.db_rtt_ms);
  lines.push("");
  if (durable && postgres) {
    lines.push(
      `- durable-object ÷ postgres-row-lock: **${ratio(durable.reservations_per_s, postgres.reservations_per_s)}** reservations/s; reservation p99 ${fmt(durable.p99_ms)} ms vs ${fmt(postgres.p99_ms)} ms (p50 ${fmt(durable.p50_ms)} vs ${fmt(postgres.p50_ms)} ms); one at a time p50 ${fmt(durable.unloaded_p50_ms)} vs ${fmt(postgres.unloaded_p50_ms)} ms.`,
    );
  }
  if (durable && remote) {
    lines.push(
      `- durable-object ÷ postgres-row-lock with ${remote.db_rtt_ms} ms to the database: **${ratio(durable.reservations_per_s, remote.reservations_per_s)}** reservations/s; p99 ${fmt(durable.p99_ms)} ms vs ${fmt(remote.p99_ms)} ms (p50 ${fmt(durable.p50_ms)} vs ${fmt(remote.p50_ms)} ms); one at a time p50 ${fmt(durable.unloaded_p50_ms)} vs ${fmt(remote.unloaded_p50_ms)} ms.`,
    );
  }
  if (durable && noop) {
    lines.push(`- durable-object ÷ noop: **${ratio(durable.reservations_per_s, noop.reservations_per_s)}** of the runtime's HTTP ceiling; p99 ${fmt(durable.p99_ms)} ms vs ${fmt(noop.p99_ms)} ms.`);
  }
  lines.push(
    "",
    "reservations/s: reservation requests answered per second, granted or refused (a refusal is a correct answer); errors excluded. " +
      "Latencies are of the reservation request (the second request), measured by the client; with every connection busy they are mostly queueing (p50 ≈ in flight ÷ shoppers/s), " +
      "so the one-at-a-time column shows the cost of one request alone. " +
      "oversell: units granted beyond the stock (clients' count or the server's, read back). conserved: granted + final available = initial stock, and the server's reserved + available = initial stock.",
  );

  if (micro && Object.keys(micro).length > 0) {
    lines.push("", "## Micro figures", "", "| figure | value |", "|---|--:|");
    const h = micro.holds;
    if (h) {
      const cpu = (m) => (m.cpu_us_per_hold === null ? "" : ` (CPU ${fmt(m.cpu_us_per_hold)} µs)`);
      if (h.batched) lines.push(`| hold inside one InventoryObject, batched (${h.batched.holds} holds, one flush), wall time | ${fmt(h.batched.us_per_hold)} µs${cpu(h.batched)} |`);
      if (h.flushed) lines.push(`| hold inside one InventoryObject, each write flushed (${h.flushed.holds} holds), wall time | ${fmt(h.flushed.us_per_hold)} µs${cpu(h.flushed)} |`);
      if (h.rpc) lines.push(`| hold by RPC from the Worker, ${h.rpc.holds} awaited calls (each flushed), wall time | ${fmt(h.rpc.us_per_hold)} µs${cpu(h.rpc)} |`);
    }
    const cpu = micro.cpu;
    if (cpu?.skipped) lines.push(`| CPU per request | skipped: ${cpu.skipped} |`);
    else if (cpu) {
      const row = (name, f) => lines.push(`| CPU per request, ${name} (${f.requests} requests) | ${fmt(f.cpu_ms_per_request)} ms (Worker runtime ${fmt(f.runtime_ms)} + dev proxy ${fmt(f.dev_proxy_ms)}; wrangler's Node ${fmt(f.wrangler_node_ms)} more) |`);
      if (cpu.noop) row("noop POST /bench/noop", cpu.noop);
      if (cpu.noop_via_dev_proxy) row("noop through wrangler's dev proxy", cpu.noop_via_dev_proxy);
      if (cpu.catalog_read) row("catalog read GET /v1/products/{id}", cpu.catalog_read);
      if (cpu.create_cart) row("create cart POST /v1/carts", cpu.create_cart);
      if (cpu.add_to_cart) row("add to cart PUT /v1/carts/{id}/items/{sku}", cpu.add_to_cart);
      if (cpu.pg_create_cart) row("postgres-row-lock create cart (without Postgres's own CPU)", cpu.pg_create_cart);
      if (cpu.pg_reserve) row("postgres-row-lock reserve (without Postgres's own CPU)", cpu.pg_reserve);
    }
    if (micro.archival) lines.push(`| archival into Postgres (consumeOrders, ${micro.archival.orders} orders in batches of ${micro.archival.batch_size}) | ${fmt(micro.archival.orders_per_s)} orders/s |`);
    if (micro.bundle) lines.push(`| deployable bundle (${micro.bundle.modules.join(", ")}) | ${(micro.bundle.bytes / 1024).toFixed(1)} KiB, gzip ${(micro.bundle.gzip_bytes / 1024).toFixed(1)} KiB |`);
  }
  if (results.problems?.length > 0) lines.push("", "## Problems", "", ...results.problems.map((p) => `- ${p}`));
  if (results.warnings?.length > 0) lines.push("", "## Warnings", "", ...results.warnings.map((w) => `- ${w}`));
  lines.push("", `Reproduce: \`${s.command}\` (see docs/benchmarks.md).`, "");
  return lines.join("\n");
}

/** Puts the latest table into docs/benchmarks.md, between its `latest` markers. */
export function updateDocs(text) {
  const docs = path.join(root, "docs/benchmarks.md");
  if (!fs.existsSync(docs)) return;
  const current = fs.readFileSync(docs, "utf8");
  const start = "<!-- latest: bench/results/latest.md -->\n";
  const end = "<!-- /latest -->";
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  if (from < 0 || to < from) return;
  // The file's own title becomes a paragraph: the docs have their own headings.
  const body = text.replace(/^# (.*)\n/, "**$1**\n").replace(/^## /gm, "### ");
  fs.writeFileSync(docs, `${current.slice(0, from + start.length)}${body.trimEnd()}\n${current.slice(to)}`);
}
