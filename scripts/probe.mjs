// npm run probe [-- --seconds 5 --concurrency 64 --rounds 3 --url URL]
// A storefront's view of the hot path, against a running edgecart (npm run dev with
// RATE_LIMITS=off): the rate of each phase, with `concurrency` requests in flight, divided by the
// rate of GET /health measured in the same rounds (the runtime's own ceiling on this machine).
// Phases, interleaved in every round:
//   health        GET /health
//   open          POST /v1/carts
//   new shopper   POST /v1/carts, then PUT one unit of a hot SKU (in series, per shopper)
//   second line   PUT a second SKU on a cart that already holds one line, its object warm: carts
//                 are made in batches just before their second lines, and only the second lines
//                 are timed
//   second cold   the same on carts left idle for COLD_IDLE_S first: workerd has evicted their
//                 objects (after about 10 s without a request), so each change opens the object's
//                 database again
// The SKUs are made for the run (a product of its own, archived at the end) with stock enough
// for every hold, so nothing is refused. Prints medians of the rounds with min–max.
import { baseUrl, flag, setting } from "./lib/config.mjs";

const argv = process.argv.slice(2);
const url = baseUrl(argv);
const seconds = Number(flag(argv, "seconds") ?? 5);
const concurrency = Number(flag(argv, "concurrency") ?? 64);
const rounds = Number(flag(argv, "rounds") ?? 3);
const admin = { authorization: `Bearer ${setting("ADMIN_TOKEN")}` };

async function send(method, path, body, headers = {}) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path} → ${response.status} ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : null;
}

/**
 * Runs `once` with `concurrency` in flight for `seconds` (or until `once` answers false: nothing
 * left to do); operations per second.
 */
async function rate(once) {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        if ((await once()) === false) return;
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

/** How long carts sit idle before the cold phase (workerd evicts an idle object after about 10 s). */
const COLD_IDLE_S = 15;

/** Opens `n` carts with one unit of `sku` each, `concurrency` at a time. */
async function cartsWithLine(n, sku) {
  const made = [];
  let started = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < n) {
        started++;
        const c = await cart();
        await send("PUT", `/v1/carts/${c.id}/items/${sku}`, { quantity: 1 }, holder(c));
        made.push(c);
      }
    }),
  );
  return made;
}

/** Second lines (of `sku`) on `carts`, `concurrency` in flight: operations and seconds taken. */
async function secondLines(carts, sku) {
  const started = performance.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let c = carts.pop(); c !== undefined; c = carts.pop()) {
        await send("PUT", `/v1/carts/${c.id}/items/${sku}`, { quantity: 1 }, holder(c));
        done++;
      }
    }),
  );
  return { done, seconds: (performance.now() - started) / 1000 };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cart = () => send("POST", "/v1/carts", {});
const holder = (c) => ({ authorization: `Bearer ${c.token}` });

async function main() {
  await send("GET", "/health");
  const id = `probe-${Date.now().toString(36)}`;
  const hot = `${id}-HOT`;
  const second = `${id}-TWO`;
  const units = 10_000_000;
  await send(
    "PUT",
    `/v1/admin/products/${id}`,
    {
      title: "Probe",
      status: "active",
      variants: [
        { sku: hot, title: "Hot", price: { amount: 100, currency: "USD" } },
        { sku: second, title: "Two", price: { amount: 100, currency: "USD" } },
      ],
    },
    admin,
  );
  for (const sku of [hot, second]) await send("PUT", `/v1/admin/inventory/${sku}`, { on_hand: units }, admin);
  const results = { health: [], open: [], new_shopper: [], second_line: [], second_cold: [] };
  try {
    for (let round = 1; round <= rounds; round++) {
      results.health.push(await rate(() => send("GET", "/health")));
      results.open.push(await rate(cart));
      results.new_shopper.push(
        await rate(async () => {
          const c = await cart();
          await send("PUT", `/v1/carts/${c.id}/items/${hot}`, { quantity: 1 }, holder(c));
        }),
      );
      // Warm objects: batches of carts made just before their second lines; only those are timed.
      const batch = concurrency * 8;
      let warm = { done: 0, seconds: 0 };
      while (warm.seconds < seconds) {
        const run = await secondLines(await cartsWithLine(batch, hot), second);
        warm = { done: warm.done + run.done, seconds: warm.seconds + run.seconds };
      }
      results.second_line.push(warm.done / warm.seconds);
      // Cold objects: as many carts as the warm phase served in `seconds`, left idle first.
      const idle = await cartsWithLine(Math.max(concurrency * 2, Math.round((warm.done / warm.seconds) * seconds)), hot);
      await new Promise((resolve) => setTimeout(resolve, COLD_IDLE_S * 1000));
      const cold = await secondLines(idle, second);
      results.second_cold.push(cold.done / cold.seconds);
      console.log(
        `round ${round}: ${Object.entries(results)
          .map(([k, v]) => `${k} ${v.at(-1).toFixed(0)}/s`)
          .join(", ")}`,
      );
    }
  } finally {
    await send("DELETE", `/v1/admin/products/${id}`, undefined, admin).catch(() => undefined);
  }
  const health = median(results.health);
  console.log(`\nphase          rate/s (median, min–max)   ÷ /health (${rounds} rounds, ${concurrency} in flight, ${seconds} s each)`);
  for (const [phase, xs] of Object.entries(results)) {
    const ratio = phase === "health" ? 1 : median(xs) / health;
    console.log(
      `${phase.padEnd(14)} ${median(xs).toFixed(0).padStart(6)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`.padEnd(42) +
        ratio.toFixed(2),
    );
  }
}

main().catch((error) => {
  console.error(`probe: ${error.message}`);
  process.exit(1);
});
