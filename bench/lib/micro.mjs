// Micro figures: holds timed inside one InventoryObject, CPU per request of the Worker's runtime,
// order-archival throughput into Postgres, and the deployable bundle's size.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { root } from "../../scripts/lib/config.mjs";
import { createStockedSku } from "./engines.mjs";
import { Progress } from "./progress.mjs";
import { cpuMs } from "./server.mjs";

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const round = (value, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * µs per one-unit hold on a fresh SKU object, `repeats` times per mode: `batched` (inside the
 * object, one flush for all), `flushed` (inside the object, each write flushed before the next)
 * and `rpc` (the Worker awaits one hold call after the other, as a cart does). The time is the
 * object's (or the Worker's) clock: wall time, so it grows with the machine's load; with `pids`,
 * the Worker runtime's CPU time per hold is measured too, which load inflates much less.
 */
export async function holds(client, runId, counts, repeats, pids) {
  const result = {};
  for (const [mode, count] of Object.entries(counts)) {
    const sku = `BENCH-MICRO-${runId}-${mode}`.toUpperCase();
    await createStockedSku(client, sku, count * repeats);
    const samples = [];
    const cpuSamples = [];
    const runtimeCpu = () => (pids ? pids.runtime.reduce((total, pid) => total + (cpuMs(pid) ?? NaN), 0) : NaN);
    const progress = new Progress(`holds ${mode} x${count}`, repeats);
    for (let i = 0; i < repeats; i++) {
      const before = runtimeCpu();
      const timing = await client.adminCall("POST", `/bench/inventory/${sku}/holds`, { count, mode });
      const cpu = runtimeCpu() - before;
      if (timing.granted !== count) throw new Error(`holds ${mode}: ${timing.granted} of ${count} granted`);
      samples.push(timing.us_per_hold);
      if (Number.isFinite(cpu)) cpuSamples.push((cpu * 1000) / count);
      progress.tick();
    }
    progress.finish();
    const inventory = await client.adminCall("GET", `/v1/admin/inventory/${sku}`);
    if (inventory.reserved !== count * repeats) throw new Error(`holds ${mode}: ${inventory.reserved} reserved, expected ${count * repeats}`);
    result[mode] = {
      holds: count,
      repeats,
      us_per_hold: round(median(samples)),
      samples_us: samples.map((s) => round(s)),
      // The request's own cost (HTTP, routing) is in here too: small against many holds.
      cpu_us_per_hold: cpuSamples.length > 0 ? round(median(cpuSamples)) : null,
    };
  }
  return result;
}

/** Runs `n` requests made by `make(i)`, `concurrency` at a time; throws on an unexpected status. */
async function many(client, n, concurrency, expected, make) {
  let next = 0;
  const answers = new Array(n);
  async function worker() {
    while (next < n) {
      const i = next++;
      const [method, url, options] = make(i);
      const answer = await client.request(method, url, options);
      if (answer.status !== expected) throw new Error(`${method} ${url}: ${answer.status} ${JSON.stringify(answer.body ?? answer.error)}`);
      answers[i] = answer;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return answers;
}

/**
 * CPU ms per request of the local runtime: utime + stime of the workerd processes (the Worker's
 * runtime, and wrangler's dev proxy next to it, which also relays the runtime's console to
 * wrangler) before and after `n` requests, over `n`. wrangler's own Node process (it prints the
 * Worker's log lines) is reported apart. With `proxyClient`, the noop is also measured through
 * wrangler's dev proxy, to show what it costs.
 */
export async function cpuPerRequest(client, proxyClient, pids, runId, n, concurrency = 8) {
  const sum = (list) => list.reduce((total, pid) => total + (cpuMs(pid) ?? NaN), 0);
  const measure = async (label, run) => {
    await new Promise((resolve) => setTimeout(resolve, 500)); // let background work (alarms, queues) settle
    const before = { runtime: sum(pids.runtime), proxy: sum(pids.proxy), wrangler: sum(pids.wrangler) };
    const started = performance.now();
    await run();
    const wall = performance.now() - started;
    const after = { runtime: sum(pids.runtime), proxy: sum(pids.proxy), wrangler: sum(pids.wrangler) };
    const per = (key) => round((after[key] - before[key]) / n, 3);
    const figures = { requests: n, cpu_ms_per_request: round((after.runtime + after.proxy - before.runtime - before.proxy) / n, 3), runtime_ms: per("runtime"), dev_proxy_ms: per("proxy"), wrangler_node_ms: per("wrangler"), wall_ms_per_request: round(wall / n, 3) };
    return [label, figures];
  };

  const sku = `BENCH-CPU-${runId}`.toUpperCase();
  const productId = await createStockedSku(client, sku, n + 10);
  // Warm the catalog path (KV) and the SKU's object.
  await many(client, 20, 4, 200, () => ["GET", `/v1/products/${productId}`]);
  await client.adminCall("PUT", `/bench/pg/stock/${sku}`, { available: n + 10 });
  const progress = new Progress(`cpu per request x${n}`, proxyClient ? 7 : 6);
  const results = [];
  results.push(await measure("noop", () => many(client, n, concurrency, 204, () => ["POST", "/bench/noop", { body: {} }])));
  progress.tick();
  if (proxyClient) {
    results.push(await measure("noop_via_dev_proxy", () => many(proxyClient, n, concurrency, 204, () => ["POST", "/bench/noop", { body: {} }])));
    progress.tick();
  }
  results.push(await measure("catalog_read", () => many(client, n, concurrency, 200, () => ["GET", `/v1/products/${productId}`])));
  progress.tick();
  let carts;
  results.push(
    await measure("create_cart", async () => {
      carts = await many(client, n, concurrency, 201, () => ["POST", "/v1/carts", { body: {} }]);
    }),
  );
  progress.tick();
  results.push(
    await measure("add_to_cart", () =>
      many(client, n, concurrency, 200, (i) => ["PUT", `/v1/carts/${carts[i].body.id}/items/${sku}`, { body: { quantity: 1 }, headers: { authorization: `Bearer ${carts[i].body.token}` } }]),
    ),
  );
  progress.tick();
  // The central-database design's two requests, for comparison (Postgres's own CPU not included).
  let pgCarts;
  results.push(
    await measure("pg_create_cart", async () => {
      pgCarts = await many(client, n, concurrency, 201, () => ["POST", "/bench/pg/carts", { body: {} }]);
    }),
  );
  progress.tick();
  results.push(
    await measure("pg_reserve", () =>
      many(client, n, concurrency, 200, (i) => ["PUT", `/bench/pg/carts/${pgCarts[i].body.id}/items/${sku}`, { body: { quantity: 1 }, headers: { authorization: `Bearer ${pgCarts[i].body.token}` } }]),
    ),
  );
  progress.finish();
  return Object.fromEntries(results);
}

/** Orders/s through the archival consumer (POST /bench/archive: consumeOrders into Postgres). */
export async function archival(client, count, batchSize = 50) {
  const progress = new Progress(`archival x${count}`, 1);
  const result = await client.adminCall("POST", "/bench/archive", { count, batch_size: batchSize });
  progress.finish();
  if (result.acked !== count || result.retried !== 0) throw new Error(`archival: ${result.acked} acked, ${result.retried} retried of ${count}`);
  return { orders: count, batch_size: batchSize, batches: result.batches, elapsed_ms: round(result.elapsed_ms), orders_per_s: round(result.orders_per_s) };
}

/**
 * Size of the deployable bundle: `wrangler deploy --dry-run --outdir` into a temp folder, then
 * gzip of the modules (as wrangler measures it: their concatenation, zlib's default level).
 */
export function bundleSize() {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "edgecart-bundle-"));
  try {
    const run = spawnSync(process.execPath, [path.join(root, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", outdir], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", DO_NOT_TRACK: "1", CLOUDFLARE_CF_FETCH_ENABLED: "false", FORCE_COLOR: "0" },
    });
    if (run.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${run.stdout}\n${run.stderr}`);
    const modules = fs.readdirSync(outdir).filter((name) => /\.(m?js|cjs|wasm)$/.test(name)).sort();
    const content = Buffer.concat(modules.map((name) => fs.readFileSync(path.join(outdir, name))));
    const line = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(run.stdout);
    return {
      modules,
      bytes: content.length,
      gzip_bytes: zlib.gzipSync(content).length,
      wrangler_report: line ? `${line[1]} KiB / gzip: ${line[2]} KiB` : null,
    };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}
