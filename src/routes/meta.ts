/**
 * Health and discovery: `GET /health` and `GET /v1/openapi.json`.
 */
import { sql } from "drizzle-orm";
import { z } from "zod";
import { HealthQuery, HealthResponse } from "../contracts";
import { withDb } from "../db/client";
import { errorFields, log } from "../platform/log";
import { buildOpenApi } from "../http/openapi";
import { ApiError } from "../http/problem";
import { defineRoute, json, type RouteSpec } from "../http/route";

/** `GET /health`; with `?deep=1` it also runs `select 1` through the Neon driver path. */
export const getHealth = defineRoute({
  method: "GET",
  path: "/health",
  operationId: "getHealth",
  summary: "Liveness; with deep=1 also checks Postgres through the production driver",
  tag: "meta",
  auth: "none",
  query: HealthQuery,
  responses: {
    200: { description: "The service (and, when asked, its database) is up", schema: HealthResponse },
    400: { description: "Invalid query" },
    503: { description: "The database did not answer" },
  },
  async handler({ env, query, requestId }) {
    if (query.deep !== "1" && query.deep !== "true") return json({ status: "ok" });
    const started = Date.now();
    try {
      const rows = await withDb(env, (db) => db.execute<{ ok: number }>(sql`select 1 as ok`));
      if (rows.rows[0]?.ok !== 1) throw new Error("unexpected answer to select 1");
    } catch (error) {
      log("error", "deep health check failed", { request_id: requestId, ...errorFields(error) });
      throw new ApiError(503, "database_unavailable", "The database did not answer the health check.");
    }
    return json({ status: "ok", database: { status: "ok", latency_ms: Date.now() - started } });
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
