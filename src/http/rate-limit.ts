/**
 * Per-client-IP limits, through the Workers Rate Limiting bindings configured in wrangler.toml
 * (docs/api.md "Settings and rate limits"). `RATE_LIMITS=off` disables them (load tests on a dev
 * server). A server-side storefront's shoppers are each limited by their own IP.
 */
import { settings } from "../config";
import { ApiError } from "./problem";
import { storefrontShopperIp } from "./storefront";

/** Which limit a route draws from. */
export type Limit = "cart_create" | "cart_write" | "availability" | "health_deep";

const BINDINGS: Record<Limit, (env: Env) => RateLimit> = {
  cart_create: (env) => env.CART_CREATE_LIMITER,
  cart_write: (env) => env.CART_WRITE_LIMITER,
  availability: (env) => env.AVAILABILITY_LIMITER,
  health_deep: (env) => env.HEALTH_LIMITER,
};

/**
 * The client's IP: the shopper's, when a server-side storefront with a verified storefront key
 * names it (src/http/storefront.ts), else the connecting IP as Cloudflare reports it.
 */
export async function clientIp(request: Request, env: Env): Promise<string> {
  return (await storefrontShopperIp(request, env)) ?? request.headers.get("cf-connecting-ip") ?? "unknown";
}

/** Throws 429 `rate_limited` (with Retry-After) when the client is over the limit. */
export async function enforceRateLimit(env: Env, request: Request, limit: Limit): Promise<void> {
  if (!settings(env).rateLimits) return;
  const { success } = await BINDINGS[limit](env).limit({ key: `${limit}:${await clientIp(request, env)}` });
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
