/**
 * The merges a cart drives as the target (cart-merge.ts), in the cart's SQLite database: each
 * one's state, plan and report. The only code that touches the `merges` table. Its table is the
 * cart's (cart-schema.ts), created by the cart's first change: it shares {@link CartStore}'s
 * LazySchema, so both agree on whether it exists. Synchronous; time is a parameter.
 */
import type { HoldMove, MergeMode, MergeReportEntry } from "../domain/merge";
import type { ReadMemo } from "./read-memo";
import type { LazySchema } from "./sql-migrations";

/** A merge this cart drives as the target (cart-merge.ts). */
export interface MergeRecord {
  merge_id: string;
  source_id: string;
  mode: MergeMode;
  state: "locking" | "moving" | "done" | "aborted";
  /** The planned moves, each updated with the quantity its SKU object settled on. */
  moves: Array<HoldMove & { done?: boolean }> | null;
  report: MergeReportEntry[] | null;
  /** Why it was aborted, as answered. */
  refusal: Record<string, unknown> | null;
  source_settled: boolean;
  /** How many earlier attempts of this pair were aborted: the SKU objects see one merge id per attempt. */
  attempt: number;
}

interface MergeRow extends Record<string, SqlStorageValue> {
  merge_id: string;
  source_id: string;
  mode: string;
  state: string;
  moves: string | null;
  report: string | null;
  refusal: string | null;
  source_settled: number;
  attempt: number;
}

function mergeOf(row: MergeRow): MergeRecord {
  const parse = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));
  return {
    merge_id: row.merge_id,
    source_id: row.source_id,
    mode: row.mode as MergeMode,
    state: row.state as MergeRecord["state"],
    moves: parse(row.moves),
    report: parse(row.report),
    refusal: parse(row.refusal),
    source_settled: row.source_settled === 1,
    attempt: row.attempt,
  };
}

/** SQL access for the merges one cart drives (CartStore offers each of these). */
export class CartMergeStore {
  constructor(
    private readonly storage: DurableObjectStorage,
    /** The cart store's schema: its readiness is this store's. */
    private readonly schema: LazySchema,
    /** The cart store's remembered reads: every write here forgets them. */
    private readonly reads: ReadMemo,
  ) {}

  private get sql(): SqlStorage {
    return this.storage.sql;
  }

  /** A merge this cart drives, by id, or null. */
  mergeRecord(mergeId: string): MergeRecord | null {
    if (!this.schema.ready) return null;
    const row = this.sql.exec<MergeRow>("SELECT * FROM merges WHERE merge_id = ?", mergeId).toArray()[0];
    return row ? mergeOf(row) : null;
  }

  /** Merges still owed work: unfinished, or finished with the source not yet told. */
  pendingMerges(): MergeRecord[] {
    if (!this.schema.ready) return [];
    return this.reads.rows("pending_merges", () => this.#readPending());
  }

  #readPending(): MergeRecord[] {
    return this.sql
      .exec<MergeRow>(
        "SELECT * FROM merges WHERE state IN ('locking', 'moving') OR (state = 'done' AND source_settled = 0) ORDER BY created_at",
      )
      .toArray()
      .map(mergeOf);
  }

  /** Writes a merge's record (call inside CartStore `write`'s `also` when it goes with a cart change). */
  saveMerge(record: MergeRecord, now: number): void {
    this.reads.forget();
    this.sql.exec(
      `INSERT INTO merges (merge_id, source_id, mode, state, moves, report, refusal, source_settled, attempt, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (merge_id) DO UPDATE SET mode = excluded.mode, state = excluded.state, moves = excluded.moves, report = excluded.report, refusal = excluded.refusal,
         source_settled = excluded.source_settled, attempt = excluded.attempt`,
      record.merge_id,
      record.source_id,
      record.mode,
      record.state,
      record.moves === null ? null : JSON.stringify(record.moves),
      record.report === null ? null : JSON.stringify(record.report),
      record.refusal === null ? null : JSON.stringify(record.refusal),
      record.source_settled ? 1 : 0,
      record.attempt,
      now,
    );
  }
}
