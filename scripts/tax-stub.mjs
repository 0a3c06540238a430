// A stand-in for the external tax service (TAX_MODE=external), for development and the tests: a
// real HTTP server on loopback that verifies each request's Standard Webhooks signature and
// answers every line's tax at a flat rate (half-even on amount × basis points / 10000), or
// misbehaves on request. Node only, no dependencies.
//
//   npm run tax:stub -- [--port 8788] [--rate 1900] [--secret whsec_…] [--host 127.0.0.1]
//
// The secret defaults to TAX_SERVICE_SECRET from the environment, else the dev value of
// .dev.vars.example. Endpoints:
//   POST /tax               a quote (docs/tax.md); the scope is the registered scope whose name
//                           begins a requested SKU (the longest), else "default"
//   POST /s/<scope>/tax     a quote in that scope
//   GET  /control/<scope>   the scope's behaviour and counters
//   PUT  /control/<scope>   {"mode", "delay_ms", "rate_bp", "status"}: sets its behaviour (counters kept)
//   DELETE /control/<scope> forgets the scope
// Behaviour is per scope, so tests running side by side each use their own (a unique scope name in
// the path, or as the prefix of their SKUs when the Worker calls /tax). Modes:
//   ok              200 with each line's tax
//   down            503 (Retry-After: 1), whatever the signature
//   close           the socket is closed without an answer
//   slow            the answer after delay_ms (default 5000)
//   slow_body       200 and the start of the answer at once, the rest after delay_ms
//   garbage         200 with a body that is not JSON
//   missing_sku, extra_sku, duplicate_sku, negative_tax, fractional_tax   a 200 that breaks the contract
//   status          an empty answer with `status` (default 500)
// A request whose signature does not verify is answered 401 (counted in `bad_signatures`).
import crypto from "node:crypto";
import http from "node:http";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

/** The development signing secret (.dev.vars.example has the same). */
export const DEV_TAX_SERVICE_SECRET = "whsec_qOA6DppaAjm/Sg/NnjjDRmVjndAdhN2I4rLhcrjKhUM=";

const MODES = new Set([
  "ok",
  "down",
  "close",
  "slow",
  "slow_body",
  "garbage",
  "missing_sku",
  "extra_sku",
  "duplicate_sku",
  "negative_tax",
  "fractional_tax",
  "status",
]);
const SCOPE = /^[A-Za-z0-9_.-]{1,100}$/;
const TOLERANCE_SECONDS = 5 * 60;
const MAX_BODY = 1 << 20;

/** `numerator / denominator` rounded half to even (BigInt; denominator > 0). */
export function roundHalfEven(numerator, denominator) {
  let quotient = numerator / denominator;
  let remainder = numerator % denominator;
  if (remainder < 0n) {
    quotient -= 1n;
    remainder += denominator;
  }
  const twice = remainder * 2n;
  return twice > denominator || (twice === denominator && quotient % 2n !== 0n) ? quotient + 1n : quotient;
}

/** Verifies Standard Webhooks headers over the raw body: "v1,<base64 HMAC-SHA256 of id.timestamp.body>". */
function verifySignature(key, headers, body) {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const signatures = headers["webhook-signature"];
  if (!id || !timestamp || !signatures || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) return false;
  const expected = crypto.createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest();
  return signatures.split(" ").some((entry) => {
    const [version, signature] = entry.split(",");
    if (version !== "v1" || !signature) return false;
    const presented = Buffer.from(signature, "base64");
    return presented.length === expected.length && crypto.timingSafeEqual(presented, expected);
  });
}

/** The lines of a quote request, or null when it is not one. */
function requestedLines(body) {
  try {
    const lines = JSON.parse(body).lines;
    if (!Array.isArray(lines)) return null;
    const valid = lines.every((line) => typeof line?.sku === "string" && Number.isSafeInteger(line.amount) && line.amount >= 0);
    return valid ? lines : null;
  } catch {
    return null;
  }
}

/** The answer's lines for `mode` (the contract-breaking modes break it). */
function answerLines(lines, rateBp, mode) {
  const taxed = lines.map((line) => ({ sku: line.sku, tax: Number(roundHalfEven(BigInt(line.amount) * BigInt(rateBp), 10_000n)) }));
  if (mode === "missing_sku") return taxed.slice(0, -1);
  if (mode === "extra_sku") return [...taxed, { sku: "NOT-REQUESTED", tax: 0 }];
  if (mode === "duplicate_sku" && taxed.length > 0) return [...taxed, taxed[0]];
  if (mode === "negative_tax" && taxed.length > 0) taxed[0].tax = -1;
  if (mode === "fractional_tax" && taxed.length > 0) taxed[0].tax += 0.5;
  return taxed;
}

/**
 * Starts the stub. Resolves to { port, origin, url (its /tax), close() }.
 * @param {{ host?: string; port?: number; rateBp?: number; secret?: string }} [options]
 */
export function startTaxStub({ host = "127.0.0.1", port = 0, rateBp = 1000, secret = DEV_TAX_SERVICE_SECRET } = {}) {
  if (!Number.isSafeInteger(rateBp) || rateBp < 0) throw new RangeError("rateBp must be a non-negative integer");
  const key = Buffer.from(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret, "base64");
  if (key.length === 0) throw new Error("the tax stub's secret is empty");
  const defaults = () => ({ mode: "ok", delay_ms: 5000, rate_bp: rateBp, status: 500 });
  const fresh = () => ({ ...defaults(), requests: 0, answered: 0, bad_signatures: 0, last: null });
  /** scope -> its behaviour and counters */
  const scopes = new Map();
  const scope = (name) => {
    if (!scopes.has(name)) scopes.set(name, fresh());
    return scopes.get(name);
  };
  /** The registered scope whose name begins one of the SKUs (the longest), else "default". */
  const scopeForSkus = (lines) => {
    let best = "default";
    for (const name of scopes.keys()) {
      if (name === "default" || (best !== "default" && name.length <= best.length)) continue;
      if (lines?.some((line) => line.sku.startsWith(name))) best = name;
    }
    return best;
  };
  const sockets = new Set();
  const timers = new Set();
  const later = (ms, fn, res) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
    res.once("close", () => {
      clearTimeout(timer);
      timers.delete(timer);
    });
  };
  const json = (res, status, value, headers = {}) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(value));
  };

  const quote = (res, name, headers, body) => {
    const lines = requestedLines(body);
    const state = scope(name ?? scopeForSkus(lines));
    const { mode, delay_ms, rate_bp, status } = state;
    state.requests++;
    state.last = {
      content_type: headers["content-type"] ?? null,
      webhook_id: headers["webhook-id"] ?? null,
      webhook_timestamp: headers["webhook-timestamp"] ?? null,
      webhook_signature: headers["webhook-signature"] ?? null,
      body,
    };
    if (mode === "close") return void res.socket?.destroy();
    if (mode === "down") return json(res, 503, { error: "down" }, { "retry-after": "1" });
    if (!verifySignature(key, headers, body)) {
      state.bad_signatures++;
      return json(res, 401, { error: "invalid_signature" });
    }
    if (!/^application\/json\b/i.test(headers["content-type"] ?? "")) return json(res, 415, { error: "not_json" });
    if (lines === null) return json(res, 400, { error: "not_a_quote_request" });
    if (mode === "status") return void res.writeHead(status).end();
    if (mode === "garbage") return void res.writeHead(200, { "content-type": "application/json" }).end('{"lines": [ this is not json');
    const text = JSON.stringify({ lines: answerLines(lines, rate_bp, mode), basis_points: rate_bp });
    const answer = () => {
      state.answered++;
      res.writeHead(200, { "content-type": "application/json" }).end(text);
    };
    if (mode === "slow") return later(delay_ms, answer, res);
    if (mode === "slow_body") {
      res.writeHead(200, { "content-type": "application/json" }).write(text.slice(0, 10));
      return later(delay_ms, () => res.end(text.slice(10)), res);
    }
    answer();
  };

  const control = (req, res, name, body) => {
    if (req.method === "GET") return json(res, 200, { scope: name, ...(scopes.get(name) ?? fresh()) });
    if (req.method === "DELETE") {
      scopes.delete(name);
      return void res.writeHead(204).end();
    }
    if (req.method !== "PUT") return json(res, 405, { error: "method_not_allowed" });
    let wanted;
    try {
      wanted = { ...defaults(), ...JSON.parse(body || "{}") };
    } catch {
      return json(res, 400, { error: "not_json" });
    }
    const { mode, delay_ms, rate_bp, status } = wanted;
    const counts = [delay_ms, rate_bp].every((n) => Number.isSafeInteger(n) && n >= 0);
    if (!MODES.has(mode) || !counts || !Number.isInteger(status) || status < 200 || status > 599) {
      return json(res, 400, { error: "invalid_behaviour", modes: [...MODES] });
    }
    Object.assign(scope(name), { mode, delay_ms, rate_bp, status });
    return json(res, 200, { scope: name, ...scope(name) });
  };

  const server = http.createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(chunk);
    });
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const path = new URL(req.url ?? "/", "http://stub").pathname;
      const scoped = /^\/s\/([^/]+)\/tax$/.exec(path);
      const controlled = /^\/control\/([^/]+)$/.exec(path);
      if (path === "/health") return json(res, 200, { ok: true });
      if (controlled)
        return SCOPE.test(controlled[1]) ? control(req, res, controlled[1], body) : json(res, 400, { error: "invalid_scope" });
      if (path !== "/tax" && !scoped) return json(res, 404, { error: "not_found" });
      if (req.method !== "POST") return json(res, 405, { error: "method_not_allowed" });
      if (scoped && !SCOPE.test(scoped[1])) return json(res, 400, { error: "invalid_scope" });
      quote(res, scoped?.[1], req.headers, body);
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const { port: bound } = server.address();
      const origin = `http://${host.includes(":") ? `[${host}]` : host}:${bound}`;
      resolve({
        port: bound,
        origin,
        url: `${origin}/tax`,
        close: () =>
          new Promise((done) => {
            for (const timer of timers) clearTimeout(timer);
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

// npm run tax:stub
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "8788" },
      host: { type: "string", default: "127.0.0.1" },
      rate: { type: "string", default: "1000" },
      secret: { type: "string" },
    },
  });
  const stub = await startTaxStub({
    host: values.host,
    port: Number(values.port),
    rateBp: Number(values.rate),
    secret: values.secret ?? (process.env.TAX_SERVICE_SECRET || DEV_TAX_SERVICE_SECRET),
  });
  console.log(`[tax-stub] ${stub.url} (flat ${Number(values.rate)} bp; control: ${stub.origin}/control/default)`);
  const stop = async () => {
    await stub.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
