/**
 * Credentials: bearer tokens from the Authorization header and the admin check.
 */
import { secretsEqual } from "../platform/crypto";
import { ApiError } from "./problem";

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(request: Request): string | undefined {
  const header = request.headers.get("authorization");
  if (header === null) return undefined;
  const match = /^Bearer[ ]+([\x21-\x7e]+)$/i.exec(header.trim());
  return match?.[1];
}

/** 401 `unauthorized`, with the challenge header RFC 9110 asks for. */
export function unauthorized(detail = "A valid bearer token is required."): ApiError {
  return new ApiError(401, "unauthorized", detail, {}, { "www-authenticate": 'Bearer realm="edgecart"' });
}

/** Throws 401 unless the request carries the admin token. Fails closed when none is configured. */
export async function requireAdmin(request: Request, env: Env): Promise<void> {
  if (!(await isAdmin(request, env))) throw unauthorized();
}

/** Whether the request carries the admin token (for routes anyone may call that give the admin more). */
export async function isAdmin(request: Request, env: Env): Promise<boolean> {
  const token = bearerToken(request);
  const expected = env.ADMIN_TOKEN;
  if (token === undefined || typeof expected !== "string" || expected.length === 0) return false;
  return secretsEqual(token, expected);
}
