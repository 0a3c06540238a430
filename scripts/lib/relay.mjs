// WebSocket -> TCP relay that lets the Neon serverless driver (WebSocket only) reach a plain
// Postgres on this machine, the way Neon's own proxy does in production. Dev and tests only.
//
// The driver connects to ws://HOST:PORT/v1?address=<pg host>:<pg port>. Only loopback targets are
// accepted. Traps this handles (both seen with pglite-socket 0.2.17 and the Neon driver 1.2):
// - pglite-socket keeps the socket open after the client's Terminate ('X') message while the
//   driver waits for the close, so the relay parses frontend messages and closes both sides on
//   Terminate.
// - PGlite has ONE backend: connections through pglite-socket share its session, so two busy
//   connections corrupt each other (one's Bind applied to the other's Parse; one's statements
//   inside the other's transaction). With `serialize`, the relay lets one connection at a time
//   talk to the database: it owns the database from its first message until the backend reports
//   ReadyForQuery idle ('I', outside any transaction) with nothing of it still in flight; the
//   others wait with their messages buffered. Used for the embedded database only.
import http from "node:http";
import { createRequire } from "node:module";
import net from "node:net";

// Loaded through require: under vitest's globalSetup, `import "ws"` resolves the browser build.
const { WebSocketServer } = createRequire(import.meta.url)("ws");

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

/**
 * Parses the frontend (client → server) stream. Calls `on.terminate()` at 'X', `on.sslRequest()`
 * for each SSL/GSSENC request (answered by one unframed byte), and `on.awaitsReady()` for each
 * message the backend will answer with a ReadyForQuery: the startup packet, Query, Sync.
 */
function frontendParser(on) {
  let buffer = Buffer.alloc(0);
  let startup = true;
  return (chunk) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    for (;;) {
      if (startup) {
        if (buffer.length < 8) return;
        const length = buffer.readInt32BE(0);
        if (buffer.length < length) return;
        const code = buffer.readInt32BE(4);
        buffer = buffer.subarray(length);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) on.sslRequest();
        else {
          startup = false;
          on.awaitsReady();
        }
        continue;
      }
      if (buffer.length < 5) return;
      const type = buffer[0];
      const length = buffer.readInt32BE(1);
      if (type === 0x58 /* 'X' Terminate */) {
        on.terminate();
        return;
      }
      if (buffer.length < 1 + length) return;
      if (type === 0x51 /* 'Q' Query */ || type === 0x53 /* 'S' Sync */) on.awaitsReady();
      buffer = buffer.subarray(1 + length);
    }
  };
}

/** Parses the backend (server → client) stream; calls `onReady(status)` at each ReadyForQuery. */
function backendParser(onReady) {
  let buffer = Buffer.alloc(0);
  let sslBytes = 0;
  const parse = (chunk) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    for (;;) {
      if (sslBytes > 0) {
        if (buffer.length < 1) return;
        buffer = buffer.subarray(1);
        sslBytes--;
        continue;
      }
      if (buffer.length < 5) return;
      const length = buffer.readInt32BE(1);
      if (buffer.length < 1 + length) return;
      if (buffer[0] === 0x5a /* 'Z' ReadyForQuery */) onReady(String.fromCharCode(buffer[5]));
      buffer = buffer.subarray(1 + length);
    }
  };
  parse.expectSslByte = () => sslBytes++;
  return parse;
}

/** One-connection-at-a-time access to the database (for PGlite's single backend). */
function databaseLock() {
  let owner = null;
  const waiters = [];
  return {
    /** True when `conn` may talk now; otherwise it is queued and `conn.resume()` is called later. */
    acquire(conn) {
      if (owner === null) owner = conn;
      if (owner === conn) return true;
      if (!waiters.includes(conn)) waiters.push(conn);
      return false;
    },
    release(conn) {
      const index = waiters.indexOf(conn);
      if (index >= 0) waiters.splice(index, 1);
      if (owner !== conn) return;
      owner = null;
      const next = waiters.shift();
      if (next) {
        owner = next;
        next.resume();
      }
    },
  };
}

/**
 * Starts the relay on 127.0.0.1 (port 0 = any free port).
 * Options: `delayMs` adds a simulated WAN round trip (half each way) for benchmarks;
 * `serialize` gives the database to one connection at a time (embedded PGlite).
 * Resolves to `{ port, url, close() }`.
 */
export function startRelay({ port = 0, delayMs = 0, serialize = false, control = false } = {}) {
  // Tests only (`control`): `GET /outage?on=1` makes the database unreachable (every connection,
  // open or new, is cut, as when Postgres refuses connections); `/outage?on=0` ends the outage.
  let outage = false;
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://relay");
    if (!control || url.pathname !== "/outage") {
      response.writeHead(404).end();
      return;
    }
    outage = url.searchParams.get("on") === "1";
    if (outage) for (const socket of sockets) socket.destroy();
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ outage }));
  });
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  const sockets = new Set();
  const lock = serialize ? databaseLock() : null;
  const delay = (fn) => (delayMs > 0 ? setTimeout(fn, delayMs / 2) : fn());

  wss.on("connection", (ws, request) => {
    const url = new URL(request.url ?? "/", "http://relay");
    const address = url.searchParams.get("address") ?? "";
    const match = /^(.*):(\d+)$/.exec(address);
    if (url.pathname !== "/v1" || !match || !LOOPBACK.has(match[1])) {
      ws.close(1008, "only loopback Postgres targets are relayed");
      return;
    }
    if (outage) {
      ws.close(1011, "database unreachable (simulated outage)");
      return;
    }
    const host = match[1].replace(/^\[|\]$/g, "");
    const tcp = net.connect({ host, port: Number(match[2]) });
    sockets.add(tcp);
    tcp.setNoDelay(true);

    let connected = false;
    let terminated = false;
    let inFlight = 0;
    const unsent = []; // chunks waiting for the TCP connection or for the database lock
    const conn = {
      resume: () => flush(),
    };
    const closeBoth = () => {
      lock?.release(conn);
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close();
      tcp.destroy();
    };
    const flush = () => {
      if (!connected || tcp.destroyed) return;
      if (unsent.length === 0) return;
      if (lock && !lock.acquire(conn)) return;
      for (const chunk of unsent.splice(0)) tcp.write(chunk);
      if (terminated) {
        tcp.end();
        closeBoth();
      }
    };
    const backend = backendParser((status) => {
      inFlight = Math.max(0, inFlight - 1);
      if (lock && status === "I" && inFlight === 0) lock.release(conn);
    });
    const frontend = frontendParser({
      terminate: () => (terminated = true),
      sslRequest: () => backend.expectSslByte(),
      awaitsReady: () => inFlight++,
    });

    tcp.on("connect", () => {
      connected = true;
      flush();
    });
    tcp.on("data", (data) => {
      if (lock) backend(data);
      delay(() => ws.readyState === ws.OPEN && ws.send(data));
    });
    tcp.on("close", () => {
      sockets.delete(tcp);
      lock?.release(conn);
      delay(() => ws.readyState === ws.OPEN && ws.close());
    });
    tcp.on("error", () => closeBoth());
    ws.on("message", (data) => {
      const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data);
      frontend(chunk);
      delay(() => {
        if (tcp.destroyed) return;
        unsent.push(chunk);
        flush();
      });
    });
    ws.on("close", () => {
      lock?.release(conn);
      tcp.end();
    });
    ws.on("error", () => closeBoth());
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const { port: bound } = server.address();
      resolve({
        port: bound,
        /** host:port, the value of DATABASE_WS_PROXY. */
        url: `127.0.0.1:${bound}`,
        close: () =>
          new Promise((done) => {
            for (const socket of sockets) socket.destroy();
            for (const client of wss.clients) client.terminate();
            wss.close(() => server.close(() => done()));
          }),
      });
    });
  });
}
