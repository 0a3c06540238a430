/**
 * Every response an operation can give, for its OpenAPI entry: what the route declares, plus what
 * the request pipeline (src/http/dispatch.ts) answers on every route it applies to — bad input,
 * missing credentials, oversized or non-JSON bodies, HEAD on a GET, the Idempotency-Key outcomes,
 * rate limits, an unavailable database, and the 500 any fault becomes. Each error status lists its
 * problem codes (contracts/problems.ts), so the document can give one schema per code.
 */
import type { ProblemCode } from "../contracts";
import { idempotencyMode, isStorable, REPLAYED_HEADER } from "./idempotency";
import type { ResponseSpec, RouteSpec } from "./route";

/** A response as documented: the declared spec with every problem code that status can carry. */
export interface DocumentedResponse extends ResponseSpec {
  problems: ProblemCode[];
}

/** The code a status means when a route declares it without naming codes. */
const DEFAULT_CODES: Partial<Record<number, ProblemCode>> = {
  400: "invalid_request",
  401: "unauthorized",
  404: "not_found",
  405: "method_not_allowed",
  412: "version_mismatch",
  413: "payload_too_large",
  415: "unsupported_media_type",
  429: "rate_limited",
  500: "internal",
  503: "database_unavailable",
};

/** The route's responses, each error status with its problem codes; throws for an error status without one. */
export function operationResponses(route: RouteSpec): Record<number, DocumentedResponse> {
  const responses: Record<number, DocumentedResponse> = {};
  for (const [key, spec] of Object.entries(route.responses)) {
    const status = Number(key);
    const fallback = DEFAULT_CODES[status];
    const problems = spec.problems ?? (status >= 400 && fallback !== undefined ? [fallback] : []);
    responses[status] = { ...spec, problems: [...problems] };
  }
  const add = (status: number, code: ProblemCode, description: string) => {
    const existing = responses[status];
    if (existing === undefined) responses[status] = { description, problems: [code] };
    else if (!existing.problems.includes(code))
      responses[status] = { ...existing, description: `${existing.description}; ${description}`, problems: [...existing.problems, code] };
  };

  // The body size is checked first, on every route (a declared Content-Length or a streamed body).
  add(413, "payload_too_large", "payload_too_large: the body is over 64 KiB");
  // Every route refuses query parameters it does not take, so every route may answer 400.
  add(
    400,
    "invalid_request",
    "invalid_request: an invalid path parameter, query or body (a query parameter the operation does not take included)",
  );
  if (route.method !== "GET" && !route.rawBody) add(415, "unsupported_media_type", "unsupported_media_type: a body that is not JSON");
  if (route.auth === "admin" || route.auth === "cart") add(401, "unauthorized", "unauthorized: no valid bearer token");
  if (route.auth === "webhook") add(401, "invalid_signature", "invalid_signature");
  if (route.cartOf) add(404, "not_found", "not_found: no such cart or order, or not this token's");
  if (route.method === "GET") add(405, "method_not_allowed", "method_not_allowed: HEAD is not served");
  if (429 in route.responses) add(429, "rate_limited", "rate_limited");
  if (route.database) add(503, "database_unavailable", "database_unavailable: Postgres is down or not ready (with Retry-After)");
  const mode = idempotencyMode(route);
  if (mode !== "off") {
    add(400, "invalid_request", "invalid_request: a malformed Idempotency-Key");
    if (mode === "required") add(400, "idempotency_key_required", "idempotency_key_required");
    add(409, "idempotency_key_in_use", "idempotency_key_in_use");
    add(422, "idempotency_key_reused", "idempotency_key_reused");
    for (const [status, spec] of Object.entries(responses)) {
      if (isStorable(Number(status))) {
        responses[Number(status)] = {
          ...spec,
          headers: {
            ...spec.headers,
            [REPLAYED_HEADER]: "`true` when this is the stored answer to an earlier request with the same Idempotency-Key.",
          },
        };
      }
    }
  }
  add(500, "internal", "internal: an unexpected fault (the request id is logged)");

  for (const [status, spec] of Object.entries(responses)) {
    if (Number(status) >= 400 && spec.problems.length === 0)
      throw new Error(`${route.operationId}: status ${status} names no problem code`);
  }
  return responses;
}
