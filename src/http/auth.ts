/**
 * Credentials: bearer tokens from the Authorization header and the admin check.
 */
import { ApiError } from "./problem";

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(request: Request): string | undefined {
  const header = request.headers.get("authorization");
  if (header === null) return undefined;
  const match = /^Bearer[ ]+([\x21-\x7e]+)$/i.exec(header.trim());
  return match?.[1];
}

const encoder = new TextEncoder();

async function sha256(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(text));
}

/** Hex SHA-256 of a string: how tokens are stored and compared (never in the clear). */
export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await sha256(text));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Compares two secrets in constant time. Both are hashed first so the comparison sees equal
 * lengths and leaks neither the secret's length nor the position of the first difference.
 */
export async function secretsEqual(presented: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([sha256(presented), sha256(expected)]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/** 401 `unauthorized`, with the challenge header RFC 9110 asks for. */
export function unauthorized(detail = "A valid bearer token is required."): ApiError {
  return new ApiError(401, "unauthorized", detail, {}, { "www-authenticate": 'Bearer realm="edgecart"' });
}

/** Throws 401 unless the request carries the admin token. Fails closed when none is configured. */
export async function requireAdmin(request: Request, env: Env): Promise<void> {
  const token = bearerToken(request);
  const expected = env.ADMIN_TOKEN;
  if (token === undefined || typeof expected !== "string" || expected.length === 0) throw unauthorized();
  if (!(await secretsEqual(token, expected))) throw unauthorized();
}
