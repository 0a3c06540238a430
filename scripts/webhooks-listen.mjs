// npm run webhooks:listen [-- --port N] [--secret whsec_…] [--register [URL]] [--events a,b] [--fail N] [--json]
//
// A local receiver for edgecart's outgoing webhooks (like `stripe listen`): an HTTP server on
// 127.0.0.1 that verifies each delivery's Standard Webhooks signature and prints the event.
//   --port N        listen here (default 9494)
//   --secret S      the endpoint's signing secret (whsec_…)
//   --register [U]  register this receiver as an endpoint on the edgecart at U (default: the dev
//                   server on PORT, 8787) with ADMIN_TOKEN, use the secret it answers with, and
//                   delete the endpoint again on exit; the server must allow loopback endpoints
//                   (WEBHOOKS_ALLOW_LOOPBACK=on, as `npm run dev` sets it)
//   --events a,b    the event types to register for (default: all)
//   --fail N        answer 500 to the first N attempts of each event (to watch the retries)
//   --json          print each event's whole payload
// A valid delivery is answered 204 (a repeated webhook-id is marked as a duplicate: receivers
// de-duplicate by it); a bad signature 401.
import http from "node:http";
import { Webhook } from "standardwebhooks";
import { baseUrl, flag, setting } from "./lib/config.mjs";

const EVENT_TYPES = ["order.paid", "order.cancelled", "order.expired", "order.refund_due", "inventory.low", "inventory.out_of_stock"];

const argv = process.argv.slice(2);
const port = Number(flag(argv, "port") ?? 9494);
const registerAt = argv.includes("--register")
  ? (flag(argv, "register")?.startsWith("http") ? flag(argv, "register") : baseUrl(argv)).replace(/\/$/, "")
  : null;
const events = (flag(argv, "events") ?? EVENT_TYPES.join(","))
  .split(",")
  .map((t) => t.trim())
  .filter(Boolean);
const failFirst = Number(flag(argv, "fail") ?? 0);
const printJson = argv.includes("--json");
let secret = flag(argv, "secret");
let registered = null;

const out = (line) => console.log(`[webhooks] ${line}`);
const seen = new Map();

if (!secret && !registerAt) {
  console.error(
    "webhooks:listen needs --secret whsec_… (the endpoint's signing secret) or --register [URL] (register this receiver and use its secret)",
  );
  process.exit(2);
}
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`webhooks:listen: invalid --port ${flag(argv, "port")}`);
  process.exit(2);
}

/** One line about an event's data: what a person watching wants to see. */
function summary(event) {
  const d = event.data ?? {};
  if (event.type === "order.paid")
    return `${d.id} ${d.total?.amount} ${d.total?.currency} (${d.lines?.length} line${d.lines?.length === 1 ? "" : "s"}, ${d.email}, payment ${d.payment_id})`;
  if (event.type === "order.cancelled" || event.type === "order.expired") return `${d.id} ${d.total?.amount} ${d.total?.currency}`;
  if (event.type === "order.refund_due")
    return `${d.order_id} ${d.amount?.amount} ${d.amount?.currency} (${d.reason}, payment ${d.payment_id})`;
  if (event.type?.startsWith("inventory.")) return `${d.sku} available ${d.available} (threshold ${d.threshold})`;
  return "";
}

const server = http.createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    if (request.method !== "POST") {
      response.writeHead(405, { allow: "POST" }).end();
      return;
    }
    const body = Buffer.concat(chunks).toString("utf8");
    const headers = {
      "webhook-id": request.headers["webhook-id"] ?? "",
      "webhook-timestamp": request.headers["webhook-timestamp"] ?? "",
      "webhook-signature": request.headers["webhook-signature"] ?? "",
    };
    const id = headers["webhook-id"];
    let event;
    try {
      event = new Webhook(secret).verify(body, headers);
    } catch (error) {
      out(`✗ ${id || "(no webhook-id)"}: signature not verified (${error.message}) → 401`);
      response.writeHead(401).end();
      return;
    }
    const count = (seen.get(id) ?? 0) + 1;
    seen.set(id, count);
    if (count <= failFirst) {
      out(`✓ ${event.type} ${id} attempt ${count}: answering 500 (--fail ${failFirst})`);
      response.writeHead(500).end();
      return;
    }
    const duplicate = count > failFirst + 1 ? " (duplicate webhook-id: already processed)" : "";
    out(`✓ ${event.type} ${id} ${summary(event)}${duplicate} → 204`);
    if (printJson) console.log(JSON.stringify(event, null, 2));
    response.writeHead(204).end();
  });
});

async function register() {
  const admin = { authorization: `Bearer ${setting("ADMIN_TOKEN")}`, "content-type": "application/json" };
  const response = await fetch(`${registerAt}/v1/admin/webhook-endpoints`, {
    method: "POST",
    headers: admin,
    body: JSON.stringify({ url: `http://127.0.0.1:${port}/`, event_types: events, description: "npm run webhooks:listen" }),
  });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`registering at ${registerAt}: ${response.status} ${text}`);
  const endpoint = JSON.parse(text);
  registered = endpoint.id;
  secret ??= endpoint.secret;
  out(`registered endpoint ${endpoint.id} at ${registerAt} for ${events.join(", ")}`);
}

async function unregister() {
  if (!registered) return;
  const id = registered;
  registered = null;
  const response = await fetch(`${registerAt}/v1/admin/webhook-endpoints/${id}`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${setting("ADMIN_TOKEN")}` },
  }).catch((error) => ({ status: error.message }));
  out(`deleted endpoint ${id} (${response.status})`);
}

// One stop, however many signals arrive (npm forwards Ctrl-C to this process, which got it too).
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    unregister().finally(() => {
      server.close();
      process.exit(0);
    });
  });
}

server.listen(port, "127.0.0.1", async () => {
  out(`listening on http://127.0.0.1:${port}/`);
  try {
    if (registerAt) await register();
  } catch (error) {
    console.error(`[webhooks] ${error.message}`);
    server.close();
    process.exit(1);
  }
  out("ready: verified events are printed as they arrive (Ctrl-C to stop)");
});
