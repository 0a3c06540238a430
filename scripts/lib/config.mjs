// Shared by the dev-side scripts (seed, pay, bench): where the server is and which secrets it
// runs with — environment first, then .dev.vars, then .dev.vars.example.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Parses a dotenv-style file (KEY=value, # comments); missing file → {}. */
export function readVars(file) {
  const vars = {};
  if (!fs.existsSync(file)) return vars;
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match) continue;
    let value = match[2];
    if (/^".*"$/.test(value) || /^'.*'$/.test(value)) value = value.slice(1, -1);
    vars[match[1]] = value;
  }
  return vars;
}

/** One setting: environment, then .dev.vars, then .dev.vars.example. */
export function setting(name, fallback) {
  if (process.env[name]) return process.env[name];
  const local = readVars(path.join(root, ".dev.vars"));
  if (local[name]) return local[name];
  const example = readVars(path.join(root, ".dev.vars.example"));
  return example[name] || fallback;
}

/** `--name value` or `--name=value` from argv, else undefined. */
export function flag(argv, name) {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1];
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  return undefined;
}

/** The server's base URL: --url, EDGECART_URL, or the dev server on PORT. */
export function baseUrl(argv = process.argv.slice(2)) {
  return (flag(argv, "url") ?? process.env.EDGECART_URL ?? `http://127.0.0.1:${process.env.PORT || 8787}`).replace(/\/$/, "");
}
