/**
 * IdempotencyObject: one per (credential scope, Idempotency-Key), named
 * `${sha256(scope)}:${sha256(key)}` by src/objects/stubs.ts, so neither a raw token nor a raw
 * key is ever stored or appears in a name. It holds at most one record: the attempt that is
 * executing under the key (with a lease), or the response the first attempt produced.
 *
 * Strongly consistent by construction: `begin` is a synchronous read-then-write behind the
 * object's input gate, so of any number of concurrent requests with one key exactly one is told
 * `started`. Attempts are named by a caller-chosen id: after a lease takeover the stale attempt
 * has the same fingerprint as the new one, so only the id tells them apart, and a late
 * `complete`/`abandon` from the stale one must not touch the record the new one owns.
 *
 * Retention and lease are RPC arguments (the HTTP layer passes 24 h and 60 s), so tests drive
 * expiry with short values instead of test-only branches.
 */
import { DurableObject } from "cloudflare:workers";
import { type BeginOutcome, type FinishOutcome, type KeyRecord, planBegin, recordDueAt, type StoredResponse } from "../domain/idempotency";
import { hasSchema, runSqlMigrations, type StoreSchema } from "./sql-migrations";

/** Schema of an IdempotencyObject: a single row, `in_flight` or `completed`. */
export const IDEMPOTENCY_SCHEMA: StoreSchema = {
  store: "idempotency",
  migrations: [
    {
      version: 1,
      legacyVersion: 1,
      description: "the key's single record",
      sql: `
      CREATE TABLE record (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        fingerprint TEXT NOT NULL,
        attempt TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('in_flight', 'completed')),
        lease_until INTEGER NOT NULL,
        status INTEGER,
        headers TEXT,
        body BLOB,
        expires_at INTEGER,
        CHECK (state = 'in_flight' OR (status IS NOT NULL AND headers IS NOT NULL AND expires_at IS NOT NULL))
      );
    `,
    },
  ],
};

/** The stored row, as read back. */
interface RecordRow extends KeyRecord, Record<string, SqlStorageValue> {
  status: number | null;
  headers: string | null;
  body: ArrayBuffer | null;
}

export class IdempotencyObject extends DurableObject<Env> {
  /** False after the storage was wiped; the schema is recreated on the next `begin`. */
  #schemaReady = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // An object that holds a record gets any newer schema before its first call. An empty one
    // (never used, or wiped) stays empty until `begin` needs a table: a stale attempt's late
    // `complete` must not leave behind an empty database that no alarm would ever delete.
    ctx.blockConcurrencyWhile(async () => {
      if (hasSchema(ctx.storage)) this.#ensureSchema();
    });
  }

  #ensureSchema(): void {
    if (this.#schemaReady) return;
    runSqlMigrations(this.ctx.storage, [IDEMPOTENCY_SCHEMA]);
    this.#schemaReady = true;
  }

  #record(): RecordRow | null {
    if (!this.#schemaReady) return null;
    return (
      this.ctx.storage.sql
        .exec<RecordRow>("SELECT fingerprint, attempt, state, lease_until, status, headers, body, expires_at FROM record WHERE id = 1")
        .toArray()[0] ?? null
    );
  }

  /** Deletes everything (row, schema, alarm) so an unused key costs no storage. */
  async #wipe(): Promise<void> {
    await this.ctx.blockConcurrencyWhile(async () => {
      await this.ctx.storage.deleteAlarm();
      await this.ctx.storage.deleteAll();
      this.#schemaReady = false;
    });
  }

  /**
   * Claims the key for attempt `attempt` of the request whose fingerprint is `fingerprint`, for
   * `leaseMs`; or reports why not. Repeating a call with the same attempt id is harmless.
   */
  async begin(fingerprint: string, attempt: string, leaseMs: number): Promise<BeginOutcome> {
    this.#ensureSchema();
    const now = Date.now();
    const record = this.#record();
    const plan = planBegin(record, fingerprint, attempt, now);
    switch (plan) {
      case "in_flight":
        return { state: "in_flight" };
      case "mismatch":
        return { state: "mismatch" };
      case "replay": {
        const stored = record!;
        return {
          state: "completed",
          status: stored.status!,
          headers: JSON.parse(stored.headers!) as Record<string, string>,
          body: stored.body,
        };
      }
      case "start":
      case "take_over":
      case "resume": {
        const leaseUntil = now + leaseMs;
        this.ctx.storage.sql.exec(
          `INSERT OR REPLACE INTO record (id, fingerprint, attempt, state, lease_until, status, headers, body, expires_at)
           VALUES (1, ?, ?, 'in_flight', ?, NULL, NULL, NULL, NULL)`,
          fingerprint,
          attempt,
          leaseUntil,
        );
        // A Worker that dies mid-request never calls complete/abandon: the alarm frees the key.
        await this.ctx.storage.setAlarm(leaseUntil);
        return { state: "started", takeover: plan === "take_over" };
      }
    }
  }

  /**
   * Stores the answer of attempt `attempt` for replay during `retainMs`. Refused (`lease_lost`)
   * when the attempt no longer owns the key; repeating a successful call is harmless.
   */
  async complete(attempt: string, response: StoredResponse, retainMs: number): Promise<FinishOutcome> {
    const record = this.#record();
    if (record === null || record.attempt !== attempt) return { ok: false, reason: "lease_lost" };
    if (record.state === "completed") return { ok: true };
    const expiresAt = Date.now() + retainMs;
    const body = response.body !== null && response.body.byteLength > 0 ? response.body : null;
    this.ctx.storage.sql.exec(
      "UPDATE record SET state = 'completed', status = ?, headers = ?, body = ?, expires_at = ? WHERE id = 1",
      response.status,
      JSON.stringify(response.headers),
      body,
      expiresAt,
    );
    await this.ctx.storage.setAlarm(expiresAt);
    return { ok: true };
  }

  /** Frees the key held by attempt `attempt` (its answer is not stored, so the client may retry). */
  async abandon(attempt: string): Promise<FinishOutcome> {
    const record = this.#record();
    if (record === null || record.state !== "in_flight" || record.attempt !== attempt) return { ok: false, reason: "lease_lost" };
    await this.#wipe();
    return { ok: true };
  }

  /**
   * Deletes the record once it is due (retention over, or lease run out with no answer), else
   * re-arms for its due time. Safe to run early, late or twice.
   */
  override async alarm(): Promise<void> {
    const record = this.#record();
    if (record !== null && recordDueAt(record) > Date.now()) {
      await this.ctx.storage.setAlarm(recordDueAt(record));
      return;
    }
    await this.#wipe();
  }
}
