// The WebSocket->TCP relay (scripts/lib/relay.mjs) in a process of its own, so that its work does
// not share the load client's event loop (under `npm run dev` it runs in the dev.mjs process).
// argv: <port> <delayMs>. Prints {"port": n} once listening; SIGTERM closes it.
import { startRelay } from "../../scripts/lib/relay.mjs";

const [port = "0", delayMs = "0"] = process.argv.slice(2);
const relay = await startRelay({ port: Number(port), delayMs: Number(delayMs) });
process.stdout.write(`${JSON.stringify({ port: relay.port })}\n`);
const stop = () => relay.close().finally(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
// The bench died without stopping us: stop too (stdin is the bench's pipe).
process.stdin.on("end", stop);
process.stdin.resume();
