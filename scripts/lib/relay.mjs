// WebSocket -> TCP relay that lets the Neon serverless driver (WebSocket only) reach a plain
// Postgres on this machine, the way Neon's own proxy does in production. Dev and tests only.
//
// The driver connects to ws://HOST:PORT/v1?address=<pg host>:<pg port>. Only loopback targets are
// accepted. Two traps this handles (see TOOLCHAIN.md): pglite-socket keeps the socket open after
// the client's Terminate ('X') message while the driver waits for the close, so the relay parses
// frontend messages and closes both sides on Terminate.
import net from "node:net";
import { createRequire } from "node:module";

// Loaded through require: under vitest's globalSetup, `import "ws"` resolves the browser build.
const { WebSocketServer } = createRequire(import.meta.url)("ws");

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

/** Tracks the Postgres frontend message stream to spot Terminate; returns true once seen. */
function frontendParser() {
  let buffer = Buffer.alloc(0);
  let startup = true;
  return (chunk) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    for (;;) {
      if (startup) {
        if (buffer.length < 8) return false;
        const length = buffer.readInt32BE(0);
        if (buffer.length < length) return false;
        const code = buffer.readInt32BE(4);
        buffer = buffer.subarray(length);
        if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) startup = false;
        continue;
      }
      if (buffer.length < 5) return false;
      const type = buffer[0];
      const length = buffer.readInt32BE(1);
      if (type === 0x58 /* 'X' Terminate */) return true;
      if (buffer.length < 1 + length) return false;
      buffer = buffer.subarray(1 + length);
    }
  };
}

/**
 * Starts the relay on 127.0.0.1 (port 0 = any free port).
 * Options: `delayMs` adds a simulated WAN round trip (half each way) for benchmarks.
 * Resolves to `{ port, url, close() }`.
 */
export function startRelay({ port = 0, delayMs = 0 } = {}) {
  const wss = new WebSocketServer({ host: "127.0.0.1", port, perMessageDeflate: false });
  const sockets = new Set();
  const delay = (fn) => (delayMs > 0 ? setTimeout(fn, delayMs / 2) : fn());

  wss.on("connection", (ws, request) => {
    const url = new URL(request.url ?? "/", "http://relay");
    const address = url.searchParams.get("address") ?? "";
    const match = /^(.*):(\d+)$/.exec(address);
    if (url.pathname !== "/v1" || !match || !LOOPBACK.has(match[1])) {
      ws.close(1008, "only loopback Postgres targets are relayed");
      return;
    }
    const host = match[1].replace(/^\[|\]$/g, "");
    const tcp = net.connect({ host, port: Number(match[2]) });
    sockets.add(tcp);
    tcp.setNoDelay(true);
    const sawTerminate = frontendParser();
    const pending = [];
    let connected = false;
    const closeBoth = () => {
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close();
      tcp.destroy();
    };
    tcp.on("connect", () => {
      connected = true;
      for (const chunk of pending.splice(0)) tcp.write(chunk);
    });
    tcp.on("data", (data) => delay(() => ws.readyState === ws.OPEN && ws.send(data)));
    tcp.on("close", () => {
      sockets.delete(tcp);
      delay(() => ws.readyState === ws.OPEN && ws.close());
    });
    tcp.on("error", () => closeBoth());
    ws.on("message", (data) => {
      const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data);
      const terminate = sawTerminate(chunk);
      delay(() => {
        if (tcp.destroyed) return;
        if (connected) tcp.write(chunk);
        else pending.push(chunk);
        if (terminate) {
          tcp.end();
          closeBoth();
        }
      });
    });
    ws.on("close", () => tcp.end());
    ws.on("error", () => closeBoth());
  });

  return new Promise((resolve, reject) => {
    wss.once("error", reject);
    wss.once("listening", () => {
      const { port: bound } = wss.address();
      resolve({
        port: bound,
        /** host:port, the value of DATABASE_WS_PROXY. */
        url: `127.0.0.1:${bound}`,
        close: () =>
          new Promise((done) => {
            for (const socket of sockets) socket.destroy();
            for (const client of wss.clients) client.terminate();
            wss.close(() => done());
          }),
      });
    });
  });
}
