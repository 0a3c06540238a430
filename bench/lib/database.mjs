// The bench's scratch database: created on the Postgres server per run, migrated like the app's
// (drizzle migrations), plus the schema `edgecart_bench` of the central-database engines, created
// here up front so that no request ever runs DDL. Dropped at the end of the run.
import { createRequire } from "node:module";
import { createScratchDatabase, migrate } from "../../scripts/lib/postgres.mjs";

const require = createRequire(import.meta.url);

/**
 * No CHECK (available >= 0) on purpose: the engines' SQL alone must keep stock from going
 * negative, and an oversell has to show in the figures rather than turn into errors.
 */
const BENCH_SCHEMA = [
  "CREATE SCHEMA edgecart_bench",
  "CREATE TABLE edgecart_bench.stock (sku text PRIMARY KEY, available integer NOT NULL)",
  "CREATE TABLE edgecart_bench.carts (id text PRIMARY KEY, token_hash text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())",
  `CREATE TABLE edgecart_bench.cart_lines (
     cart_id text NOT NULL REFERENCES edgecart_bench.carts (id),
     sku text NOT NULL,
     quantity integer NOT NULL CHECK (quantity > 0),
     PRIMARY KEY (cart_id, sku))`,
];

/** Postgres server version, or throws with a hint when the server cannot be reached. */
export async function postgresVersion(serverUrl) {
  const pg = require("pg");
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    const { rows } = await client.query("show server_version");
    return rows[0].server_version;
  } catch (error) {
    throw new Error(`cannot reach Postgres at ${serverUrl} (${error.message}); start it or pass --pg-url`);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Creates, migrates and prepares a scratch database; resolves to { name, url, drop() }. */
export async function prepareDatabase(serverUrl) {
  const database = await createScratchDatabase(serverUrl, "edgecart_bench");
  try {
    await migrate(database.url);
    const pg = require("pg");
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      for (const statement of BENCH_SCHEMA) await client.query(statement);
    } finally {
      await client.end();
    }
    return database;
  } catch (error) {
    await database.drop().catch(() => {});
    throw error;
  }
}
