/**
 * Health and discovery: `GET /health` and `GET /v1/openapi.json`.
 */
import { sql } from "drizzle-orm";
import { z } from "zod";
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
type DatabaseCheck = { ok: true; latency_ms: number; checked_at: string } | { ok: false; checked_at: string };

/** How long anonymous deep checks share one result, per isolate. */
const SHARED_CHECK_MS = 5_000;
/** How long a caller waits for a check another caller started before running its own. */
const SHARED_WAIT_MS = 3_000;
const sharedCheck = new SharedResult<DatabaseCheck>(SHARED_CHECK_MS, SHARED_WAIT_MS);

/** Runs `select 1` through the production driver; logs (once per check) and returns a failure. */
async function checkDatabase(env: Env, requestId: string): Promise<DatabaseCheck> {
  const started = Date.now();
  try {
    const rows = await withDb(env, (db) => db.execute<{ ok: number }>(sql`select 1 as ok`));
    if (rows.rows[0]?.ok !== 1) throw new Error("unexpected answer to select 1");
    return { ok: true, latency_ms: Date.now() - started, checked_at: new Date(started).toISOString() };
  } catch (error) {
    log("error", "deep health check failed", { request_id: requestId, ...errorFields(error) });
    return { ok: false, checked_at: new Date(started).toISOString() };
  }
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
  summary:
    "Liveness; with deep=1 also checks Postgres through the production driver: live for the admin token, otherwise a result shared for up to 5 s and rate-limited per client IP",
  tag: "meta",
  auth: "none",
  query: HealthQuery,
  responses: {
    200: { description: "The service (and, when asked, its database) is up", schema: HealthResponse },
    400: { description: "Invalid query" },
    429: { description: "Too many anonymous deep checks from this client", headers: { "retry-after": "Seconds to wait" } },
    503: { description: "The database did not answer (for an anonymous caller: at the shared check, up to 5 s ago)" },
  },
  async handler({ env, request, query, requestId }) {
    if (query.deep !== "1" && query.deep !== "true") return json({ status: "ok" });
    let check: DatabaseCheck;
    if (await isAdmin(request, env)) check = await checkDatabase(env, requestId);
    else {
      await enforceRateLimit(env, request, "health_deep");
      check = await sharedCheck.get(env.DATABASE_URL ?? "", () => checkDatabase(env, requestId));
    }
    if (!check.ok) throw new ApiError(503, "database_unavailable", "The database did not answer the health check.");
    return json({ status: "ok", database: { status: "ok", latency_ms: check.latency_ms, checked_at: check.checked_at } });
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
