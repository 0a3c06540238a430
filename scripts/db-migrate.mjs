// npm run db:migrate: applies the drizzle migrations in migrations/ to the Postgres at DATABASE_URL
// (Neon in production: its direct, non-pooled connection string), the same way npm run dev and
// the tests migrate, and prints which ones it applied. Refuses to run without DATABASE_URL: it
// never falls back to .dev.vars or a default, so it cannot migrate a database nobody named.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { root } from "./lib/config.mjs";
import { migrate } from "./lib/postgres.mjs";

const require = createRequire(import.meta.url);

/** The URL without its password, for printing. */
function redact(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable URL)";
  }
}

/** The `created_at` (the journal's `when`) of every migration drizzle recorded as applied; none before the first run. */
async function appliedMigrations(url) {
  const pg = require("pg");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows: exists } = await client.query("select to_regclass('drizzle.__drizzle_migrations') is not null as present");
    if (!exists[0].present) return new Set();
    const { rows } = await client.query("select created_at from drizzle.__drizzle_migrations");
    return new Set(rows.map((row) => Number(row.created_at)));
  } finally {
    await client.end();
  }
}

async function main() {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error("db:migrate: DATABASE_URL is not set; refusing to run. Usage: DATABASE_URL=postgres://… npm run db:migrate");
    process.exit(2);
  }
  const journal = JSON.parse(fs.readFileSync(path.join(root, "migrations", "meta", "_journal.json"), "utf8"));
  console.log(`db:migrate: ${redact(url)} (${journal.entries.length} migrations in migrations/)`);
  const before = await appliedMigrations(url);
  await migrate(url);
  const after = await appliedMigrations(url);
  const applied = journal.entries.filter((entry) => after.has(entry.when) && !before.has(entry.when));
  for (const entry of applied) console.log(`db:migrate: applied ${entry.tag}`);
  const missing = journal.entries.filter((entry) => !after.has(entry.when));
  // drizzle applies what is newer than the last migration it recorded; an older one it never
  // recorded (applied by hand, or a journal rewritten) is worth a look.
  if (missing.length > 0) console.warn(`db:migrate: warning: not recorded as applied: ${missing.map((entry) => entry.tag).join(", ")}`);
  console.log(
    applied.length === 0
      ? `db:migrate: up to date, nothing to apply (${after.size} applied before)`
      : `db:migrate: applied ${applied.length}, ${journal.entries.length} in all`,
  );
}

main().catch((error) => {
  console.error(`db:migrate: failed: ${error.message}`);
  process.exit(1);
});
