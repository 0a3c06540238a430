/**
 * Per-client-IP limits on cart creation and cart changes, through the Workers Rate Limiting
 * bindings configured in wrangler.toml. `RATE_LIMITS=off` disables them (load tests on a dev
 * server).
 */
import { settings } from "../config";
import { ApiError } from "./problem";

/** Which limit a route draws from. */
export type Limit = "cart_create" | "cart_write";

/** The client's IP as Cloudflare reports it. */
export function clientIp(request: Request): string {
  return request.headers.get("cf-connecting-ip") ?? "unknown";
}

/** Throws 429 `rate_limited` (with Retry-After) when the client is over the limit. */
export async function enforceRateLimit(env: Env, request: Request, limit: Limit): Promise<void> {
  if (!settings(env).rateLimits) return;
  const binding = limit === "cart_create" ? env.CART_CREATE_LIMITER : env.CART_WRITE_LIMITER;
  const { success } = await binding.limit({ key: `${limit}:${clientIp(request)}` });
  if (!success) {
    throw new ApiError(429, "rate_limited", "Too many requests from this client; retry after the period in Retry-After.", {}, { "retry-after": "60" });
  }
}
