/**
 * Health and discovery: `GET /health` and `GET /v1/openapi.json`.
 */
import { sql } from "drizzle-orm";
import * as z from "zod";
import journal from "../../migrations/meta/_journal.json";
import { HealthQuery, HealthResponse } from "../contracts";
import { withDb } from "../db/client";
import { isAdmin } from "../http/auth";
import { buildOpenApi } from "../http/openapi";
import { ApiError } from "../http/problem";
import { enforceRateLimit } from "../http/rate-limit";
import { defineRoute, json, type RouteSpec } from "../http/route";
import { errorFields, log } from "../platform/log";
import { SharedResult } from "../platform/shared-result";

/** The outcome of one database check (failures are outcomes too, so they can be shared). */
type DatabaseCheck =
  | { ok: true; latency_ms: number; checked_at: string; migrations: number }
  | { ok: false; checked_at: string; reason: "unreachable" | "not_migrated" };

/** The schema migrations this build ships (migrations/): the database is ready once it has applied them all. */
const MIGRATIONS_SHIPPED = journal.entries.length;

/** How long anonymous deep checks share one result, per isolate. */
const SHARED_CHECK_MS = 5_000;
/** How long a caller waits for a check another caller started before running its own. */
const SHARED_WAIT_MS = 3_000;
const sharedCheck = new SharedResult<DatabaseCheck>(SHARED_CHECK_MS, SHARED_WAIT_MS);

/** Runs `select 1` through the production driver; logs (once per check) and returns a failure. */
async function checkDatabase(env: Env, requestId: string): Promise<DatabaseCheck> {
  const started = Date.now();
  let applied: number;
  try {
    // The migrator's own ledger (drizzle.__drizzle_migrations): reachable, and how far migrated.
    const rows = await withDb(env, (db) =>
      db.execute<{ applied: number }>(sql`select count(*)::int as applied from drizzle.__drizzle_migrations`),
    );
    applied = Number(rows.rows[0]?.applied ?? 0);
  } catch (error) {
    log("error", "deep health check failed", { request_id: requestId, ...errorFields(error) });
    return { ok: false, checked_at: new Date(started).toISOString(), reason: "unreachable" };
  }
  if (applied < MIGRATIONS_SHIPPED) {
    log("error", "deep health check: the database is not migrated", { request_id: requestId, applied, shipped: MIGRATIONS_SHIPPED });
    return { ok: false, checked_at: new Date(started).toISOString(), reason: "not_migrated" };
  }
  return { ok: true, latency_ms: Date.now() - started, checked_at: new Date(started).toISOString(), migrations: applied };
}

/**
 * `GET /health`; with `?deep=1` it also runs `select 1` through the Neon driver path. That query
 * is the one thing here an anonymous caller could multiply, so anonymous deep checks are
 * rate-limited per IP and share one result per isolate (and database) for 5 s, failures
 * included: at most one query per isolate per 5 s, however many callers. The admin token gets
 * a live check, unlimited.
 */
export const getHealth = defineRoute({
  method: "GET",
  path: "/health",
  operationId: "getHealth",
  database: true,
  summary:
    "Liveness; with deep=1 readiness: Postgres reached through the production driver and fully migrated (live for the admin token, otherwise a result shared for up to 5 s and rate-limited per client IP)",
  tag: "meta",
  auth: "none",
  query: HealthQuery,
  responses: {
    200: { description: "The service (and, when asked, its database) is up", schema: HealthResponse },
    400: { description: "Invalid query" },
    429: { description: "Too many anonymous deep checks from this client", headers: { "retry-after": "Seconds to wait" } },
    503: {
      description:
        "database_unavailable: the database did not answer or is not migrated yet (for an anonymous caller: at the shared check, up to 5 s ago); with Retry-After",
      headers: { "retry-after": "Seconds to wait" },
    },
  },
  async handler({ env, request, query, requestId }) {
    if (query.deep !== "1" && query.deep !== "true") return json({ status: "ok" });
    let check: DatabaseCheck;
    if (await isAdmin(request, env)) check = await checkDatabase(env, requestId);
    else {
      await enforceRateLimit(env, request, "health_deep");
      check = await sharedCheck.get(env.DATABASE_URL ?? "", () => checkDatabase(env, requestId));
    }
    if (!check.ok) {
      const detail =
        check.reason === "not_migrated" ? "The database is not migrated yet." : "The database did not answer the health check.";
      throw new ApiError(503, "database_unavailable", detail, {}, { "retry-after": "5" });
    }
    return json({
      status: "ok",
      database: { status: "ok", latency_ms: check.latency_ms, checked_at: check.checked_at, migrations: check.migrations },
    });
  },
});

/** `GET /v1/openapi.json`, generated from the live route table (built once per isolate). */
export function openApiRoute(routes: () => readonly RouteSpec[]): RouteSpec {
  let document: string | undefined;
  return defineRoute({
    method: "GET",
    path: "/v1/openapi.json",
    operationId: "getOpenApi",
    summary: "This OpenAPI 3.1 document",
    tag: "meta",
    auth: "none",
    responses: { 200: { description: "OpenAPI 3.1 document", schema: z.record(z.string(), z.unknown()) } },
    handler() {
      document ??= JSON.stringify(buildOpenApi(routes()));
      return new Response(document, { headers: { "content-type": "application/json" } });
    },
  });
}
