/**
 * Worker settings from vars (strings in the environment), parsed once per isolate.
 */
import * as z from "zod";
import { log } from "./platform/log";

const Settings = z.object({
  HOLD_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).catch(900),
  PAYMENT_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 86_400)
    .catch(1800),
  MAX_LINE_QUANTITY: z.coerce.number().int().min(1).max(1000).catch(10),
  RATE_LIMITS: z.enum(["on", "off"]).catch("on"),
  MAX_HOLD_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 86_400)
    .optional()
    .catch(undefined),
  CLIENT_HOLD_LIMIT: z.coerce.number().int().min(1).max(1_000_000).catch(10),
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
  /**
   * How carts are taxed (TAX_MODE): `none`, `rates` (the published rate table) or `external` (the
   * tax service). Unset or empty is `none`. Any other value is a misconfiguration that must never
   * stop tax from being charged: it counts as `external` with no service configured, so tax is
   * unavailable (checkout answers 503 `tax_unavailable`) until it is fixed, and it is logged.
   */
  taxMode: TaxMode;
  /**
   * TAX_SERVICE_URL: where the external tax quote is POSTed; https, or http to a loopback host
   * (development and tests). Undefined when unset, malformed, plain http elsewhere, or TAX_MODE is
   * unknown: then no quote can be had.
   */
  taxServiceUrl: string | undefined;
  /** TAX_SERVICE_SECRET (a secret; `whsec_` + base64 key, Standard Webhooks): signs each tax request. */
  taxServiceSecret: string | undefined;
}

export type TaxMode = "none" | "rates" | "external";

const TAX_MODES: ReadonlySet<string> = new Set<TaxMode>(["none", "rates", "external"]);
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Secrets the Worker reads only in some modes: not in wrangler.toml's `[secrets] required`, so not in the generated `Env`. */
interface OptionalSecrets {
  TAX_SERVICE_SECRET?: string;
}

/** Each misconfiguration is logged once per isolate, not on every request. */
const reported = new Set<string>();
function reportOnce(key: string, message: string, fields: Record<string, unknown>): void {
  if (reported.has(key)) return;
  reported.add(key);
  log("error", message, fields);
}

function taxServiceUrl(raw: string | undefined): string | undefined {
  const text = raw?.trim() ?? "";
  if (text === "") return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    reportOnce(`url:${text}`, "TAX_SERVICE_URL is not a URL; external tax is unavailable", {});
    return undefined;
  }
  if (url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname))) return url.toString();
  reportOnce(`url:${text}`, "TAX_SERVICE_URL must be https (plain http only to a loopback host); external tax is unavailable", {
    protocol: url.protocol,
    host: url.hostname,
  });
  return undefined;
}

/** TAX_MODE, TAX_SERVICE_URL and TAX_SERVICE_SECRET as `settings` exposes them (see `Settings.taxMode`). */
function taxSettings(env: Env): Pick<Settings, "taxMode" | "taxServiceUrl" | "taxServiceSecret"> {
  const mode = (env.TAX_MODE ?? "").trim().toLowerCase();
  if (mode !== "" && !TAX_MODES.has(mode)) {
    // Fail closed: a typo (e.g. "extenal") must neither charge no tax nor reach a service half-configured.
    reportOnce(`mode:${mode}`, "TAX_MODE is not none, rates or external; tax is unavailable until it is fixed", {
      tax_mode: mode.slice(0, 40),
    });
    return { taxMode: "external", taxServiceUrl: undefined, taxServiceSecret: undefined };
  }
  const secret = (env as Env & OptionalSecrets).TAX_SERVICE_SECRET?.trim();
  return {
    taxMode: mode === "" ? "none" : (mode as TaxMode),
    taxServiceUrl: taxServiceUrl(env.TAX_SERVICE_URL),
    taxServiceSecret: secret === "" ? undefined : secret,
  };
}

/**
 * Settings per environment object: every request reads them, most more than once, and an isolate
 * keeps one `env` for its life (a test that passes other vars passes another object).
 */
const settingsByEnv = new WeakMap<object, Settings>();

/** The effective settings; a malformed var falls back to its documented default (TAX_MODE excepted: see `Settings.taxMode`). */
export function settings(env: Env): Settings {
  let value = settingsByEnv.get(env);
  if (value === undefined) {
    value = Object.freeze(readSettings(env));
    settingsByEnv.set(env, value);
  }
  return value;
}

function readSettings(env: Env): Settings {
  const parsed = Settings.parse({
    HOLD_TTL_SECONDS: env.HOLD_TTL_SECONDS,
    PAYMENT_TTL_SECONDS: env.PAYMENT_TTL_SECONDS,
    MAX_LINE_QUANTITY: env.MAX_LINE_QUANTITY,
    RATE_LIMITS: env.RATE_LIMITS,
    MAX_HOLD_SECONDS: env.MAX_HOLD_SECONDS || undefined,
    CLIENT_HOLD_LIMIT: env.CLIENT_HOLD_LIMIT,
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
    ...taxSettings(env),
  };
}
