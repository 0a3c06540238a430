// Settings of `npm run dev` (scripts/dev.mjs): .dev.vars (created from .dev.vars.example when
// missing), overridden by environment variables of the same name; ports; and printing them with
// the secrets hidden.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { parseEnv } from "node:util";
import { log } from "./dev-util.mjs";

/** Names read from the environment only; never passed to the Worker. */
const ENV_ONLY = new Set(["PORT", "DEV_PG_PORT", "DEV_RELAY_PORT", "DEV_PERSIST_TO", "DEV_PG_DATA"]);
/** Values never printed. */
const SECRET = new Set([
  "ADMIN_TOKEN",
  "PAYMENT_WEBHOOK_SECRET",
  "STRIPE_WEBHOOK_SECRET",
  "CART_TOKEN_SECRET",
  "TAX_SERVICE_SECRET",
  "DATABASE_URL",
]);

/**
 * Secrets the Worker reads only in some modes, so not in wrangler.toml's `[secrets] required`.
 * wrangler dev takes from an env file only the names wrangler.toml declares (vars and required
 * secrets) and silently drops the rest, so these reach it as `--var NAME:value` instead: hidden in
 * wrangler's binding table, but visible in the process list. Development values only.
 */
export const OPTIONAL_SECRETS = ["TAX_SERVICE_SECRET"];

function readVars(file) {
  return fs.existsSync(file) ? parseEnv(fs.readFileSync(file, "utf8")) : {};
}

export function portFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${name}=${raw} is not a TCP port`);
  }
  return port;
}

export function portInUse(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(true));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(false)));
  });
}

export function settings(root) {
  const devVarsPath = path.join(root, ".dev.vars");
  const examplePath = path.join(root, ".dev.vars.example");
  if (!fs.existsSync(devVarsPath)) {
    fs.copyFileSync(examplePath, devVarsPath);
    log("created .dev.vars from .dev.vars.example");
  }
  const defaults = readVars(examplePath);
  const file = readVars(devVarsPath);
  const missing = Object.keys(defaults).filter((name) => !(name in file));
  if (missing.length > 0) log(`.dev.vars lacks ${missing.join(", ")}: using .dev.vars.example's`);
  const vars = { ...defaults, ...file };
  const fromEnv = [];
  for (const name of new Set([...Object.keys(vars), "DATABASE_WS_PROXY"])) {
    if (ENV_ONLY.has(name)) {
      delete vars[name];
    } else if (process.env[name] !== undefined) {
      vars[name] = process.env[name];
      fromEnv.push(name);
    }
  }
  return { vars, fromEnv };
}

export function describe(vars) {
  return Object.entries(vars)
    .map(([name, value]) => `${name}=${SECRET.has(name) && value ? (name === "DATABASE_URL" ? redactUrl(value) : "***") : value}`)
    .join(" ");
}

function redactUrl(value) {
  try {
    const url = new URL(value);
    if (url.password) url.password = "***";
    return url.toString();
  } catch {
    return "***";
  }
}
