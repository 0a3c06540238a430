// CI check: the bench Worker's config (bench/wrangler.toml) binds everything the production config
// (wrangler.toml) binds, under the same names, and sets every var it sets: the production code the
// bench runs reads them all. Prints what is missing and exits 1, or prints nothing and exits 0.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Binding names (`binding = "X"`, and `name = "X"` inside a binding table) and var names of a wrangler.toml. */
export function namesOf(text) {
  const names = new Set();
  let table = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const header = /^\[\[?([^\]]+)\]\]?$/.exec(line);
    if (header) {
      table = header[1];
      continue;
    }
    const entry = /^([A-Za-z_]+)\s*=\s*"([^"]*)"/.exec(line);
    if (!entry) continue;
    const [, key, value] = entry;
    if (table === "vars") names.add(`var ${key}`);
    else if (key === "binding") names.add(`${table} ${value}`);
    else if (key === "name" && (table === "durable_objects.bindings" || table === "ratelimits")) names.add(`${table} ${value}`);
  }
  return names;
}

const production = namesOf(fs.readFileSync(path.join(root, "wrangler.toml"), "utf8"));
const bench = namesOf(fs.readFileSync(path.join(root, "bench/wrangler.toml"), "utf8"));
const missing = [...production].filter((name) => !bench.has(name));
if (missing.length > 0) {
  console.error(`bench/wrangler.toml lacks what wrangler.toml has: ${missing.join(", ")}`);
  process.exit(1);
}
