// The answer checker of test/fuzz.test.ts (re-exported by ./fuzz): every answer has a request id,
// and every refusal is a well-formed problem+json that names this request and leaks no stack trace.
import { exports } from "cloudflare:workers";
import { BASE } from "../helpers";
import type { FuzzRequest } from "./fuzz";

export interface Outcome {
  request: FuzzRequest;
  status: number;
  problem: string | null;
  code: string | null;
}

/** Sends one request; returns its status and what is wrong with its answer (null when nothing). */
export async function send(request: FuzzRequest): Promise<Outcome | null> {
  let built: Request;
  try {
    built = new Request(`${BASE}${request.path}`, { method: request.method, headers: request.headers, body: request.body });
  } catch {
    return null; // not expressible as a request (the client library refuses it)
  }
  const response = await exports.default.fetch(built);
  const text = await response.text();
  const requestId = response.headers.get("x-request-id");
  let problem: string | null = null;
  let code: string | null = null;
  if (requestId === null) problem = "no x-request-id";
  if (response.status >= 400 && response.headers.get("content-type") !== "application/problem+json")
    problem = `content-type ${response.headers.get("content-type")}`;
  // A HEAD answer carries no content (the runtime drops it): its headers are all there is to check.
  if (response.status >= 400 && request.method !== "HEAD") {
    let body: Record<string, unknown> | null = null;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      problem = "problem body is not JSON";
    }
    if (body) {
      code = typeof body.code === "string" ? body.code : null;
      if (typeof body.type !== "string" || !body.type.startsWith("tag:edgecart.dev,2026:problems/")) problem = "type";
      else if (typeof body.title !== "string" || typeof body.detail !== "string") problem = "title/detail";
      else if (body.status !== response.status) problem = `status member ${String(body.status)}`;
      else if (code === null || !/^[a-z][a-z0-9_]*$/.test(code)) problem = "code";
      // A replayed answer is the first one byte for byte: its request_id is that request's
      // (docs/api.md, Idempotency-Key); any other answer carries this request's.
      else if (
        response.headers.get("idempotent-replayed") === "true"
          ? typeof body.request_id !== "string" || body.request_id.length === 0
          : body.request_id !== requestId
      )
        problem = "request_id";
      else if (/\bat .*\.(ts|js):\d+/.test(text)) problem = "stack trace";
    }
  }
  return { request, status: response.status, problem, code };
}

export function describeRequest(r: FuzzRequest): string {
  const body = r.body === undefined ? "" : typeof r.body === "string" ? r.body.slice(0, 300) : `<${r.body.byteLength} bytes>`;
  return `${r.method} ${r.path.slice(0, 300)} ${JSON.stringify(r.headers).slice(0, 400)} ${body}`;
}
