/** What the bench Worker's route handlers share: JSON answers, problems, the admin check, body parsing. */
export { sha256Hex } from "../../src/platform/crypto";

import type { BenchEnv } from "./postgres";

const JSON_HEADERS = { "content-type": "application/json", "cache-control": "no-store" };
export const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
export const problem = (status: number, code: string, detail: string, extra: Record<string, unknown> = {}) =>
  json({ status, code, detail, ...extra }, status);

/** Thrown by a handler to answer with `response` (caught by the route dispatch in index.ts). */
export class HttpError extends Error {
  constructor(readonly response: Response) {
    super("http error");
  }
}

export function randomHex(bytes = 16): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
}

export function bearer(request: Request): string | null {
  const match = /^Bearer (.+)$/.exec(request.headers.get("authorization") ?? "");
  return match ? match[1]! : null;
}

export function requireAdmin(request: Request, env: BenchEnv): void {
  if (!env.ADMIN_TOKEN || bearer(request) !== env.ADMIN_TOKEN)
    throw new HttpError(problem(401, "unauthorized", "The bench's admin routes need the admin token."));
}

export async function body<T extends Record<string, unknown>>(request: Request): Promise<T> {
  const text = await request.text();
  if (!text) return {} as T;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as T;
  } catch {
    // Falls through.
  }
  throw new HttpError(problem(400, "invalid_request", "The body must be a JSON object."));
}

export function int(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new HttpError(problem(400, "invalid_request", `${name} must be an integer from ${min} to ${max}.`));
  }
  return value;
}

/** The path patterns of a SKU and of a bench cart id. */
export const SKU = "[A-Za-z0-9._-]{1,64}";
export const CART = "[0-9a-f]{32}";

export type Handler = (request: Request, env: BenchEnv, ctx: ExecutionContext, params: string[], url: URL) => Promise<Response>;
/** A bench route: its method, its path pattern (groups become `params`) and its handler. */
export type Route = [method: string, pattern: RegExp, handler: Handler];
