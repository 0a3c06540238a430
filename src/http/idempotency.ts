/**
 * The one Idempotency-Key mechanism (docs/api.md, Conventions), applied by dispatch to every POST
 * route except webhooks (which deduplicate by `webhook-id`). The rules (what is stored, what makes
 * two requests the same, what a new attempt finds) are in domain/idempotency.ts; the records live
 * wherever the route table's {@link IdempotencyRecords} puts them (one IdempotencyObject per
 * credential scope and key: strongly consistent, unlike KV).
 *
 * A request with a key is fingerprinted (method, path and canonical JSON body), claimed, executed
 * once, and its answer stored for 24 h unless the status is one the client is meant to fix and
 * retry. Validation runs before the claim, so its 400s never touch the record at all.
 */
import * as z from "zod";
import {
  type BeginOutcome,
  canonicalJson,
  type FinishOutcome,
  fingerprintText,
  isStorable,
  type StoredResponse,
} from "../domain/idempotency";
import { sha256Hex } from "../platform/crypto";
import { errorFields, log } from "../platform/log";
import { parseOrThrow } from "./input";
import { ApiError, problemResponse } from "./problem";
import type { RouteAuth, RouteSpec } from "./route";

export { canonicalJson, isStorable };

/** One key's record, as the store behind the mechanism offers it. */
export interface IdempotencyRecord {
  begin(fingerprint: string, attempt: string, leaseMs: number): Promise<BeginOutcome>;
  complete(attempt: string, response: StoredResponse, retainMs: number): Promise<FinishOutcome>;
  abandon(attempt: string): Promise<FinishOutcome>;
}

/**
 * Where records live: the record of a key in a scope, both given as hex SHA-256 digests only, in
 * the jurisdiction of the data it may hold (an EU cart's records stay in the EU).
 */
export type IdempotencyRecords = (env: Env, scopeHash: string, keyHash: string, region: "eu" | null) => IdempotencyRecord;

/** The request header, lower-case as Headers report it. */
export const IDEMPOTENCY_KEY_HEADER = "idempotency-key";

/** Added to a replayed answer. */
export const REPLAYED_HEADER = "idempotent-replayed";

/**
 * What the Headers API makes of a repeated header: the values joined with ", ". A Worker cannot see
 * the raw header lines, so a key containing ", " is refused as two keys rather than guessed at.
 */
export const MERGED_HEADER_SEPARATOR = ", ";

/** 1–255 printable characters (printable ASCII, space included), without ", " (two headers merged). */
export const IdempotencyKey = z
  .string()
  .regex(/^[\x20-\x7e]{1,255}$/, "must be 1–255 printable ASCII characters")
  .refine(
    (key) => !key.includes(MERGED_HEADER_SEPARATOR),
    'must be one key: more than one Idempotency-Key header was sent (merged as "a, b"), or the key contains ", "',
  )
  .describe(
    'Makes a retried POST safe: the first answer is replayed for 24 h (scoped to your credential). Send one header; a value containing ", " is refused as two keys.',
  );

/** How long an attempt owns its key before a retry may take over (the Worker died mid-request). */
export const IDEMPOTENCY_LEASE_MS = 60_000;

/** How long a stored answer is replayed. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;

/** Whether a route takes the header: "off" for non-POST and webhook routes. */
export type IdempotencyMode = "off" | "optional" | "required";

/** The route's mode: POST routes default to "optional"; webhooks and routes that opt out are exempt. */
export function idempotencyMode(route: Pick<RouteSpec, "method" | "auth" | "idempotency">): IdempotencyMode {
  if (route.method !== "POST" || route.auth === "webhook") return "off";
  return route.idempotency ?? "optional";
}

/**
 * For a POST route with `idempotency: "off"`: 400 on `header.idempotency-key` when the header is
 * sent anyway, so a client that relies on it learns it is not honoured here (`why`).
 */
export function refuseIdempotencyKey(request: Request, why: string): void {
  if (request.headers.has(IDEMPOTENCY_KEY_HEADER)) {
    throw new ApiError(400, "invalid_request", `This route does not take an Idempotency-Key: ${why}`, {
      errors: [{ path: `header.${IDEMPOTENCY_KEY_HEADER}`, message: "not accepted on this route" }],
    });
  }
}

/**
 * The request's key, validated: 400 `invalid_request` (path `header.idempotency-key`) when
 * malformed, 400 `idempotency_key_required` when missing on a route that requires it.
 */
export function idempotencyKeyOf(request: Request, mode: Exclude<IdempotencyMode, "off">): string | undefined {
  const value = request.headers.get(IDEMPOTENCY_KEY_HEADER);
  if (value === null) {
    if (mode === "required") throw new ApiError(400, "idempotency_key_required", "This route requires an Idempotency-Key header.");
    return undefined;
  }
  return parseOrThrow(z.object({ [IDEMPOTENCY_KEY_HEADER]: IdempotencyKey }), { [IDEMPOTENCY_KEY_HEADER]: value }, "header")[
    IDEMPOTENCY_KEY_HEADER
  ];
}

/**
 * The credential a key is scoped to: the admin or cart bearer token, or for anonymous routes the
 * client IP. Only its hash ever leaves this process.
 */
export function idempotencyScope(auth: RouteAuth, request: Request, bearer: string | undefined): string {
  switch (auth) {
    case "admin":
      return `admin:${bearer ?? ""}`;
    case "cart":
      return `cart:${bearer ?? ""}`;
    case "none":
    case "webhook":
      return `ip:${request.headers.get("cf-connecting-ip") ?? "unknown"}`;
  }
}

/** The fingerprint of a request: hex SHA-256 of its method, path (with query) and canonical body. */
export function requestFingerprint(method: string, pathAndQuery: string, canonicalBody: string): Promise<string> {
  return sha256Hex(fingerprintText(method, pathAndQuery, canonicalBody));
}

/** The record holding `key` in `scope`, addressed by hashes only. */
export async function idempotencyRecord(
  records: IdempotencyRecords,
  env: Env,
  scope: string,
  key: string,
  region: "eu" | null = null,
): Promise<IdempotencyRecord> {
  const [scopeHash, keyHash] = await Promise.all([sha256Hex(scope), sha256Hex(key)]);
  return records(env, scopeHash, keyHash, region);
}

/** Headers that describe this delivery rather than the answer, so they are never replayed. */
const PER_DELIVERY_HEADERS = new Set(["x-request-id", "date", "set-cookie", REPLAYED_HEADER]);

function replay(stored: StoredResponse): Response {
  const headers = new Headers(stored.headers);
  headers.set(REPLAYED_HEADER, "true");
  return new Response(stored.body, { status: stored.status, headers });
}

/** One keyed request: who sent it, the key, its fingerprint, and where its record must live. */
export interface IdempotentRequest {
  scope: string;
  key: string;
  fingerprint: string;
  region?: "eu" | null;
}

/**
 * Runs `run` at most once per (scope, key): replays the stored answer, or answers 409
 * `idempotency_key_in_use` / 422 `idempotency_key_reused`. An {@link ApiError} from `run` becomes
 * its problem response here, so a storable one (a 409, say) is stored and replayed byte for byte;
 * any other throw frees the key and propagates to the seam (a 500, not stored).
 */
export async function withIdempotency(
  records: IdempotencyRecords,
  env: Env,
  claim: IdempotentRequest,
  requestId: string,
  run: () => Promise<Response> | Response,
): Promise<Response> {
  const record = await idempotencyRecord(records, env, claim.scope, claim.key, claim.region ?? null);
  const attempt = crypto.randomUUID();
  const begun = await record.begin(claim.fingerprint, attempt, IDEMPOTENCY_LEASE_MS);
  switch (begun.state) {
    case "in_flight":
      throw new ApiError(409, "idempotency_key_in_use", "A request with this Idempotency-Key is still being processed; retry later.");
    case "mismatch":
      throw new ApiError(
        422,
        "idempotency_key_reused",
        "This Idempotency-Key was already used for a different request (method, path or body).",
      );
    case "completed":
      return replay(begun);
    case "started":
      if (begun.takeover) log("warn", "idempotency lease taken over", { request_id: requestId });
  }

  let response: Response;
  try {
    response = await run();
  } catch (error) {
    if (!(error instanceof ApiError)) {
      await finish(requestId, () => record.abandon(attempt));
      throw error;
    }
    response = problemResponse(error, requestId);
  }

  if (!isStorable(response.status)) {
    await finish(requestId, () => record.abandon(attempt));
    return response;
  }
  const body = await response.arrayBuffer();
  const headers: Record<string, string> = {};
  for (const [name, value] of response.headers) if (!PER_DELIVERY_HEADERS.has(name)) headers[name] = value;
  const stored: StoredResponse = { status: response.status, headers, body: body.byteLength > 0 ? body : null };
  await finish(requestId, () => record.complete(attempt, stored, IDEMPOTENCY_RETENTION_MS));
  return new Response(stored.body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/**
 * Completes or abandons the attempt. The answer already exists, so a failure here is logged and
 * the client still gets it: the lease then runs out and a retry re-executes (handlers keep their
 * own operation ids, so that is safe), which beats answering 500 for work that was done.
 */
async function finish(requestId: string, call: () => Promise<{ ok: boolean }>): Promise<void> {
  try {
    const outcome = await call();
    if (!outcome.ok) log("warn", "idempotency lease lost before the answer was recorded", { request_id: requestId });
  } catch (error) {
    log("error", "idempotency record not updated", { request_id: requestId, ...errorFields(error) });
  }
}
