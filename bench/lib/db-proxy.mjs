// The bench's two ways from the Worker to Postgres, each adding a simulated round trip (RTT) that
// the runner changes between runs. Runs in a child process of its own (bench/lib/db-proxy-child.mjs)
// so that its timers and sockets do not share the load client's event loop.
//
// 1. WebSocket relay, for Neon's driver (the production withDb path: DATABASE_WS_PROXY). The
//    Worker -> relay leg is the long one, as between a Worker and Neon's proxy next to the
//    database: opening the connection costs two RTTs (TCP's handshake, then the WebSocket
//    upgrade), every message then travels RTT/2 each way, so Postgres's own startup exchange,
//    each query and each reply pay their round trips. A one-query request thus waits four RTTs,
//    as many as the driver needs against Neon (TCP, TLS 1.3, the upgrade, then startup, password
//    and the query pipelined in one; Neon, "Quicker serverless Postgres connections", 2023):
//    locally the startup is a round trip of its own (trust auth leaves nothing to pipeline) and
//    TLS is not charged. The relay -> Postgres leg is local.
// 2. Pooling proxy, for the HYPERDRIVE binding (node-postgres): what Hyperdrive does
//    (bench/lib/pool-proxy.mjs, re-exported here).

import { createRequire } from "node:module";
import net from "node:net";

export { startPoolProxy } from "./pool-proxy.mjs";

const { WebSocketServer } = createRequire(import.meta.url)("ws");

/** Round trips a new WebSocket connection to the relay waits before its first message: TCP's handshake and the upgrade. */
export const CONNECT_RTTS = 2;

/** A shared, changeable simulated round trip; `later(fn)` runs fn after RTT/2 (at once when 0). */
export function latency(initialMs = 0) {
  let rtt = initialMs;
  return {
    get rtt() {
      return rtt;
    },
    set(ms) {
      rtt = ms;
    },
    later(fn) {
      if (rtt > 0) setTimeout(fn, rtt / 2);
      else fn();
    },
  };
}

/** WebSocket -> TCP relay for Neon's driver (ws://host:port/v1?address=127.0.0.1:5432). */
export function startWsRelay({ port = 0, lag, target }) {
  const sockets = new Set();
  const wss = new WebSocketServer({
    host: "127.0.0.1",
    port,
    perMessageDeflate: false,
    // Opening: TCP's SYN / SYN-ACK (one RTT), then the upgrade request and its 101 (another).
    verifyClient: (_info, done) => (lag.rtt > 0 ? setTimeout(() => done(true), CONNECT_RTTS * lag.rtt) : done(true)),
  });
  wss.on("connection", (ws, request) => {
    const url = new URL(request.url ?? "/", "http://relay");
    const match = /^(.*):(\d+)$/.exec(url.searchParams.get("address") ?? "");
    if (url.pathname !== "/v1" || !match) {
      ws.close(1008, "expected /v1?address=host:port");
      return;
    }
    // Whatever address the driver names, the relay reaches the bench's database server.
    const tcp = net.connect({ host: target.host, port: target.port });
    sockets.add(tcp);
    tcp.setNoDelay(true);
    const pending = [];
    let connected = false;
    tcp.on("connect", () => {
      connected = true;
      for (const chunk of pending.splice(0)) tcp.write(chunk);
    });
    tcp.on("data", (data) => lag.later(() => ws.readyState === ws.OPEN && ws.send(data)));
    tcp.on("close", () => {
      sockets.delete(tcp);
      lag.later(() => ws.readyState === ws.OPEN && ws.close());
    });
    tcp.on("error", () => ws.terminate());
    ws.on("message", (data) => {
      const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data);
      lag.later(() => {
        if (tcp.destroyed) return;
        if (connected) tcp.write(chunk);
        else pending.push(chunk);
      });
    });
    ws.on("close", () => lag.later(() => tcp.end()));
    ws.on("error", () => tcp.destroy());
  });
  return new Promise((resolve, reject) => {
    wss.once("error", reject);
    wss.once("listening", () =>
      resolve({
        port: wss.address().port,
        close: () =>
          new Promise((done) => {
            for (const socket of sockets) socket.destroy();
            for (const client of wss.clients) client.terminate();
            wss.close(() => done());
          }),
      }),
    );
  });
}
