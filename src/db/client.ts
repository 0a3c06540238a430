/**
 * The Worker's Postgres client: `@neondatabase/serverless` Pool (WebSocket) under
 * `drizzle-orm/neon-serverless`. In production it talks to Neon directly. Locally the driver
 * reaches a plain Postgres through the dev relay named by DATABASE_WS_PROXY (scripts/lib/relay.mjs).
 *
 * A Pool cannot outlive the request that opened it in Workers (sockets are bound to the
 * invocation), so {@link withDb} opens one per unit of work and always closes it.
 */
import { neonConfig, Pool } from "@neondatabase/serverless";
import { drizzle, type NeonDatabase } from "drizzle-orm/neon-serverless";
import { DependencyUnavailableError } from "../platform/errors";
import { log } from "../platform/log";
import * as schema from "./schema";

export type Db = NeonDatabase<typeof schema>;

// The driver coalesces writes by default: a write is buffered and sent by a timer. A connection
// cut meanwhile (Postgres gone; the outage and chaos tests cut them) then sends on a closed
// WebSocket from that timer, an uncaught exception instead of an error the query sees. Written
// at once, a write on a closed socket fails its own query. The opening is pipelined either way.
neonConfig.coalesceWrites = false;

let configuredProxy: string | undefined;

/** Points the driver at the local relay when one is configured; a no-op in production. */
function configureDriver(env: Env): void {
  const proxy = env.DATABASE_WS_PROXY;
  if (!proxy || proxy === configuredProxy) return;
  neonConfig.wsProxy = (host, port) => `${proxy}/v1?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
  configuredProxy = proxy;
}

/** Thrown when the database is not configured at all (a deployment error, logged as such). */
export class DatabaseNotConfiguredError extends Error {
  constructor() {
    super("DATABASE_URL is not set");
    this.name = "DatabaseNotConfiguredError";
  }
}

/**
 * Runs `work` with a drizzle database on a fresh pool and closes the pool afterwards, whatever
 * happens. Socket errors after the work is done (e.g. "Network connection lost" while closing)
 * are logged, not thrown.
 */
export async function withDb<T>(env: Env, work: (db: Db) => Promise<T>): Promise<T> {
  if (!env.DATABASE_URL) throw new DatabaseNotConfiguredError();
  configureDriver(env);
  const pool = new Pool({ connectionString: env.DATABASE_URL, max: 4, connectionTimeoutMillis: 10_000 });
  let closing = false;
  // Idle sockets report "Network connection lost" as the pool closes them; only errors while
  // the work runs are worth a log line (the work itself sees and handles its own errors).
  pool.on("error", (error: Error) => {
    if (!closing) log("warn", "postgres pool error", { error: error.message });
  });
  try {
    return await work(drizzle({ client: pool, schema }));
  } catch (error) {
    if (databaseUnavailable(error)) throw new DependencyUnavailableError("database", 5, { cause: error });
    throw error;
  } finally {
    closing = true;
    await pool.end().catch((error: unknown) => log("warn", "postgres pool close failed", { error: String(error) }));
  }
}

/** The Postgres error code of an error (or of its cause), if it has one. */
export function pgCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code ?? (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** How the driver words a connection that could not be made or was lost (such errors carry no SQLSTATE). */
const CONNECTION_TROUBLE = /connect|connection|socket|network|timeout|timed out|terminated|refused|closed|ECONN|EPIPE/i;

function messages(error: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++)
    parts.push(current.message);
  return parts.join(" | ");
}

/**
 * Whether an error means "the database cannot serve now" rather than "this query is wrong":
 * no connection at all (a network error, which carries no SQLSTATE), connection exceptions (08), the
 * server starting or shutting down (57P0x), a database that does not exist yet (3D000), or a
 * schema not migrated yet (42P01 undefined table: seen while `npm run dev` starts).
 */
export function databaseUnavailable(error: unknown): boolean {
  if (error instanceof DependencyUnavailableError) return true;
  const code = pgCode(error);
  if (code === undefined) return CONNECTION_TROUBLE.test(messages(error));
  return code.startsWith("08") || code.startsWith("57P0") || code === "3D000" || code === "42P01";
}
