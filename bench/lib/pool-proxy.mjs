// One of the bench's two ways from the Worker to Postgres (bench/lib/db-proxy.mjs, whose child
// process runs both; the other is the WebSocket relay there):
//
// 2. Pooling proxy, for the HYPERDRIVE binding (node-postgres): what Hyperdrive does. It answers a
//    client's startup itself at once (Hyperdrive terminates it at the edge next to the Worker)
//    and runs the client's transactions on a warm pool of Postgres connections (transaction
//    pooling: a connection is lent from a client's first message until Postgres reports
//    ReadyForQuery idle, then returned). Messages between the client and the pool travel RTT/2
//    each way; the pool sits next to the database, so a connection is busy only while Postgres
//    works. The pool's own connections are opened up front.
import net from "node:net";
import { CANCEL_REQUEST, GSSENC_REQUEST, message, messageSplitter, SSL_REQUEST, startupMessage } from "./pg-wire.mjs";

/** One pooled Postgres connection, authenticated (trust or cleartext/md5-free setups only). */
function openBackend({ host, port, user, database, password }) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    const parameters = [];
    let ready = false;
    const split = messageSplitter((type, msg) => {
      const t = String.fromCharCode(type);
      if (ready) return;
      if (t === "R") {
        const code = msg.readInt32BE(5);
        if (code === 0) return;
        if (code === 3 && password !== undefined) {
          socket.write(message("p", Buffer.from(`${password}\0`)));
          return;
        }
        socket.destroy();
        reject(new Error(`the pooling proxy supports trust or cleartext password auth only (server asked for method ${code})`));
      } else if (t === "S") parameters.push(msg);
      else if (t === "E") {
        socket.destroy();
        reject(new Error(`Postgres refused the pool's connection: ${msg.subarray(5).toString("utf8").replace(/\0/g, " ").trim()}`));
      } else if (t === "Z") {
        ready = true;
        socket.removeListener("data", split);
        resolve({ socket, parameters });
      }
    });
    socket.on("data", split);
    socket.once("error", reject);
    socket.once("connect", () => socket.write(startupMessage({ user, database, application_name: "edgecart-bench-pool" })));
  });
}

/**
 * The Hyperdrive-like pooling proxy on 127.0.0.1:`port` in front of the database at `target`
 * ({ host, port, user, database, password? }) with `size` connections.
 */
export async function startPoolProxy({ port = 0, lag, target, size = 16 }) {
  const idle = [];
  const waiters = [];
  const all = new Set();
  let closed = false;
  let parameters = [];

  async function addBackend() {
    const backend = await openBackend(target);
    parameters = backend.parameters;
    all.add(backend);
    backend.socket.on("close", () => {
      all.delete(backend);
      const i = idle.indexOf(backend);
      if (i >= 0) idle.splice(i, 1);
      if (!closed) addBackend().then(give, () => {});
    });
    backend.socket.on("error", () => {});
    return backend;
  }
  function give(backend) {
    const next = waiters.shift();
    if (next) next(backend);
    else idle.push(backend);
  }
  const acquire = () => (idle.length > 0 ? Promise.resolve(idle.shift()) : new Promise((resolve) => waiters.push(resolve)));
  await Promise.all(Array.from({ length: size }, () => addBackend().then(give)));

  const clients = new Set();
  const server = net.createServer((client) => {
    clients.add(client);
    client.setNoDelay(true);
    let startup = true;
    let startupBuffer = Buffer.alloc(0);
    let backend = null; // lent while a transaction runs
    let acquiring = null;
    let awaiting = 0; // ReadyForQuery answers still due
    const outbox = []; // messages waiting for a backend
    let ended = false;

    const send = (data) => lag.later(() => client.writable && client.write(data));
    const release = () => {
      const lent = backend;
      backend = null;
      lent.socket.removeAllListeners("data");
      give(lent);
    };
    const attach = async () => {
      if (backend || acquiring) return acquiring;
      acquiring = acquire().then((lent) => {
        acquiring = null;
        if (ended) return give(lent);
        backend = lent;
        const split = messageSplitter((type, msg) => {
          send(msg);
          if (String.fromCharCode(type) === "Z") {
            awaiting = Math.max(0, awaiting - 1);
            if (awaiting === 0 && msg[5] === 0x49 /* 'I' */ && outbox.length === 0) release();
          }
        });
        lent.socket.on("data", split);
        for (const m of outbox.splice(0)) lent.socket.write(m);
      });
      return acquiring;
    };
    const fromClient = messageSplitter((type, msg) => {
      const t = String.fromCharCode(type);
      if (t === "X") {
        ended = true;
        client.end();
        return;
      }
      if (t === "Q" || t === "S") awaiting++;
      if (backend) backend.socket.write(msg);
      else {
        outbox.push(msg);
        void attach();
      }
    });

    client.on("data", (chunk) => {
      if (!startup) {
        // Each message travels from the Worker to the pool first.
        lag.later(() => fromClient(chunk));
        return;
      }
      startupBuffer = Buffer.concat([startupBuffer, chunk]);
      while (startup && startupBuffer.length >= 8) {
        const length = startupBuffer.readInt32BE(0);
        if (startupBuffer.length < length) return;
        const code = startupBuffer.readInt32BE(4);
        startupBuffer = startupBuffer.subarray(length);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          client.write("N");
        } else if (code === CANCEL_REQUEST) {
          client.destroy();
          return;
        } else {
          // Hyperdrive answers the startup next to the Worker: no round trip to the database.
          startup = false;
          const key = Buffer.alloc(8);
          key.writeInt32BE(process.pid, 0);
          key.writeInt32BE(Math.floor(Math.random() * 2 ** 31), 4);
          client.write(
            Buffer.concat([message("R", Buffer.from([0, 0, 0, 0])), ...parameters, message("K", key), message("Z", Buffer.from("I"))]),
          );
          const rest = startupBuffer;
          if (rest.length > 0) lag.later(() => fromClient(rest));
        }
      }
    });
    const drop = () => {
      ended = true;
      clients.delete(client);
      if (backend) {
        // Gone in the middle of a transaction (a lent connection is returned at idle): its state
        // is unknown, so it is closed and replaced.
        const lent = backend;
        backend = null;
        lent.socket.removeAllListeners("data");
        lent.socket.destroy();
      }
    };
    client.on("close", drop);
    client.on("error", () => client.destroy());
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  return {
    port: server.address().port,
    stats: () => ({ size: all.size, idle: idle.length, waiting: waiters.length }),
    close: () =>
      new Promise((done) => {
        closed = true;
        for (const client of clients) client.destroy();
        for (const backend of all) backend.socket.destroy();
        server.close(() => done());
      }),
  };
}
