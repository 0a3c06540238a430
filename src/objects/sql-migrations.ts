/**
 * A small, numbered, transactional SQLite migration runner for Durable Objects (after
 * lambrospetrou/durable-utils). Each object calls it in its constructor inside
 * `blockConcurrencyWhile`; migrations that already ran are skipped, each new one runs in its own
 * transaction together with the bookkeeping row, so a crash never leaves half a migration.
 */

/** One schema step. `version` numbers start at 1 and never change once deployed. */
export interface SqlMigration {
  version: number;
  description: string;
  sql: string;
}

/** Applies every migration newer than the stored version, in order. Returns the final version. */
export function runSqlMigrations(storage: DurableObjectStorage, migrations: readonly SqlMigration[]): number {
  const sql = storage.sql;
  sql.exec("CREATE TABLE IF NOT EXISTS _migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)");
  const current = sql.exec<{ v: number | null }>("SELECT MAX(version) AS v FROM _migrations").one().v ?? 0;
  let version = current;
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (migration.version <= current) continue;
    if (migration.version !== version + 1) throw new Error(`migration ${migration.version} does not follow ${version}`);
    storage.transactionSync(() => {
      sql.exec(migration.sql);
      sql.exec("INSERT INTO _migrations (version, description, applied_at) VALUES (?, ?, ?)", migration.version, migration.description, Date.now());
    });
    version = migration.version;
  }
  return version;
}
