// bench/lib/db-proxy.mjs in a process of its own. argv[2]: JSON { pgUrl, poolSize, rttMs }.
// Prints {"ws_port", "pool_port"} once listening. stdin takes one JSON command a line:
// {"rtt": ms} sets the simulated round trip (answered {"rtt": ms}); {"stats": true} answers the
// pool's state. Stops on SIGTERM, or when stdin closes (the runner died).
import readline from "node:readline";
import { latency, startPoolProxy, startWsRelay } from "./db-proxy.mjs";

const config = JSON.parse(process.argv[2] ?? "{}");
const url = new URL(config.pgUrl);
const target = {
  host: url.hostname,
  port: Number(url.port || 5432),
  user: decodeURIComponent(url.username || "postgres"),
  database: decodeURIComponent(url.pathname.slice(1) || "postgres"),
  password: url.password ? decodeURIComponent(url.password) : undefined,
};
const lag = latency(config.rttMs ?? 0);
const relay = await startWsRelay({ lag, target });
const pool = await startPoolProxy({ lag, target, size: config.poolSize ?? 16 });
process.stdout.write(`${JSON.stringify({ ws_port: relay.port, pool_port: pool.port })}\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await Promise.allSettled([relay.close(), pool.close()]);
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
const lines = readline.createInterface({ input: process.stdin });
lines.on("line", (line) => {
  try {
    const command = JSON.parse(line);
    if (typeof command.rtt === "number") {
      lag.set(command.rtt);
      process.stdout.write(`${JSON.stringify({ rtt: lag.rtt })}\n`);
    } else if (command.stats) {
      process.stdout.write(`${JSON.stringify({ stats: pool.stats() })}\n`);
    }
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ error: String(error) })}\n`);
  }
});
lines.on("close", stop);
