/**
 * CartObject: one per cart. Its lines always equal its stock holds: every line change goes
 * through the SKU's InventoryObject first and is written here only once the hold matches.
 * Mutations on one cart run one at a time (a queue inside the object), because each one awaits
 * SKU objects and their answers must be applied in the order the holds were changed.
 */
import { DurableObject } from "cloudflare:workers";
import { settings } from "../config";
import type { Cart } from "../contracts";
import { type CartLineState, cartView, holdIdFor, ifMatchSatisfied } from "../domain/cart";
import type { InventoryRefusal } from "../domain/inventory";
import { secretsEqual } from "../http/auth";
import { errorFields, log } from "../http/log";
import { CART_MIGRATIONS, CartStore } from "./cart-store";
import { runSqlMigrations } from "./sql-migrations";
import { inventoryStub } from "./stubs";

/** Refusals a cart call can answer with, as data. */
export type CartRefusal =
  | { ok: false; reason: "not_found" }
  | { ok: false; reason: "version_mismatch"; version: number }
  | { ok: false; reason: "cart_not_open"; status: string }
  | (InventoryRefusal & { sku: string });

export type CartResult = { ok: true; cart: Cart } | CartRefusal;

export class CartObject extends DurableObject<Env> {
  #store: CartStore;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#store = new CartStore(ctx.storage);
    ctx.blockConcurrencyWhile(async () => {
      runSqlMigrations(ctx.storage, CART_MIGRATIONS);
    });
  }

  /** Runs mutations one after another, whatever each awaits. */
  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** The cart, if `tokenHash` is its own; otherwise null (callers answer not_found either way). */
  async #authorised(tokenHash: string) {
    const cart = this.#store.cart();
    if (cart === null) return null;
    return (await secretsEqual(tokenHash, cart.token_hash)) ? cart : null;
  }

  #view(): Cart {
    return cartView(this.#store.cart()!, this.#store.lines());
  }

  /** Marks an open cart whose time is up as expired (its holds lapse at the same moment). */
  #expireIfDue(now: number): void {
    const cart = this.#store.cart();
    if (cart?.status === "open" && now >= cart.expires_at) this.#store.settle([], { status: "expired", bump: true }, now);
  }

  /**
   * Brings lines whose hold change was interrupted (the object was evicted or crashed mid-call)
   * back in line with what the SKU objects actually hold.
   */
  async #repair(cartId: string, now: number): Promise<void> {
    const pending = this.#store.pending();
    if (pending.length === 0) return;
    const actual = await Promise.all(pending.map((sku) => inventoryStub(this.env, sku).holdOf(holdIdFor(cartId, sku))));
    this.#store.settle(
      pending.map((sku, i) => {
        const { quantity, item } = actual[i]!;
        return { sku, quantity, ...(item ? { product_id: item.product_id, title: item.title, unit_amount: item.price.amount } : {}) };
      }),
      { bump: true },
      now,
    );
    log("warn", "cart lines repaired after an interrupted change", { cart_id: cartId, skus: pending });
  }

  /** Creates the cart (once; a repeated call returns the same cart). */
  async create(input: { cartId: string; tokenHash: string; currency: string; region: "eu" | null }): Promise<Cart> {
    const now = Date.now();
    const { holdTtlSeconds } = settings(this.env);
    if (this.#store.create({ cart_id: input.cartId, token_hash: input.tokenHash, currency: input.currency, region: input.region, expires_at: now + holdTtlSeconds * 1000 }, now)) {
      await this.ctx.storage.setAlarm(now + holdTtlSeconds * 1000);
    }
    return this.#view();
  }

  /** The cart, for its own token. */
  async view(tokenHash: string): Promise<CartResult> {
    const cart = await this.#authorised(tokenHash);
    if (cart === null) return { ok: false, reason: "not_found" };
    this.#expireIfDue(Date.now());
    return { ok: true, cart: this.#view() };
  }

  /**
   * Sets the line for `sku` to exactly `quantity` (0 removes it), holding exactly that stock.
   * On an expired cart every line is reserved again, all or nothing, and the cart reopens.
   * Every successful change moves the cart's expiry (and all its holds) to now + HOLD_TTL.
   */
  async setItem(tokenHash: string, sku: string, quantity: number, ifMatch: string | null): Promise<CartResult> {
    return this.#serial(async () => {
      const cart = await this.#authorised(tokenHash);
      if (cart === null) return { ok: false, reason: "not_found" };
      await this.#repair(cart.cart_id, Date.now());
      const now = Date.now();
      this.#expireIfDue(now);
      const current = this.#store.cart()!;
      if (current.status === "checked_out") return { ok: false, reason: "cart_not_open", status: current.status };
      if (!ifMatchSatisfied(ifMatch, current.version)) return { ok: false, reason: "version_mismatch", version: current.version };

      const { holdTtlSeconds, maxLineQuantity } = settings(this.env);
      const expiresAt = now + holdTtlSeconds * 1000;
      const lines = this.#store.lines();
      const limits = { maxLineQuantity, currency: current.currency };
      // An open cart changes one hold and extends the others; an expired one re-reserves them all.
      const targets =
        current.status === "expired"
          ? [...lines.filter((l) => l.sku !== sku).map((l) => ({ sku: l.sku, quantity: l.quantity })), { sku, quantity }]
          : [{ sku, quantity }];
      // Removing a line the cart does not have changes nothing.
      if (current.status === "open" && quantity === 0 && !lines.some((l) => l.sku === sku)) return { ok: true, cart: this.#view() };
      this.#store.markPending(targets.map((t) => t.sku), now);
      const results = await Promise.all(
        targets.map((t) => inventoryStub(this.env, t.sku).hold(holdIdFor(current.cart_id, t.sku), current.cart_id, t.quantity, holdTtlSeconds, t.sku === sku ? limits : { currency: current.currency })),
      );
      const refusalIndex = results.findIndex((r) => !r.ok);
      if (refusalIndex >= 0) {
        const refusal = results[refusalIndex] as InventoryRefusal;
        await this.#undo(current.cart_id, current.status, targets, results);
        return { ...refusal, sku: targets[refusalIndex]!.sku };
      }
      if (current.status === "open") await this.#extendOthers(current.cart_id, lines.filter((l) => l.sku !== sku), holdTtlSeconds);
      this.#store.settle(
        targets.map((t, i) => {
          const result = results[i]!;
          const item = result.ok ? result.item : null;
          return { sku: t.sku, quantity: t.quantity, ...(item ? { product_id: item.product_id, title: item.title, unit_amount: item.price.amount } : {}) };
        }),
        { status: "open", expires_at: expiresAt, bump: true },
        now,
      );
      await this.ctx.storage.setAlarm(expiresAt);
      return { ok: true, cart: this.#view() };
    });
  }

  /**
   * Undoes a refused change. An open cart changed one hold and it was refused (nothing moved).
   * An expired cart's re-reservation is all or nothing: holds it did take are released again.
   */
  async #undo(cartId: string, status: string, targets: Array<{ sku: string }>, results: Array<{ ok: boolean }>): Promise<void> {
    if (status === "expired") {
      await Promise.all(targets.map((t, i) => (results[i]!.ok ? inventoryStub(this.env, t.sku).release(holdIdFor(cartId, t.sku)) : undefined)));
    }
    this.#store.clearPending(targets.map((t) => t.sku));
  }

  /** Moves the other lines' holds to the cart's new expiry; a hold found missing is taken again. */
  async #extendOthers(cartId: string, others: CartLineState[], ttlSeconds: number): Promise<void> {
    await Promise.all(
      others.map(async (line) => {
        const stub = inventoryStub(this.env, line.sku);
        const extended = await stub.extend(holdIdFor(cartId, line.sku), ttlSeconds);
        if (!extended.ok) {
          log("warn", "cart hold missing on extend; taking it again", { cart_id: cartId, sku: line.sku, reason: extended.reason });
          await stub.hold(holdIdFor(cartId, line.sku), cartId, line.quantity, ttlSeconds).catch((error: unknown) => log("error", "re-hold failed", { cart_id: cartId, sku: line.sku, ...errorFields(error) }));
        }
      }),
    );
  }

  /** Expires an open cart when its time is up; its holds lapse in the SKU objects at the same time. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    this.#expireIfDue(now);
    const cart = this.#store.cart();
    if (cart?.status === "open") await this.ctx.storage.setAlarm(cart.expires_at);
  }
}
