// The phases: what one operation is, what is prepared before the clock starts, and how the
// outcome is checked against the stock read back. Every run of a phase uses fresh SKUs (and, for
// the central-database engines, fresh rows) named after the run, so runs never share state.
import os from "node:os";
import { histogram, summary } from "./http.mjs";

/** Phases (a) and (d) prepare and time their carts in chunks of this many × the concurrency. */
const CHUNK_FACTOR = 8;
/** Phase (f) leaves its carts idle this long first: workerd evicts an object idle for about 10 s. */
const COLD_IDLE_S = 15;

export const PHASES = {
  reserve: {
    label: "(a) reservations only",
    describe: `carts are made before the clock starts, in chunks of ${CHUNK_FACTOR} × the concurrency, each chunk just before its operations (only those are timed): a row for the central-database engines; for durable-object, a cart opened and then given its destination (PUT ship-to), the first change, which creates its CartObject (opening a cart creates none), so the object exists and is warm; for bare-object, its first change (PUT /bench/bare/carts/{id}). One operation puts 1 unit of the hot SKU in one of them (PUT item). The hot SKU has half as many units as operations: every engine sells out half-way and refuses the rest. A first add that also creates the cart's object is phase (e)`,
    requestsPerOp: 1,
    engines: ["noop", "durable-object", "bare-object", "pg-request", "pg-pooled", "pg-for-update"],
    swept: true,
    chunked: true,
  },
  create: {
    label: "(b) open a cart",
    describe: "one operation opens a cart (POST)",
    requestsPerOp: 1,
    engines: ["noop", "durable-object", "bare-object", "pg-request", "pg-pooled"],
    // No engine of this phase makes or uses an object: it starts once the objects of the runs
    // before it are evicted (bench/run.mjs, --quiet).
    objectFree: true,
  },
  shopper: {
    label: "(c) the whole shopper",
    describe:
      "one operation is a shopper from start to paid order, in series: open a cart, put 1 unit of a SKU in it (enough stock for every shopper), check out (Idempotency-Key), and the payment provider's signed payment.succeeded webhook (POST /v1/webhooks/payments)",
    requestsPerOp: 4,
    engines: ["noop", "durable-object"],
  },
  "second-line": {
    label: "(d) a second line on an existing cart",
    describe: `carts holding 1 unit of one SKU are prepared in chunks of ${CHUNK_FACTOR} × the concurrency, each chunk just before its operations (only those are timed), so every cart's object is warm (workerd evicts an object idle for about 10 s); one operation adds 1 unit of a second, hot SKU (half as many units as operations). The noop runs in the same chunks`,
    requestsPerOp: 1,
    engines: ["noop", "durable-object", "bare-object"],
    chunked: true,
  },
  "new-shopper": {
    label: "(e) a new shopper",
    describe: "one operation opens a cart, then puts 1 unit of the hot SKU in it, in series (half as many units as operations)",
    requestsPerOp: 2,
    engines: ["noop", "durable-object", "bare-object"],
  },
  "second-cold": {
    label: "(f) a second line on an evicted cart object",
    describe: `as (d), but every cart is prepared first and left idle for ${COLD_IDLE_S} s before the clock starts: workerd has evicted each cart's object, so every operation starts the object again and reopens its SQLite database`,
    requestsPerOp: 1,
    engines: ["noop", "durable-object", "bare-object"],
    idleSeconds: COLD_IDLE_S,
  },
};

export const PHASE_NAMES = Object.keys(PHASES);

/** Runs `make(i)` for i < n, `concurrency` at a time; resolves to the answers in order. */
async function many(n, concurrency, make) {
  let next = 0;
  const answers = new Array(n);
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) {
        const i = next++;
        answers[i] = await make(i);
      }
    }),
  );
  return answers;
}

const round = (value, digits = 1) =>
  value === null || value === undefined || !Number.isFinite(value) ? null : Math.round(value * 10 ** digits) / 10 ** digits;
const errorKey = (step, answer) =>
  `${step} ${answer.status === 0 ? answer.error : answer.status}${answer.body?.code ? ` ${answer.body.code}` : ""}`;

/**
 * Prepares and runs one phase for one engine: `ops` operations, `concurrency` in flight. Resolves
 * to the run's figures and checks. Throws when the preparation fails (nothing was measured).
 */
export async function runPhase({ client, phase, engineName, engine, ops, concurrency, rttMs, tag, webhookSecret, progress, cpu }) {
  const spec = PHASES[phase];
  const sku = (suffix) => `B-${tag}-${suffix}`.toUpperCase();
  let hot = null;
  let stock = null;
  /** @type {(i: number) => Promise<{ outcome: "granted" | "refused" | "done" | "error", step?: string, answer?: any }>} */
  let op;
  /** Prepares what operations from..to-1 need (untimed); the phases with carts set it. */
  let prepare = async (_from, _to) => {};

  if (engine.kind === "noop") {
    op = async () => {
      for (let r = 0; r < spec.requestsPerOp; r++) {
        const answer = await client.request("GET", "/health");
        if (answer.status !== 200) return { outcome: "error", step: "health", answer };
      }
      return { outcome: "done" };
    };
  } else if (phase === "create") {
    op = async () => {
      const created = await engine.createCart(client);
      return created.ok ? { outcome: "done" } : { outcome: "error", step: "create", answer: created.answer };
    };
  } else if (phase === "shopper") {
    if (!engine.checkout) throw new Error(`${engineName} has no checkout: the whole-shopper phase is edgecart's flow only`);
    hot = sku("ITEM");
    stock = ops;
    await engine.setupSku(client, hot, stock, 0);
    op = async () => {
      const created = await engine.createCart(client);
      if (!created.ok) return { outcome: "error", step: "create", answer: created.answer };
      const added = await engine.reserve(client, created.cart, hot);
      if (added.outcome !== "granted") return { outcome: "error", step: "add", answer: added.answer };
      const order = await engine.checkout(client, created.cart);
      if (order.status !== 201) return { outcome: "error", step: "checkout", answer: order };
      const paid = await engine.pay(client, order.body, webhookSecret);
      if (paid.status !== 204) return { outcome: "error", step: "pay", answer: paid };
      return { outcome: "done" };
    };
  } else {
    hot = sku("HOT");
    stock = Math.floor(ops / 2);
    await engine.setupSku(client, hot, stock, rttMs);
    let carts = null;
    if (phase === "reserve" || phase === "second-line" || phase === "second-cold") {
      let first = null;
      if (phase !== "reserve") {
        first = sku("FIRST");
        await engine.setupSku(client, first, ops, rttMs);
      }
      carts = new Array(ops);
      const failed = (step, answer) =>
        new Error(`preparing ${phase}/${engineName}: ${step} ${answer.status} ${JSON.stringify(answer.body ?? answer.error)}`);
      prepare = (from, to) =>
        many(to - from, concurrency, async (k) => {
          const created = await engine.createCart(client);
          if (!created.ok) throw failed("create cart", created.answer);
          if (first !== null) {
            const line = await engine.reserve(client, created.cart, first);
            if (line.outcome !== "granted") throw failed("first line", line.answer);
          } else if (engine.makeCart !== undefined) {
            // (a): the cart exists before the clock starts (its object, for durable-object).
            const changed = await engine.makeCart(client, created.cart);
            if (!changed.ok) throw failed("first change", changed.answer);
          }
          carts[from + k] = created.cart;
        });
    }
    op = async (i) => {
      let cart;
      if (carts !== null) cart = carts[i];
      else {
        const created = await engine.createCart(client);
        if (!created.ok) return { outcome: "error", step: "create", answer: created.answer };
        cart = created.cart;
      }
      const { outcome, answer } = await engine.reserve(client, cart, hot);
      return outcome === "error" ? { outcome, step: "add", answer } : { outcome };
    };
  }

  // ---- the measured part ----
  const latency = histogram();
  const counts = { granted: 0, refused: 0, done: 0, error: 0 };
  const errorKinds = {};
  const loadBefore = os.loadavg()[0];
  // CPU time of the Worker's workerd (and of wrangler's dev proxy and Node, which should stay
  // near 0 with the load straight to workerd and quiet logs) over the timed operations, from /proc:
  // 10 ms ticks, so coarse for short runs. Postgres's and the proxies' own CPU is not in it.
  const cpuUsed = {};
  // Operations from..to-1, timed: resolves to the seconds taken.
  const timed = async (from, to) => {
    const cpuBefore = cpu?.();
    const started = performance.now();
    await many(to - from, concurrency, async (k) => {
      const t = performance.now();
      const result = await op(from + k);
      const ms = performance.now() - t;
      counts[result.outcome]++;
      if (result.outcome === "error") {
        const key = errorKey(result.step, result.answer);
        errorKinds[key] = (errorKinds[key] ?? 0) + 1;
      } else {
        latency.recordValue(Math.max(1, Math.round(ms * 1000)));
      }
      progress?.tick();
    });
    const seconds = (performance.now() - started) / 1000;
    const cpuAfter = cpu?.();
    if (cpuBefore && cpuAfter)
      for (const key of Object.keys(cpuAfter)) cpuUsed[key] = (cpuUsed[key] ?? 0) + (cpuAfter[key] - cpuBefore[key]);
    return seconds;
  };
  // Untimed preparation (all of it, or chunk by chunk), then the timed operations.
  const chunk = spec.chunked ? CHUNK_FACTOR * concurrency : ops;
  let elapsed = 0;
  for (let from = 0; from < ops; from += chunk) {
    const to = Math.min(ops, from + chunk);
    await prepare(from, to);
    if (spec.idleSeconds) await new Promise((resolve) => setTimeout(resolve, spec.idleSeconds * 1000));
    elapsed += await timed(from, to);
  }
  const loadAfter = os.loadavg()[0];
  const perOp = (key) => (cpuUsed[key] !== undefined ? round(cpuUsed[key] / Math.max(1, ops), 2) : null);

  const answered = counts.granted + counts.refused + counts.done;
  const lat = summary(latency);
  const reserves = hot !== null && phase !== "shopper" && engine.kind !== "noop";
  const run = {
    phase,
    engine: engineName,
    rtt_ms: rttMs,
    ops,
    concurrency,
    elapsed_s: round(elapsed, 3),
    ops_per_s: round(answered / elapsed),
    reservations_per_s: reserves ? round((counts.granted + counts.refused) / elapsed) : null,
    requests_per_s: round((answered * spec.requestsPerOp) / elapsed),
    p50_ms: lat.p50_ms,
    p99_ms: lat.p99_ms,
    p999_ms: lat.p999_ms,
    mean_ms: lat.mean_ms,
    cpu_ms_per_op: cpu ? { worker: perOp("runtime"), dev_proxy: perOp("proxy"), wrangler: perOp("wrangler") } : null,
    granted: reserves ? counts.granted : null,
    refused: reserves ? counts.refused : null,
    completed: reserves ? null : counts.done,
    errors: counts.error,
    error_kinds: errorKinds,
    stock,
    oversell: 0,
    load_1min: { before: round(loadBefore, 2), after: round(loadAfter, 2) },
  };
  if (hot === null) {
    run.conserved = null;
    return run;
  }
  const final = await engine.readBack(client, hot);
  run.final = final;
  if (phase === "shopper") {
    // Every paid order committed its unit: on_hand fell by the shoppers paid, nothing stays held.
    const paid = counts.done;
    run.oversell = Math.max(0, paid - stock, -final.available);
    run.conserved = final.on_hand + paid === stock && final.reserved === 0;
    run.stock_agrees = run.conserved;
    run.sold_out = null;
  } else {
    run.oversell = Math.max(0, counts.granted - stock, final.reserved - stock, -final.available);
    // The server's reserved units equal the grants the client saw (an operation that failed with
    // an error may have reserved without the client knowing: then errors > 0 explains it).
    run.stock_agrees = final.reserved === counts.granted && (final.lines === undefined || final.lines === counts.granted);
    run.conserved = counts.granted + final.available === stock && final.reserved + final.available === stock;
    // Twice as many operations as units: without errors, every unit is sold.
    run.sold_out = counts.granted === Math.min(stock, counts.granted + counts.refused);
  }
  return run;
}
