/**
 * A small, numbered, transactional SQLite migration runner for Durable Objects (after
 * lambrospetrou/durable-utils). Each store owns its tables and numbers its own migrations; an
 * object runs its stores' migrations in its constructor inside `blockConcurrencyWhile`. Every new
 * migration runs in its own transaction together with its bookkeeping row, so a crash never
 * leaves half a migration.
 *
 * Objects created before stores numbered their own migrations kept one global list in
 * `_migrations`; a migration that names its `legacyVersion` is taken as applied when that global
 * version was, so those objects join the per-store bookkeeping without running anything twice.
 */
import { errorFields, log } from "../platform/log";

/** One schema step of a store. `version` numbers start at 1 and never change once deployed. */
export interface SqlMigration {
  version: number;
  description: string;
  sql: string;
  /** The global version this step had in the old single-list bookkeeping, if it existed then. */
  legacyVersion?: number;
}

/** A store's schema: its name and its migrations. */
export interface StoreSchema {
  store: string;
  migrations: readonly SqlMigration[];
  /**
   * The store's whole schema as of migration `version`, for a database that has none of it yet:
   * one step instead of every migration up to there (a new cart's first write created its tables
   * through six migrations, two of them table rebuilds). It must build exactly what those
   * migrations build (test/sql-migrations.test.ts compares the two); later migrations run after it.
   */
  baseline?: { version: number; sql: string };
}

function tableExists(sql: SqlStorage, name: string): boolean {
  return sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", name).toArray().length > 0;
}

/** The table the runtime keeps an SQLite-backed object's alarm in. */
const ALARM_TABLE = "_cf_METADATA";

/**
 * Has the runtime create the table it keeps this object's alarm in, now, inside the caller's
 * write: call it where the object creates its own tables. The runtime creates that table on an
 * object's first `setAlarm`, and a table created is a schema change, after which SQLite re-prepares
 * every statement the object had prepared. On a cart that is its second line (the first whose hold
 * must be renewed): in a CPU profile of second lines under `npm run dev`, `setAlarm` took 11% of
 * the samples, and 2% with the table made earlier. In a write that changes the schema anyway the
 * DDL costs next to nothing.
 *
 * Setting a distant alarm and clearing it in the same turn creates the table and leaves no alarm:
 * the runtime tells its alarm scheduler only what changed by the commit, and nothing did. Where
 * the table exists an alarm may be armed, so this then does nothing.
 */
function createAlarmTable(storage: DurableObjectStorage): void {
  if (tableExists(storage.sql, ALARM_TABLE)) return;
  // Both settle at once on SQLite-backed storage. Should either fail, the first real alarm makes the
  // table (a distant alarm left armed would wake the object once, find nothing due and re-arm).
  const failed = (error: unknown) => log("warn", "could not create the alarm table early", errorFields(error));
  storage.setAlarm(Date.now() + 365 * 86_400_000).catch(failed);
  storage.deleteAlarm().catch(failed);
}

/** Whether the object has ever been given a schema (false: its storage is empty). */
export function hasSchema(storage: DurableObjectStorage): boolean {
  return tableExists(storage.sql, "_schema") || tableExists(storage.sql, "_migrations");
}

/**
 * A store whose tables are created on its first write: `open()` migrates an existing schema
 * (call it in the constructor), `ensure()` creates it inside the write that needs it, so that
 * write and the DDL are one commit. `probe` is a table of the store's first migration.
 */
export class LazySchema {
  #ready = false;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly schema: StoreSchema,
    private readonly probe: string,
  ) {}

  /** Migrates the store if its tables exist; returns whether they do. */
  open(): boolean {
    if (!this.#ready && tableExists(this.storage.sql, this.probe)) {
      runSqlMigrations(this.storage, [this.schema]);
      this.#ready = true;
    }
    return this.#ready;
  }

  /** Whether the store's tables exist. */
  get ready(): boolean {
    return this.#ready;
  }

  /** Creates (or upgrades) the store's tables now, and the runtime's alarm table with them (see createAlarmTable). */
  ensure(): void {
    if (this.#ready) return;
    runSqlMigrations(this.storage, [this.schema]);
    createAlarmTable(this.storage);
    this.#ready = true;
  }

  /** Forgets that the tables exist (after the object's storage was deleted). */
  reset(): void {
    this.#ready = false;
  }
}

/** The bookkeeping row of a migration applied (or covered by the baseline) in the current transaction. */
function recordMigration(sql: SqlStorage, store: string, migration: SqlMigration): void {
  sql.exec(
    "INSERT INTO _schema (store, version, description, applied_at) VALUES (?, ?, ?, ?)",
    store,
    migration.version,
    migration.description,
    Date.now(),
  );
}

/**
 * Applies every migration of each store newer than the one it has, in order. Returns the versions.
 * Throws when a store's schema is newer than its migrations here (never roll code back past a step).
 */
export function runSqlMigrations(storage: DurableObjectStorage, schemas: readonly StoreSchema[]): Record<string, number> {
  const sql = storage.sql;
  const legacy = tableExists(sql, "_migrations")
    ? (sql.exec<{ v: number | null }>("SELECT MAX(version) AS v FROM _migrations").one().v ?? 0)
    : 0;
  sql.exec(
    "CREATE TABLE IF NOT EXISTS _schema (store TEXT NOT NULL, version INTEGER NOT NULL, description TEXT NOT NULL, applied_at INTEGER NOT NULL, PRIMARY KEY (store, version))",
  );
  const versions: Record<string, number> = {};
  for (const { store, migrations, baseline } of schemas) {
    let version = sql.exec<{ v: number | null }>("SELECT MAX(version) AS v FROM _schema WHERE store = ?", store).one().v ?? 0;
    // Code older than the schema (a rollback, or an old version still serving during a deploy)
    // must not write to it: a later step may change what each write means (inventory step 8 moves
    // the stock row by trigger, and older code would move it twice). The object refuses to start.
    const known = Math.max(0, ...migrations.map((migration) => migration.version));
    if (version > known)
      throw new Error(`${store} schema is at version ${version}, newer than this code's ${known}: refusing to run on it`);
    if (version === 0 && legacy === 0 && baseline !== undefined) {
      const covered = migrations.filter((migration) => migration.version <= baseline.version);
      storage.transactionSync(() => {
        sql.exec(baseline.sql);
        for (const migration of covered) recordMigration(sql, store, migration);
      });
      version = baseline.version;
    }
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (migration.version <= version) continue;
      if (migration.version !== version + 1) throw new Error(`${store} migration ${migration.version} does not follow ${version}`);
      const adopted = migration.legacyVersion !== undefined && migration.legacyVersion <= legacy;
      storage.transactionSync(() => {
        if (!adopted) sql.exec(migration.sql);
        recordMigration(sql, store, migration);
      });
      version = migration.version;
    }
    versions[store] = version;
  }
  return versions;
}
