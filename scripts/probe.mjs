// npm run probe [-- --seconds 5 --concurrency 64 --rounds 3 --url URL]
// A storefront's view of the hot path, against a running edgecart (npm run dev with
// RATE_LIMITS=off): the rate of each phase, with `concurrency` requests in flight, divided by the
// rate of GET /health measured in the same rounds (the runtime's own ceiling on this machine).
// Phases, interleaved in every round:
//   health        GET /health
//   open          POST /v1/carts
//   new shopper   POST /v1/carts, then PUT one unit of a hot SKU (in series, per shopper)
//   second line   PUT a second SKU on a cart that already holds one line (carts made beforehand)
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
  const results = { health: [], open: [], new_shopper: [], second_line: [] };
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
      // Carts with one line each, made before the clock starts.
      const ready = [];
      // A second line costs less than a new shopper; a run that uses them all up ends early.
      const want = Math.ceil(results.new_shopper.at(-1) * seconds * 3) + concurrency;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (ready.length < want) {
            const c = await cart();
            await send("PUT", `/v1/carts/${c.id}/items/${hot}`, { quantity: 1 }, holder(c));
            ready.push(c);
          }
        }),
      );
      results.second_line.push(
        await rate(async () => {
          const c = ready.pop();
          if (c === undefined) return false;
          await send("PUT", `/v1/carts/${c.id}/items/${second}`, { quantity: 1 }, holder(c));
        }),
      );
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
