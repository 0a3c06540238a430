/**
 * The SQLite schema of an InventoryObject (docs/storage.md describes each table), owned by
 * {@link InventoryStore}. Numbered migrations; never edit one that has shipped.
 */
import type { StoreSchema } from "./sql-migrations";

/** Step 8's trigger: every ledger row moves the stock row by its deltas (also recreated by step 9). */
const LEDGER_MOVES_STOCK = `
      CREATE TRIGGER ledger_moves_stock AFTER INSERT ON ledger BEGIN
        SELECT RAISE(ABORT, 'a ledger row needs the stock row') WHERE NOT EXISTS (SELECT 1 FROM stock WHERE id = 1);
        UPDATE stock SET
          on_hand = on_hand + NEW.on_hand_delta,
          reserved = reserved + NEW.reserved_delta,
          sold = sold - CASE WHEN NEW.kind = 'commit' THEN NEW.on_hand_delta ELSE 0 END
        WHERE id = 1;
      END;
`;

/** Step 8's view and its trigger: one hold's change in one statement (also recreated by step 9). */
const HOLD_CHANGES = `
      CREATE VIEW hold_changes AS SELECT
        NULL AS kind, NULL AS hold_id, NULL AS owner_id, NULL AS quantity, NULL AS expires_at, NULL AS held_since,
        NULL AS client, NULL AS on_hand_delta, NULL AS reserved_delta, NULL AS seq, NULL AS at, NULL AS is_new
        WHERE 0;
      CREATE TRIGGER hold_changes_apply INSTEAD OF INSERT ON hold_changes BEGIN
        SELECT RAISE(ABORT, 'hold_committed')
          WHERE NEW.is_new AND EXISTS (SELECT 1 FROM committed_holds WHERE hold_id = NEW.hold_id);
        DELETE FROM holds WHERE NEW.quantity = 0 AND hold_id = NEW.hold_id;
        INSERT INTO holds (hold_id, owner_id, quantity, expires_at, held_since, client)
          SELECT NEW.hold_id, NEW.owner_id, NEW.quantity, NEW.expires_at, NEW.held_since, NEW.client WHERE NEW.quantity > 0
          ON CONFLICT (hold_id) DO UPDATE SET owner_id = excluded.owner_id, quantity = excluded.quantity,
            expires_at = excluded.expires_at, held_since = excluded.held_since, client = excluded.client;
        INSERT INTO committed_holds (hold_id, owner_id, quantity, committed_at)
          SELECT NEW.hold_id, NEW.owner_id, -NEW.on_hand_delta, NEW.at WHERE NEW.kind = 'commit';
        INSERT INTO ledger (seq, at, kind, hold_id, on_hand_delta, reserved_delta)
          SELECT NEW.seq, NEW.at, NEW.kind, NEW.hold_id, NEW.on_hand_delta, NEW.reserved_delta
          WHERE NEW.on_hand_delta != 0 OR NEW.reserved_delta != 0;
      END;
`;

/** Schema of an InventoryObject (docs/storage.md describes each table). */
export const INVENTORY_SCHEMA: StoreSchema = {
  store: "inventory",
  migrations: [
    {
      version: 1,
      legacyVersion: 1,
      description: "stock, holds, ledger",
      sql: `
      CREATE TABLE stock (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        sku TEXT NOT NULL,
        on_hand INTEGER NOT NULL CHECK (on_hand >= 0),
        reserved INTEGER NOT NULL CHECK (reserved >= 0),
        sold INTEGER NOT NULL DEFAULT 0 CHECK (sold >= 0),
        CHECK (reserved <= on_hand)
      );
      CREATE TABLE holds (
        hold_id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        quantity INTEGER NOT NULL CHECK (quantity > 0),
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX holds_expires_at ON holds (expires_at);
      CREATE TABLE committed_holds (
        hold_id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        committed_at INTEGER NOT NULL
      );
      CREATE TABLE ledger (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('set', 'adjust', 'hold', 'release', 'expire', 'commit')),
        hold_id TEXT,
        operation_id TEXT UNIQUE,
        on_hand_delta INTEGER NOT NULL,
        reserved_delta INTEGER NOT NULL,
        reason TEXT
      );
    `,
    },
    {
      version: 2,
      legacyVersion: 2,
      description: "catalog entry pushed from Postgres",
      sql: `
      CREATE TABLE catalog (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        product_id TEXT NOT NULL,
        title TEXT NOT NULL,
        price_amount INTEGER NOT NULL CHECK (price_amount >= 0),
        currency TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('active', 'archived')),
        max_line_quantity INTEGER,
        version INTEGER NOT NULL
      );
    `,
    },
    {
      version: 3,
      legacyVersion: 3,
      description: "reporting of stock levels to Postgres",
      sql: `
      CREATE TABLE level_reports (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        reported_seq INTEGER NOT NULL DEFAULT 0,
        due_at INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0
      );
      INSERT INTO level_reports (id) VALUES (1);
    `,
    },
    {
      version: 4,
      description: "units sold before a restore, so reported totals survive it",
      sql: "ALTER TABLE level_reports ADD COLUMN sold_base INTEGER NOT NULL DEFAULT 0;",
    },
    {
      version: 5,
      description: "each hold's first reservation (its lifetime cap) and the client that holds it (a hash)",
      sql: `
      ALTER TABLE holds ADD COLUMN held_since INTEGER;
      ALTER TABLE holds ADD COLUMN client TEXT;
    `,
    },
    {
      version: 6,
      description: "the SKU's product category (promotions may target categories)",
      sql: "ALTER TABLE catalog ADD COLUMN category TEXT;",
    },
    {
      version: 7,
      description: "hold moves (cart merge): ledger kinds move_out and move_in, and the record of each move by merge id",
      // SQLite cannot change a CHECK in place: the ledger is copied into a table with the new kinds
      // (once per object, in this migration's transaction; seq values are kept).
      sql: `
      CREATE TABLE ledger_v7 (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('set', 'adjust', 'hold', 'release', 'expire', 'commit', 'move_out', 'move_in')),
        hold_id TEXT,
        operation_id TEXT UNIQUE,
        on_hand_delta INTEGER NOT NULL,
        reserved_delta INTEGER NOT NULL,
        reason TEXT
      );
      INSERT INTO ledger_v7 (seq, at, kind, hold_id, operation_id, on_hand_delta, reserved_delta, reason)
        SELECT seq, at, kind, hold_id, operation_id, on_hand_delta, reserved_delta, reason FROM ledger;
      DROP TABLE ledger;
      ALTER TABLE ledger_v7 RENAME TO ledger;
      CREATE TABLE hold_moves (
        merge_id TEXT PRIMARY KEY,
        from_hold_id TEXT,
        to_hold_id TEXT,
        to_owner_id TEXT,
        quantity INTEGER CHECK (quantity >= 0),
        from_before TEXT,
        to_before TEXT,
        answer TEXT,
        moved_at INTEGER,
        undo_answer TEXT,
        undone_at INTEGER,
        CHECK ((answer IS NULL) = (moved_at IS NULL)),
        CHECK ((undo_answer IS NULL) = (undone_at IS NULL)),
        CHECK (answer IS NOT NULL OR undo_answer IS NOT NULL)
      );
    `,
    },
    {
      version: 8,
      description: "the stock row follows the ledger (a trigger), and one hold's change is one statement (the hold_changes view)",
      // A new hold was four statements and a transaction: each statement crosses from JavaScript into
      // the runtime, and that crossing cost more than SQLite's own work. Now the database keeps
      // stock equal to the ledger's sums (so the two can never disagree, and stock's CHECKs still
      // refuse an oversell), and an insert into hold_changes applies one hold's change in one
      // statement, which SQLite makes atomic: the hold's row, the sale record, the ledger row and,
      // through the ledger, the stock. A new hold under a sold id aborts it (hold_committed).
      sql: `
${LEDGER_MOVES_STOCK}
${HOLD_CHANGES}
    `,
    },
    {
      version: 9,
      description:
        "fewer B-trees per hold: holds keyed by hold_id alone (WITHOUT ROWID), ledger without AUTOINCREMENT and no index entry for rows without an operation id",
      // A hold wrote seven B-trees: holds (a rowid table, plus its hold_id index and the expiry
      // index), ledger (a rowid table, plus the index of its UNIQUE operation_id, which took an
      // entry for every NULL, and sqlite_sequence, which AUTOINCREMENT moves on every insert) and
      // stock. Each is a page written at the commit. Now it writes four: holds (one B-tree keyed by
      // hold_id), its expiry index, ledger and stock. Every ledger row's seq is given explicitly
      // (and rows are never deleted), so AUTOINCREMENT guarded nothing; the operation id stays
      // unique through a partial index, which a lookup by operation id uses. The two tables are
      // copied once per object (seq values are kept); the view and both triggers are dropped first
      // (a rename checks every trigger's tables) and created again, unchanged, at the end.
      sql: `
      DROP TRIGGER hold_changes_apply;
      DROP VIEW hold_changes;
      CREATE TABLE ledger_v9 (
        seq INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('set', 'adjust', 'hold', 'release', 'expire', 'commit', 'move_out', 'move_in')),
        hold_id TEXT,
        operation_id TEXT,
        on_hand_delta INTEGER NOT NULL,
        reserved_delta INTEGER NOT NULL,
        reason TEXT
      );
      INSERT INTO ledger_v9 (seq, at, kind, hold_id, operation_id, on_hand_delta, reserved_delta, reason)
        SELECT seq, at, kind, hold_id, operation_id, on_hand_delta, reserved_delta, reason FROM ledger;
      DROP TABLE ledger;
      ALTER TABLE ledger_v9 RENAME TO ledger;
      CREATE UNIQUE INDEX ledger_operation_id ON ledger (operation_id) WHERE operation_id IS NOT NULL;
      CREATE TABLE holds_v9 (
        hold_id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        quantity INTEGER NOT NULL CHECK (quantity > 0),
        expires_at INTEGER NOT NULL,
        held_since INTEGER,
        client TEXT
      ) WITHOUT ROWID;
      INSERT INTO holds_v9 (hold_id, owner_id, quantity, expires_at, held_since, client)
        SELECT hold_id, owner_id, quantity, expires_at, held_since, client FROM holds;
      DROP TABLE holds;
      ALTER TABLE holds_v9 RENAME TO holds;
      CREATE INDEX holds_expires_at ON holds (expires_at);
${LEDGER_MOVES_STOCK}
${HOLD_CHANGES}
    `,
    },
  ],
};
