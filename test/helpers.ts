/**
 * Test helpers: requests through the real Worker entry (`exports.default.fetch`), in the runtime.
 */
import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import { TEST_ADMIN_TOKEN } from "./secrets";

export const BASE = "http://edgecart.test";
export const ADMIN = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

/** Sends a request to the Worker. `body` objects are sent as JSON. */
export async function call(method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
  const headers: Record<string, string> = { ...init.headers };
  let body: BodyInit | undefined;
  if (init.body !== undefined) {
    if (typeof init.body === "string" || init.body instanceof Uint8Array) body = init.body as BodyInit;
    else {
      body = JSON.stringify(init.body);
      headers["content-type"] ??= "application/json";
    }
  }
  return exports.default.fetch(new Request(`${BASE}${path}`, { method, headers, body }));
}

/** Asserts an RFC 9457 problem with the given status and code and returns its body. */
export async function expectProblem(response: Response, status: number, code: string): Promise<Record<string, unknown>> {
  const body = (await response.json()) as Record<string, unknown>;
  expect({ status: response.status, code: body.code }).toEqual({ status, code });
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  expect(body).toMatchObject({ status, code, type: `tag:edgecart.dev,2026:problems/${code}` });
  expect(typeof body.title).toBe("string");
  expect(typeof body.detail).toBe("string");
  expect(body.request_id).toBe(response.headers.get("x-request-id"));
  expect(JSON.stringify(body)).not.toMatch(/\bat .*\.(ts|js):\d+/);
  return body;
}

/** A unique name for objects and records created by one test. */
export function unique(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}
