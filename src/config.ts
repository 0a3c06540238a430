/**
 * Worker settings from vars (strings in the environment), parsed once per isolate.
 */
import { z } from "zod";

const Settings = z.object({
  HOLD_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).catch(900),
  PAYMENT_TTL_SECONDS: z.coerce.number().int().min(1).max(7 * 86_400).catch(1800),
  MAX_LINE_QUANTITY: z.coerce.number().int().min(1).max(1000).catch(10),
  RATE_LIMITS: z.enum(["on", "off"]).catch("on"),
  MAX_HOLD_SECONDS: z.coerce.number().int().min(1).max(7 * 86_400).optional().catch(undefined),
  CLIENT_HOLD_LIMIT: z.coerce.number().int().min(1).max(1_000_000).catch(10),
  TAX_MODE: z.enum(["none", "rates", "external"]).catch("none"),
});

export interface Settings {
  /** CART_TOKEN_SECRET, split on commas: the first signs new cart tokens, every one verifies (rotation). */
  cartTokenSecrets: string[];
  holdTtlSeconds: number;
  paymentTtlSeconds: number;
  maxLineQuantity: number;
  rateLimits: boolean;
  /** How long a cart's hold may live from its first reservation, whatever renews it (default 2 × HOLD_TTL_SECONDS). */
  maxHoldSeconds: number;
  /** Units of one SKU one client may hold across its carts; undefined when RATE_LIMITS is off. */
  clientHoldLimit: number | undefined;
  /** How carts are taxed: not at all, by the published rates per country, or by the external tax service. */
  taxMode: "none" | "rates" | "external";
}

/** The effective settings; a malformed var falls back to its documented default. */
export function settings(env: Env): Settings {
  const parsed = Settings.parse({
    HOLD_TTL_SECONDS: env.HOLD_TTL_SECONDS,
    PAYMENT_TTL_SECONDS: env.PAYMENT_TTL_SECONDS,
    MAX_LINE_QUANTITY: env.MAX_LINE_QUANTITY,
    RATE_LIMITS: env.RATE_LIMITS,
    MAX_HOLD_SECONDS: env.MAX_HOLD_SECONDS || undefined,
    CLIENT_HOLD_LIMIT: env.CLIENT_HOLD_LIMIT,
    TAX_MODE: env.TAX_MODE,
  });
  return {
    cartTokenSecrets: (env.CART_TOKEN_SECRET ?? "")
      .split(",")
      .map((secret) => secret.trim())
      .filter((secret) => secret.length > 0),
    holdTtlSeconds: parsed.HOLD_TTL_SECONDS,
    paymentTtlSeconds: parsed.PAYMENT_TTL_SECONDS,
    maxLineQuantity: parsed.MAX_LINE_QUANTITY,
    rateLimits: parsed.RATE_LIMITS === "on",
    maxHoldSeconds: Math.max(parsed.MAX_HOLD_SECONDS ?? 2 * parsed.HOLD_TTL_SECONDS, parsed.HOLD_TTL_SECONDS),
    clientHoldLimit: parsed.RATE_LIMITS === "on" ? parsed.CLIENT_HOLD_LIMIT : undefined,
    taxMode: parsed.TAX_MODE,
  };
}
