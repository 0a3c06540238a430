/**
 * CartObject: one per cart. Its lines always equal its stock holds: every line change goes
 * through the SKU's InventoryObject first and is written here only once the hold matches.
 * Mutations on one cart run one at a time (a queue inside the object), because each one awaits
 * SKU objects and their answers must be applied in the order the holds were changed.
 */
import { DurableObject } from "cloudflare:workers";
import { settings } from "../config";
import type { Cart, CartStatus, Order } from "../contracts";
import { isCartHolder } from "../domain/cart-access";
import { type CartResult, cartView, holdIdFor, planLineChange } from "../domain/cart";
import { cartExpiresAt, cartLapsed } from "../domain/expiry";
import type { InventoryRefusal } from "../domain/inventory";
import type { StoredLine } from "../domain/lines";
import { errorFields, log } from "../platform/log";
import { AlarmSlot } from "./alarm";
import { CART_SCHEMA, CartStore } from "./cart-store";
import { type CancelResult, type CheckoutResult, OrderDesk, type PaymentInput, type PaymentResult } from "./order-desk";
import { ORDER_SCHEMA, OrderStore } from "./order-store";
import { runSqlMigrations } from "./sql-migrations";
import { inventoryStub } from "./stubs";

export class CartObject extends DurableObject<Env> {
  #store: CartStore;
  #orders: OrderStore;
  #desk: OrderDesk;
  #queue: Promise<unknown> = Promise.resolve();
  #alarm: AlarmSlot;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#store = new CartStore(ctx.storage);
    this.#orders = new OrderStore(ctx.storage);
    this.#desk = new OrderDesk(env, ctx.storage, this.#store, this.#orders, () => this.#arm());
    this.#alarm = new AlarmSlot(ctx.storage);
    ctx.blockConcurrencyWhile(async () => {
      runSqlMigrations(ctx.storage, [CART_SCHEMA, ORDER_SCHEMA]);
      await this.#alarm.load();
    });
  }

  /**
   * Makes the one alarm fire by the earliest thing due: the expiry of an open cart that holds
   * stock (an empty cart's expiry changes nothing, and reads apply it), the payment window,
   * retries.
   */
  async #arm(): Promise<void> {
    const now = Date.now();
    const cart = this.#store.cart();
    const times: number[] = [];
    if (cart?.status === "open" && this.#store.lines().length > 0) times.push(cart.expires_at);
    const desk = this.#desk.nextWake(now);
    if (desk !== null) times.push(desk);
    await this.#alarm.want(times.length === 0 ? null : Math.min(...times));
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
    return (await isCartHolder(tokenHash, cart.token_hash)) ? cart : null;
  }

  #view(): Cart {
    return cartView(this.#store.cart()!, this.#store.lines());
  }

  /** Marks an open cart whose time is up as expired (its holds lapse at the same moment). */
  #expireIfDue(now: number): void {
    const cart = this.#store.cart();
    if (cart && cartLapsed(cart, now)) this.#store.settle([], { status: "expired", bump: true }, now);
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

  /**
   * The start of every change: checks the token, repairs interrupted line changes and expires
   * the cart if its time is up. Returns the time to act at, or null for a foreign token.
   */
  async #prepare(tokenHash: string): Promise<number | null> {
    const cart = await this.#authorised(tokenHash);
    if (cart === null) return null;
    await this.#repair(cart.cart_id, Date.now());
    const now = Date.now();
    this.#expireIfDue(now);
    return now;
  }

  /** Creates the cart (once; a repeated call returns the same cart). */
  async create(input: { cartId: string; tokenHash: string; currency: string; region: "eu" | null }): Promise<Cart> {
    const now = Date.now();
    const { holdTtlSeconds } = settings(this.env);
    if (this.#store.create({ cart_id: input.cartId, token_hash: input.tokenHash, currency: input.currency, region: input.region, expires_at: cartExpiresAt(now, holdTtlSeconds) }, now)) {
      await this.#arm();
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
      const now = await this.#prepare(tokenHash);
      if (now === null) return { ok: false, reason: "not_found" };
      const current = this.#store.cart()!;
      const plan = planLineChange(current, this.#store.lines(), sku, quantity, ifMatch);
      if (plan.kind === "refused") return plan.reason === "cart_not_open" ? { ok: false, reason: "cart_not_open", status: plan.status } : { ok: false, reason: "version_mismatch", version: plan.version };
      if (plan.kind === "unchanged") return { ok: true, cart: this.#view() };

      const { holdTtlSeconds, maxLineQuantity } = settings(this.env);
      const { targets } = plan;
      const limits = { maxLineQuantity, currency: current.currency };
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
      await this.#extendOthers(current.cart_id, plan.extend, holdTtlSeconds);
      this.#store.settle(
        targets.map((t, i) => {
          const result = results[i]!;
          const item = result.ok ? result.item : null;
          return { sku: t.sku, quantity: t.quantity, ...(item ? { product_id: item.product_id, title: item.title, unit_amount: item.price.amount } : {}) };
        }),
        { status: "open", expires_at: cartExpiresAt(now, holdTtlSeconds), bump: true },
        now,
      );
      await this.#arm();
      return { ok: true, cart: this.#view() };
    });
  }

  /**
   * Undoes a refused change. An open cart changed one hold and it was refused (nothing moved).
   * An expired cart's re-reservation is all or nothing: holds it did take are released again.
   */
  async #undo(cartId: string, status: CartStatus, targets: Array<{ sku: string }>, results: Array<{ ok: boolean }>): Promise<void> {
    if (status === "expired") {
      await Promise.all(targets.map((t, i) => (results[i]!.ok ? inventoryStub(this.env, t.sku).release(holdIdFor(cartId, t.sku)) : undefined)));
    }
    this.#store.clearPending(targets.map((t) => t.sku));
  }

  /** Moves the other lines' holds to the cart's new expiry; a hold found missing is taken again. */
  async #extendOthers(cartId: string, others: readonly StoredLine[], ttlSeconds: number): Promise<void> {
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

  /**
   * Checks out the cart under `key` (the request's Idempotency-Key): see OrderDesk.checkout.
   */
  async checkout(tokenHash: string, email: string, key: string): Promise<CheckoutResult | { ok: false; reason: "not_found" }> {
    return this.#serial(async () => {
      const now = await this.#prepare(tokenHash);
      if (now === null) return { ok: false, reason: "not_found" };
      const result = await this.#desk.checkout(email, key, now, settings(this.env).paymentTtlSeconds);
      await this.#arm();
      return result;
    });
  }

  /** The order placed from this cart, for the cart's token. */
  async order(tokenHash: string): Promise<{ ok: true; order: Order } | { ok: false; reason: "not_found" }> {
    const cart = await this.#authorised(tokenHash);
    if (cart === null) return { ok: false, reason: "not_found" };
    this.#desk.expireIfDue(Date.now());
    const order = this.#desk.view();
    return order ? { ok: true, order } : { ok: false, reason: "not_found" };
  }

  /** The order for the back office (admin-authenticated by the caller), or null. */
  async orderForAdmin(): Promise<Order | null> {
    if (this.#store.cart() === null) return null;
    this.#desk.expireIfDue(Date.now());
    return this.#desk.view();
  }

  /** Cancels the pending order and releases its stock. */
  async cancelOrder(tokenHash: string): Promise<CancelResult> {
    return this.#serial(async () => {
      const cart = await this.#authorised(tokenHash);
      if (cart === null) return { ok: false, reason: "not_found" };
      const result = await this.#desk.cancel(Date.now());
      await this.#arm();
      return result;
    });
  }

  /** Applies a verified payment event for this cart's order (the webhook route verified it). */
  async payment(event: PaymentInput): Promise<PaymentResult> {
    return this.#serial(async () => {
      const result = await this.#desk.payment(event, Date.now());
      await this.#arm();
      return result;
    });
  }

  /**
   * The one alarm: expires the cart, expires unpaid orders and releases their stock, resumes an
   * interrupted payment, and retries archival sends. Idempotent; re-arms for what is next.
   */
  override async alarm(): Promise<void> {
    this.#alarm.fired();
    await this.#serial(async () => {
      const now = Date.now();
      this.#expireIfDue(now);
      const cart = this.#store.cart();
      if (cart?.status === "expired" && this.#store.checkoutInProgress() !== null) {
        // A checkout extended the holds and never finished: the expired cart holds nothing.
        await Promise.all(this.#store.lines().map((line) => inventoryStub(this.env, line.sku).release(holdIdFor(cart.cart_id, line.sku))));
        this.#store.markCheckoutStarted(null);
      }
      this.#desk.expireIfDue(now);
      await this.#desk.releaseClosedOrderHolds();
      await this.#desk.resumePayment(now);
      await this.#desk.drainOutbox(now);
      await this.#arm();
    });
  }
}
