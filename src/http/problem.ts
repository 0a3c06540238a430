/**
 * The one seam between failures and the wire: every error a client sees is an RFC 9457
 * `application/problem+json` document built here. Only {@link ApiError} carries client-facing
 * text; anything else becomes a 500 `internal` whose details stay in the server log.
 */

import type { ProblemCode } from "../contracts";

/** Extra problem members (`available`, `errors`, …) that give a client context. */
export type ProblemExtras = Record<string, unknown>;

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  412: "Precondition Failed",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/**
 * A failure that is meant for the client: its status, stable `code` and detail go on the wire.
 * Only codes registered in contracts/problems.ts exist (each with its status and members).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ProblemCode,
    readonly detail: string,
    readonly extras: ProblemExtras = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = "ApiError";
  }
}

/** Problem `type` URI for a code: a tag URI (RFC 4151), stable and not meant to be fetched. */
export function problemType(code: string): string {
  return `tag:edgecart.dev,2026:problems/${code}`;
}

/** Serialises an {@link ApiError} as problem+json, with the request id as a member and a header. */
export function problemResponse(error: ApiError, requestId: string): Response {
  // Extras first: they can never overwrite the RFC 9457 members or the request id.
  const body = {
    ...error.extras,
    type: problemType(error.code),
    title: TITLES[error.status] ?? "Error",
    status: error.status,
    detail: error.detail,
    code: error.code,
    request_id: requestId,
  };
  return new Response(JSON.stringify(body), {
    status: error.status,
    headers: { "content-type": "application/problem+json", ...error.headers },
  });
}

/** The 500 a client gets for any fault that is not an {@link ApiError}. */
export function internalError(): ApiError {
  return new ApiError(500, "internal", "An unexpected error occurred. Quote the request id when reporting it.");
}

/** 404 `not_found`, used identically for missing resources and for resources the caller may not see. */
export function notFound(what = "resource"): ApiError {
  return new ApiError(404, "not_found", `The ${what} does not exist.`);
}
