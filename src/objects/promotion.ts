/**
 * PromotionObject: one per promotion (`promotionObjectName`: `code:<CODE>` or `auto:<id>`). It
 * keeps the promotion's published definition and counts its redemptions the way a SKU object
 * counts stock: a cart that applies the promotion takes a *redemption hold* (one per cart, with an
 * expiry), checkout extends it into the payment window, payment commits it, and expiry, cancel or
 * removal releases it. One object serialises every redemption, so `held + committed` never passes
 * the usage limit however many carts race for the last one.
 */
import { DurableObject } from "cloudflare:workers";
import { decideRedemption, type Promotion, type RedemptionRefusal } from "../domain/promotion";
import { AlarmSlot } from "./alarm";
import { LazySchema, type StoreSchema } from "./sql-migrations";

export const PROMOTION_SCHEMA: StoreSchema = {
  store: "promotion",
  migrations: [
    {
      version: 1,
      description: "the definition, live redemption holds, committed redemptions",
      sql: `
        CREATE TABLE definition (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL, version INTEGER NOT NULL);
        CREATE TABLE holds (hold_id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
        CREATE INDEX holds_expiry ON holds (expires_at);
        CREATE TABLE committed (hold_id TEXT PRIMARY KEY, committed_at INTEGER NOT NULL);
      `,
    },
  ],
};

export type RedemptionResult = { ok: true; promotion: Promotion } | { ok: false; reason: RedemptionRefusal; promotion: Promotion | null };

export interface Redemptions {
  held: number;
  committed: number;
}

export class PromotionObject extends DurableObject<Env> {
  readonly #schema: LazySchema;
  readonly #alarm: AlarmSlot;
  #definition: Promotion | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#schema = new LazySchema(ctx.storage, PROMOTION_SCHEMA, "definition");
    if (this.#schema.open()) {
      const row = this.#sql.exec<{ body: string }>("SELECT body FROM definition WHERE id = 1").toArray()[0];
      this.#definition = row ? (JSON.parse(row.body) as Promotion) : null;
    }
    this.#alarm = new AlarmSlot(ctx.storage);
    ctx.blockConcurrencyWhile(() => this.#alarm.load());
  }

  get #sql(): SqlStorage {
    return this.ctx.storage.sql;
  }

  /** Stores the definition unless a newer version is here (publishes may race or repeat). Returns the one in force. */
  async publish(promotion: Promotion): Promise<Promotion> {
    if (this.#definition !== null && this.#definition.version >= promotion.version) return this.#definition;
    this.ctx.storage.transactionSync(() => {
      this.#schema.ensure();
      this.#sql.exec(
        "INSERT INTO definition (id, body, version) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body, version = excluded.version",
        JSON.stringify(promotion),
        promotion.version,
      );
    });
    this.#definition = promotion;
    return promotion;
  }

  /** The definition in force, or null when none was published here. */
  async lookup(): Promise<Promotion | null> {
    return this.#definition;
  }

  /**
   * Takes (or moves to `expiresAt`) the redemption hold `holdId`. Idempotent per hold: a hold
   * already taken, or already committed, is kept whatever the limit says now.
   */
  async hold(holdId: string, expiresAt: number): Promise<RedemptionResult> {
    const now = Date.now();
    this.#expireDue(now);
    const state = this.#state(holdId);
    const decision = decideRedemption(this.#definition, state, now);
    if (!decision.ok) return { ok: false, reason: decision.reason, promotion: this.#definition };
    if (!state.isCommitted) {
      this.#sql.exec(
        "INSERT INTO holds (hold_id, expires_at) VALUES (?, ?) ON CONFLICT (hold_id) DO UPDATE SET expires_at = excluded.expires_at",
        holdId,
        expiresAt,
      );
      await this.#alarm.want(expiresAt);
    }
    return { ok: true, promotion: this.#definition! };
  }

  /** Gives a redemption hold back (no-op when it is gone or was committed). */
  async release(holdId: string): Promise<void> {
    if (this.#schema.ready) this.#sql.exec("DELETE FROM holds WHERE hold_id = ?", holdId);
  }

  /**
   * Turns the hold into a redemption (the order was paid). Idempotent. A hold that lapsed is
   * committed only if the limit still allows it: a redemption is never counted past the limit.
   */
  async commit(holdId: string): Promise<{ ok: true; duplicate: boolean } | { ok: false; reason: RedemptionRefusal }> {
    const now = Date.now();
    this.#expireDue(now);
    const state = this.#state(holdId);
    if (state.isCommitted) return { ok: true, duplicate: true };
    const limit = this.#definition?.usage_limit ?? null;
    if (this.#definition === null) return { ok: false, reason: "promotion_not_found" };
    if (!state.hasHold && limit !== null && state.held + state.committed >= limit) return { ok: false, reason: "usage_limit_reached" };
    this.ctx.storage.transactionSync(() => {
      this.#sql.exec("DELETE FROM holds WHERE hold_id = ?", holdId);
      this.#sql.exec("INSERT INTO committed (hold_id, committed_at) VALUES (?, ?)", holdId, now);
    });
    return { ok: true, duplicate: false };
  }

  /** Live holds and committed redemptions. */
  async redemptions(): Promise<Redemptions> {
    this.#expireDue(Date.now());
    const { held, committed } = this.#state("");
    return { held, committed };
  }

  #state(holdId: string): { held: number; committed: number; hasHold: boolean; isCommitted: boolean } {
    if (!this.#schema.ready) return { held: 0, committed: 0, hasHold: false, isCommitted: false };
    const row = this.#sql
      .exec<{ held: number; committed: number; has_hold: number; is_committed: number }>(
        `SELECT (SELECT COUNT(*) FROM holds) AS held, (SELECT COUNT(*) FROM committed) AS committed,
                EXISTS (SELECT 1 FROM holds WHERE hold_id = ?) AS has_hold, EXISTS (SELECT 1 FROM committed WHERE hold_id = ?) AS is_committed`,
        holdId,
        holdId,
      )
      .one();
    return { held: row.held, committed: row.committed, hasHold: row.has_hold === 1, isCommitted: row.is_committed === 1 };
  }

  #expireDue(now: number): void {
    if (this.#schema.ready) this.#sql.exec("DELETE FROM holds WHERE expires_at <= ?", now);
  }

  /** Releases lapsed holds and re-arms for the next expiry. */
  override async alarm(): Promise<void> {
    this.#alarm.fired();
    const now = Date.now();
    this.#expireDue(now);
    if (!this.#schema.ready) return;
    const next = this.#sql.exec<{ next: number | null }>("SELECT MIN(expires_at) AS next FROM holds").one().next;
    await this.#alarm.want(next);
  }
}
