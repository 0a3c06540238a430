// A store's baseline (the whole schema for a database that has none of it) builds exactly what its
// numbered migrations build, and an object that has the migrations' schema keeps migrating on.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { CART_SCHEMA } from "../src/objects/cart-schema";
import { ORDER_SCHEMA } from "../src/objects/order-schema";
import { runSqlMigrations, type StoreSchema } from "../src/objects/sql-migrations";

/** Every table and index of the store, as SQLite describes them (columns, checks, keys), whitespace and quoting aside. */
function describeSchema(sql: SqlStorage) {
  const normalize = (text: string | null) =>
    (text ?? "").replace(/["`]/g, "").replace(/\s+/g, " ").replace(/\( /g, "(").replace(/ \)/g, ")").replace(/ ,/g, ",").trim();
  const objects = sql
    .exec<{ type: string; name: string; tbl_name: string; sql: string | null }>(
      "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> '_schema' ORDER BY type, name",
    )
    .toArray();
  return objects.map((o) => ({
    type: o.type,
    name: o.name,
    sql: normalize(o.sql),
    columns: o.type === "table" ? sql.exec(`PRAGMA table_xinfo(${o.name})`).toArray() : null,
  }));
}

/** Runs `schemas` in a fresh object of its own; the schema it built and the bookkeeping rows. */
async function build(schemas: StoreSchema[]) {
  const stub = env.CARTS.get(env.CARTS.newUniqueId());
  return runInDurableObject(stub, (_i, state) => {
    const versions = runSqlMigrations(state.storage, schemas);
    const rows = state.storage.sql.exec("SELECT store, version, description FROM _schema ORDER BY store, version").toArray();
    return { versions, rows, schema: describeSchema(state.storage.sql) };
  });
}

describe.each([CART_SCHEMA, ORDER_SCHEMA])("the $store store's baseline", (schema) => {
  it("builds the same tables, columns, checks and keys as every migration run in order, and records the same versions", async () => {
    expect(schema.baseline).toBeDefined();
    const stepwise = await build([{ ...schema, baseline: undefined }]);
    const baseline = await build([schema]);
    expect(baseline.schema.length).toBeGreaterThan(0);
    expect(baseline.schema).toEqual(stepwise.schema);
    expect(baseline.rows).toEqual(stepwise.rows);
    expect(baseline.versions).toEqual({ [schema.store]: schema.migrations.at(-1)!.version });
  });

  it("runs the migrations after the baseline on top of it", async () => {
    const last = schema.migrations.at(-1)!;
    const next = { version: last.version + 1, description: "a later step", sql: "CREATE TABLE later_step (id INTEGER PRIMARY KEY);" };
    const built = await build([{ ...schema, migrations: [...schema.migrations, next] }]);
    expect(built.versions).toEqual({ [schema.store]: next.version });
    expect(built.schema.map((o) => o.name)).toContain("later_step");
  });
});

describe("a schema newer than the code", () => {
  it("is refused, and nothing is written: older code never runs on a later step's tables", async () => {
    const stub = env.CARTS.get(env.CARTS.newUniqueId());
    await runInDurableObject(stub, (_i, state) => {
      const step = (version: number) => ({
        version,
        description: `step ${version}`,
        sql: `CREATE TABLE t${version} (id INTEGER PRIMARY KEY);`,
      });
      expect(runSqlMigrations(state.storage, [{ store: "s", migrations: [step(1), step(2)] }])).toEqual({ s: 2 });
      const rows = () => state.storage.sql.exec("SELECT store, version FROM _schema ORDER BY version").toArray();
      const before = rows();
      expect(() => runSqlMigrations(state.storage, [{ store: "s", migrations: [step(1)] }])).toThrow(
        "s schema is at version 2, newer than this code's 1: refusing to run on it",
      );
      expect(rows()).toEqual(before);
      expect(runSqlMigrations(state.storage, [{ store: "s", migrations: [step(1), step(2), step(3)] }])).toEqual({ s: 3 });
    });
  });
});
