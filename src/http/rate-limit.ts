/**
 * Per-client-IP limits, through the Workers Rate Limiting bindings configured in wrangler.toml
 * (docs/api.md "Settings and rate limits"). `RATE_LIMITS=off` disables them (load tests on a dev
 * server).
 */
import { settings } from "../config";
import { ApiError } from "./problem";

/** Which limit a route draws from. */
export type Limit = "cart_create" | "cart_write" | "availability" | "health_deep";

const BINDINGS: Record<Limit, (env: Env) => RateLimit> = {
  cart_create: (env) => env.CART_CREATE_LIMITER,
  cart_write: (env) => env.CART_WRITE_LIMITER,
  availability: (env) => env.AVAILABILITY_LIMITER,
  health_deep: (env) => env.HEALTH_LIMITER,
};

/** The client's IP as Cloudflare reports it. */
export function clientIp(request: Request): string {
  return request.headers.get("cf-connecting-ip") ?? "unknown";
}

/** Throws 429 `rate_limited` (with Retry-After) when the client is over the limit. */
export async function enforceRateLimit(env: Env, request: Request, limit: Limit): Promise<void> {
  if (!settings(env).rateLimits) return;
  const { success } = await BINDINGS[limit](env).limit({ key: `${limit}:${clientIp(request)}` });
  if (!success) {
    throw new ApiError(
      429,
      "rate_limited",
      "Too many requests from this client; retry after the period in Retry-After.",
      {},
      { "retry-after": "60" },
    );
  }
}
