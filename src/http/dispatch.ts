/**
 * Runs one route: credentials, input parsing and validation, the Idempotency-Key, then the handler. Also the
 * request-level seam: request ids, problem+json for every failure, one log line per request.
 */
import * as z from "zod";
import type { CartAccess } from "../domain/cart-access";
import { DependencyUnavailableError } from "../platform/errors";
import { errorFields, log } from "../platform/log";
import { bearerToken, requireAdmin, unauthorized } from "./auth";
import { cartAccessOf } from "./cart-auth";
import { applyCors } from "./cors";
import {
  canonicalJson,
  type IdempotencyRecords,
  idempotencyKeyOf,
  idempotencyMode,
  idempotencyScope,
  requestFingerprint,
  withIdempotency,
} from "./idempotency";
import { decodeParams, MAX_BODY_BYTES, parseJsonText, parseOrThrow, queryObject, readBodyText } from "./input";
import { ApiError, internalError, notFound, problemResponse } from "./problem";
import type { RouteSpec } from "./route";

const NO_QUERY = z.strictObject({});
const NO_BODY = z.strictObject({}).optional();
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** 503 with Retry-After for a dependency that is down or not ready yet. */
function unavailable(error: DependencyUnavailableError): ApiError {
  return new ApiError(
    503,
    "database_unavailable",
    `The ${error.dependency} is not available right now; retry after ${error.retryAfterSeconds} seconds.`,
    {},
    { "retry-after": String(error.retryAfterSeconds) },
  );
}

/** Requests slower than this are logged even when they succeed. */
const SLOW_REQUEST_MS = 2000;

/** Keeps a well-formed inbound `x-request-id` (tracing across hops), else mints one. */
export function requestIdFor(request: Request): string {
  const inbound = request.headers.get("x-request-id");
  return inbound !== null && REQUEST_ID.test(inbound) ? inbound : crypto.randomUUID();
}

/**
 * Validates the request against `route` and calls its handler; on POST routes, under the
 * request's Idempotency-Key when it has one (validation comes first: its 400s are never stored).
 */
export async function runRoute(
  route: RouteSpec,
  request: Request,
  rawParams: Record<string, string>,
  env: Env,
  ctx: ExecutionContext,
  requestId: string,
  services: RouteServices,
): Promise<Response> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > MAX_BODY_BYTES) {
    throw new ApiError(413, "payload_too_large", `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`);
  }
  const bearer = bearerToken(request);
  if (route.auth === "admin") await requireAdmin(request, env);
  if (route.auth === "cart" && bearer === undefined) throw unauthorized("This route needs the cart's bearer token.");

  const mode = idempotencyMode(route);
  const idempotencyKey = mode === "off" ? undefined : idempotencyKeyOf(request, mode);

  const url = new URL(request.url);
  const params = route.params ? parseOrThrow(route.params, decodeParams(rawParams), "path") : undefined;
  const query = parseOrThrow(route.query ?? NO_QUERY, queryObject(url), "query");
  const access = await cartAccessFor(route, params, env, bearer, services);

  let body: unknown;
  let parsedJson: unknown;
  let rawBody: string | undefined;
  if (request.method !== "GET" && request.method !== "HEAD") {
    rawBody = await readBodyText(request);
    if (!route.rawBody) {
      parsedJson = parseJsonText(rawBody, request.headers.get("content-type"));
      body = parseOrThrow(route.body ?? NO_BODY, parsedJson, "body");
    }
  }
  const run = () => route.handler({ request, env, ctx, requestId, params, query, body, rawBody, bearer, idempotencyKey, access } as never);
  if (idempotencyKey === undefined) return run();

  // Fingerprint the body as sent (canonical JSON), not as parsed: zod defaults and transforms
  // must not make two different requests look the same.
  const canonicalBody = route.rawBody ? (rawBody ?? "") : canonicalJson(parsedJson);
  const fingerprint = await requestFingerprint(request.method, url.pathname + url.search, canonicalBody);
  const region = access?.kind === "claims" ? access.claims.region : (route.regionOf?.(body as never) ?? null);
  return withIdempotency(
    services.idempotencyRecords,
    env,
    { scope: idempotencyScope(route.auth, request, bearer), key: idempotencyKey, fingerprint, region },
    requestId,
    run,
  );
}

/** What the HTTP layer needs from objects, supplied by the route table (src/router.ts). */
export interface RouteServices {
  /** Where Idempotency-Key records live. */
  idempotencyRecords: IdempotencyRecords;
  /** Whether an old-style token's credential is the one cart `cartId` stored (carts opened before tokens carried claims). */
  legacyCartHolder: (env: Env, cartId: string, credential: string) => Promise<boolean>;
}

/**
 * On a cart route, what the bearer token proves about the cart it names; 404 when it proves
 * nothing. Checked before the Idempotency-Key is claimed, so an unauthorised request stores
 * nothing: a token with claims is checked here by its MAC, an old-style token by its cart.
 */
async function cartAccessFor(
  route: RouteSpec,
  params: unknown,
  env: Env,
  bearer: string | undefined,
  services: RouteServices,
): Promise<CartAccess | undefined> {
  if (route.auth !== "cart" || route.cartOf === undefined) return undefined;
  const target = route.cartOf(params as never);
  if (target === null || bearer === undefined) throw notFound("resource");
  const access = await cartAccessOf(env, target.cartId, bearer, target.what);
  if (access.kind === "legacy" && !(await services.legacyCartHolder(env, target.cartId, access.credential))) throw notFound(target.what);
  return access;
}

/**
 * `response` with header `name` set: the response itself when its headers can be changed (every
 * response a route builds), else a copy whose headers can.
 */
function withHeader(response: Response, name: string, value: string): Response {
  try {
    response.headers.set(name, value);
    return response;
  } catch {
    const headers = new Headers(response.headers);
    headers.set(name, value);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  }
}

/**
 * Wraps the whole request: every thrown {@link ApiError} becomes its problem document, anything
 * else a logged 500 `internal`; the response always carries `x-request-id`.
 */
export async function handleWithSeam(request: Request, requestId: string, run: () => Promise<Response>, env?: Env): Promise<Response> {
  const started = Date.now();
  const url = new URL(request.url);
  let response: Response;
  try {
    response = await run();
  } catch (error) {
    if (error instanceof ApiError) {
      response = problemResponse(error, requestId);
    } else if (error instanceof DependencyUnavailableError) {
      log("warn", "dependency unavailable", {
        request_id: requestId,
        method: request.method,
        path: url.pathname,
        dependency: error.dependency,
        ...errorFields(error.cause),
      });
      response = problemResponse(unavailable(error), requestId);
    } else {
      log("error", "unhandled error", { request_id: requestId, method: request.method, path: url.pathname, ...errorFields(error) });
      response = problemResponse(internalError(), requestId);
    }
  }
  const final = withHeader(response, "x-request-id", requestId);
  if (env !== undefined) applyCors(request, env, final.headers);
  // Successes are left to Workers observability (every invocation, its status and duration): a
  // log line per request is a synchronous cost on the hot path. Failures and slow answers are
  // always logged here, with the request id the client saw.
  const duration = Date.now() - started;
  if (response.status >= 500 || duration >= SLOW_REQUEST_MS) {
    log(response.status >= 500 ? "error" : "warn", response.status >= 500 ? "request failed" : "slow request", {
      request_id: requestId,
      method: request.method,
      path: url.pathname,
      status: response.status,
      duration_ms: duration,
    });
  }
  return final;
}
