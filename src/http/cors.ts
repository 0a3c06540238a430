/**
 * CORS for browser storefronts. Credentials are bearer tokens, never cookies, so allowing an
 * origin grants nothing ambient; `CORS_ORIGINS` ("*" or a comma-separated list of origins)
 * chooses which sites may call the API from a browser.
 */

const ALLOWED_HEADERS = "authorization, content-type, idempotency-key, if-match, x-request-id";
const EXPOSED_HEADERS = "etag, x-request-id, retry-after, idempotent-replayed, allow";
const METHODS = "GET, PUT, POST, DELETE, OPTIONS";

function allowedOrigin(env: Env, origin: string | null): string | null {
  if (origin === null) return null;
  const setting = (env.CORS_ORIGINS ?? "").trim();
  if (setting === "*") return "*";
  return setting
    .split(",")
    .map((o) => o.trim())
    .includes(origin)
    ? origin
    : null;
}

/** The answer to a CORS preflight (`OPTIONS` with `Access-Control-Request-Method`), or null. */
export function preflight(request: Request, env: Env): Response | null {
  if (request.method !== "OPTIONS" || !request.headers.has("access-control-request-method")) return null;
  const origin = allowedOrigin(env, request.headers.get("origin"));
  const headers: Record<string, string> = { vary: "origin" };
  if (origin !== null) {
    Object.assign(headers, {
      "access-control-allow-origin": origin,
      "access-control-allow-methods": METHODS,
      "access-control-allow-headers": ALLOWED_HEADERS,
      "access-control-max-age": "86400",
    });
  }
  return new Response(null, { status: 204, headers });
}

/** Adds the CORS response headers for an allowed origin. */
export function applyCors(request: Request, env: Env, headers: Headers): void {
  const origin = allowedOrigin(env, request.headers.get("origin"));
  if (origin === null) return;
  headers.set("access-control-allow-origin", origin);
  headers.set("access-control-expose-headers", EXPOSED_HEADERS);
  headers.append("vary", "origin");
}
