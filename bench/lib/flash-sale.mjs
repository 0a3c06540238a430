// One flash sale: `shoppers` shoppers, `concurrency` in flight, each creating a cart and putting
// one unit of the hot SKU in it; then the stock is read back and checked.
import os from "node:os";
import { histogram, summary } from "./http.mjs";
import { Progress } from "./progress.mjs";

/**
 * Drives up to `shoppers` shoppers, `concurrency` at a time; no new shopper starts after
 * `maxSeconds` (the ones in flight finish). Resolves to raw counts and histograms.
 */
async function drive(client, engine, sku, shoppers, concurrency, maxSeconds, progress) {
  const latency = { create: histogram(), reserve: histogram(), granted: histogram(), refused: histogram() };
  const errors = {};
  const noteError = (step, answer) => {
    const key = `${step} ${answer.status === 0 ? answer.error : answer.status}${answer.body?.code ? ` ${answer.body.code}` : ""}`;
    errors[key] = (errors[key] ?? 0) + 1;
  };
  let next = 0;
  let done = 0;
  let granted = 0;
  let refused = 0;
  let requests = 0;
  let lastGrant = 0;
  const started = performance.now();
  const deadline = started + maxSeconds * 1000;
  const record = (h, ms) => h.recordValue(Math.max(1, Math.round(ms * 1000)));

  async function shopper() {
    while (next < shoppers && performance.now() < deadline) {
      next++;
      const created = await engine.createCart(client);
      requests++;
      if (!created.ok) {
        noteError("create", created.answer);
        done++;
        progress?.tick();
        continue;
      }
      record(latency.create, created.answer.ms);
      const { outcome, answer } = await engine.reserve(client, sku, created.cart);
      requests++;
      if (outcome === "error") {
        noteError("reserve", answer);
      } else {
        record(latency.reserve, answer.ms);
        record(latency[outcome], answer.ms);
        if (outcome === "granted") {
          granted++;
          lastGrant = performance.now();
        } else {
          refused++;
        }
      }
      done++;
      progress?.tick();
    }
  }
  await Promise.all(Array.from({ length: concurrency }, shopper));
  const elapsed = (performance.now() - started) / 1000;
  return { latency, errors, done, granted, refused, requests, elapsed, sellOut: lastGrant > 0 ? (lastGrant - started) / 1000 : null };
}

const round = (value, digits = 1) => (value === null || !Number.isFinite(value) ? null : Math.round(value * 10 ** digits) / 10 ** digits);

/**
 * Warms the engine up on its own SKU (not measured), runs the measured sale on a fresh hot SKU
 * with `stock` units and checks the outcome against the stock read back; then `solo` shoppers one
 * at a time on another SKU (every one granted) give the latency without queueing.
 */
export async function runFlashSale({ client, engineName, engine, runId, shoppers, concurrency, stock, warmup, maxSeconds, solo, dbRttMs }) {
  const label = dbRttMs ? `${engineName} +${dbRttMs}ms` : engineName;
  const tag = `${runId}-${engineName === "durable-object" ? "DO" : engineName === "noop" ? "NOOP" : "PG"}${dbRttMs ? `-RTT${dbRttMs}` : ""}`;
  if (warmup > 0) {
    const warmSku = `BENCH-WARM-${tag}`.toUpperCase();
    await engine.setup(client, warmSku, Math.ceil(warmup / 2));
    const progress = new Progress(`warm-up ${label}`, warmup);
    await drive(client, engine, warmSku, warmup, concurrency, Math.max(3, maxSeconds / 4), progress);
    progress.finish();
  }

  const sku = `BENCH-HOT-${tag}`.toUpperCase();
  await engine.setup(client, sku, stock);
  const loadBefore = os.loadavg();
  const progress = new Progress(label, shoppers);
  const raw = await drive(client, engine, sku, shoppers, concurrency, maxSeconds, progress);
  const loadAfter = os.loadavg();
  const errorCount = Object.values(raw.errors).reduce((a, b) => a + b, 0);
  progress.finish([raw.done < shoppers ? `stopped at ${maxSeconds} s` : "", errorCount > 0 ? `${errorCount} errors` : ""].filter(Boolean).join(", "));

  let unloaded = null;
  if (solo > 0) {
    const soloSku = `BENCH-SOLO-${tag}`.toUpperCase();
    await engine.setup(client, soloSku, solo);
    const soloProgress = new Progress(`one at a time ${label}`, solo);
    const alone = await drive(client, engine, soloSku, solo, 1, Infinity, soloProgress);
    soloProgress.finish();
    unloaded = { shoppers: solo, reserve: summary(alone.latency.reserve), create_cart: summary(alone.latency.create), errors: Object.values(alone.errors).reduce((a, b) => a + b, 0) };
  }

  const decided = raw.granted + raw.refused;
  const granted = summary(raw.latency.granted);
  const refused = summary(raw.latency.refused);
  const reserve = summary(raw.latency.reserve);
  const run = {
    engine: engineName,
    ...(engineName === "postgres-row-lock" ? { db_rtt_ms: dbRttMs ?? 0 } : {}),
    shoppers: raw.done,
    shoppers_planned: shoppers,
    concurrency,
    stock: engine.reserves ? stock : null,
    // Reservation attempts answered (granted or refused: both are correct answers) per second.
    reservations_per_s: round(decided / raw.elapsed),
    // Units granted per second, from the start until the last grant (the sell-out).
    granted_per_s: engine.reserves && raw.sellOut ? round(raw.granted / raw.sellOut) : null,
    requests_per_s: round(raw.requests / raw.elapsed),
    elapsed_s: round(raw.elapsed, 3),
    requests: raw.requests,
    granted: engine.reserves ? raw.granted : null,
    refused: engine.reserves ? raw.refused : null,
    errors: errorCount,
    error_kinds: raw.errors,
    // Latency of the reservation request (the second request): all answers, then by outcome.
    p50_ms: reserve.p50_ms,
    p99_ms: reserve.p99_ms,
    p999_ms: reserve.p999_ms,
    granted_p50_ms: engine.reserves ? granted.p50_ms : null,
    granted_p99_ms: engine.reserves ? granted.p99_ms : null,
    granted_p999_ms: engine.reserves ? granted.p999_ms : null,
    refused_p50_ms: engine.reserves ? refused.p50_ms : null,
    refused_p99_ms: engine.reserves ? refused.p99_ms : null,
    refused_p999_ms: engine.reserves ? refused.p999_ms : null,
    latency: { reserve, granted: engine.reserves ? granted : null, refused: engine.reserves ? refused : null, create_cart: summary(raw.latency.create) },
    // One shopper at a time: the latency of each request without queueing behind the others.
    unloaded_p50_ms: unloaded?.reserve.p50_ms ?? null,
    unloaded_p99_ms: unloaded?.reserve.p99_ms ?? null,
    unloaded,
    oversell: 0,
    load_avg: { before: loadBefore.map((l) => round(l, 2)), after: loadAfter.map((l) => round(l, 2)) },
  };
  if (!engine.reserves) return run;

  const final = await engine.readBack(client, sku);
  run.final = final;
  // Oversold units: granted beyond the stock, by the clients' count or by the server's.
  run.oversell = Math.max(0, raw.granted - stock, final.reserved - stock, -final.available);
  // The server's reserved units equal the grants the clients saw (a request that failed with an
  // error may have reserved without the client knowing: then this is false and errors > 0).
  run.stock_agrees = final.reserved === raw.granted && (final.lines === undefined || final.lines === raw.granted);
  // Stock conservation: granted + final available = initial stock (and the server's own books).
  run.conserved = raw.granted + final.available === stock && final.reserved + final.available === stock;
  // With more shoppers than units and no errors, every unit must have been sold.
  run.sold_out = raw.granted === Math.min(stock, raw.done);
  return run;
}
