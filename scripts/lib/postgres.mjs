// Postgres for dev and tests: an embedded PGlite behind a socket server (no install needed), or a
// fresh database on a real server; plus drizzle migrations applied with node-postgres.

import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * A TCP port on 127.0.0.1 that was free a moment ago. Racy by nature (the port is released before
 * the caller binds it): prefer binding port 0 and reading the port back.
 */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts PGlite (Postgres in WASM) behind pglite-socket on 127.0.0.1.
 * `dataDir` keeps data across restarts; omit it for an in-memory database. Without `port` the
 * socket server binds port 0 and keeps the port the kernel gives it: choosing a "free" port first
 * and listening on it later would race with anything else starting meanwhile (workerd takes
 * several ports while it boots), which once ended `npm run dev` with `listen EADDRINUSE`.
 * Resolves to `{ url, port, close() }`.
 */
export async function startEmbeddedPostgres({ dataDir, port, maxConnections = 100 } = {}) {
  const { PGlite } = await import("@electric-sql/pglite");
  const { PGLiteSocketServer } = await import("@electric-sql/pglite-socket");
  const db = dataDir ? await PGlite.create(dataDir) : await PGlite.create();
  // Connections share PGlite's single backend: many may be open (each Worker invocation opens
  // its own), and the relay (serialize) lets one at a time talk, so they never interleave.
  const server = new PGLiteSocketServer({ db, port: port ?? 0, host: "127.0.0.1", maxConnections });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    if (error?.code === "EADDRINUSE") throw new Error(`port ${port} is in use: choose another DEV_PG_PORT, or leave it unset`);
    throw error;
  }
  // "127.0.0.1:<port>", with the port actually bound.
  const bound = Number(server.getServerConn().split(":").pop());
  return {
    url: `postgres://postgres@127.0.0.1:${bound}/postgres`,
    port: bound,
    async close() {
      await server.stop();
      await db.close();
    },
  };
}

/**
 * Creates a uniquely named database on the server at `serverUrl` (e.g. the machine's Postgres)
 * and resolves to `{ url, drop() }`; `drop()` removes it again.
 */
export async function createScratchDatabase(serverUrl, prefix = "edgecart_test") {
  const pg = require("pg");
  const name = `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Applies the drizzle-kit migrations in migrations/ to the database at `url`. */
export async function migrate(url) {
  const pg = require("pg");
  const { drizzle } = await import("drizzle-orm/node-postgres");
  const { migrate: run } = await import("drizzle-orm/node-postgres/migrator");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await run(drizzle(client), { migrationsFolder: path.join(root, "migrations") });
  } finally {
    await client.end();
  }
}
