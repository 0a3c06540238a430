/**
 * CartObject: one per cart. Its lines always equal its stock holds: every line change goes
 * through the SKU's InventoryObject first and is written here only once the hold matches.
 *
 * Cheap by design (docs/architecture.md "The hot path"): opening a cart creates nothing (the
 * token carries what an unwritten cart is); a line change is one RPC to the SKU's object and one
 * commit here; the other lines' holds are renewed by the alarm shortly before they would lapse,
 * not on every change; the cart's own expiry needs no alarm (it is computed when read).
 *
 * Mutations on one cart run one at a time (a queue inside the object), because each one awaits
 * SKU objects and their answers must be applied in the order the holds were changed.
 *
 * The methods here are the object's RPC surface: each resolves its caller and queues its work,
 * which the cart's parts carry out (line and header changes: CartChanges, cart-changes.ts; the
 * order: OrderDesk; merges: CartMerger and MergeSource; the alarm: CartUpkeep, cart-upkeep.ts).
 */
import { DurableObject } from "cloudflare:workers";
import { settings } from "../config";
import type { AdminOrder, Cart, Order, ShipTo } from "../contracts";
import { type CartRefusal, type CartResult, type CartState, cartAt, unwrittenCart } from "../domain/cart";
import { type CartAccess, legacyHolderMatches } from "../domain/cart-access";
import { cartView } from "../domain/cart-pricing";
import type { MergeMode, MergeReportEntry } from "../domain/merge";
import { AlarmSlot } from "./alarm";
import { CartChanges } from "./cart-changes";
import { CartHolds } from "./cart-holds";
import { CartMerger, type MergeLock, type MergeResult, mergeIdOf } from "./cart-merge";
import { MergeSource } from "./cart-merge-source";
import { CartPricer, type TaxPolicy } from "./cart-pricer";
import { CartPromotions, type CartPromotions as CartPromotionsType, type CodeRefusal } from "./cart-promotions";
import { CartStore, type StoredCart } from "./cart-store";
import { CartUpkeep } from "./cart-upkeep";
import { type CancelResult, type CheckoutResult, OrderDesk, type PaymentInput, type PaymentResult } from "./order-desk";
import { OrderStore } from "./order-store";

const NOT_FOUND = { ok: false, reason: "not_found" } as const;

export class CartObject extends DurableObject<Env> {
  #carts: CartStore;
  #orders: OrderStore;
  #desk: OrderDesk;
  #queue: Promise<unknown> = Promise.resolve();
  #alarm: AlarmSlot;
  #pricer: CartPricer;
  #promotions: CartPromotionsType;
  #holds: CartHolds;
  #merger: CartMerger;
  #source: MergeSource;
  #upkeep: CartUpkeep;
  #changes: CartChanges;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // The stores migrate existing tables synchronously, before any call can arrive.
    this.#carts = new CartStore(ctx.storage);
    this.#orders = new OrderStore(ctx.storage);
    this.#pricer = new CartPricer(env, this.#carts);
    this.#promotions = new CartPromotions(env, this.#carts, this.#pricer, () => settings(env).taxMode);
    this.#desk = new OrderDesk(
      env,
      this.#carts,
      this.#orders,
      this.#promotions,
      () => this.#upkeep.arm(),
      (now) => this.#show(now, "cached"),
    );
    this.#holds = new CartHolds(env, this.#carts);
    this.#merger = new CartMerger(env, this.#carts, (at) => this.#alarm.want(at));
    this.#source = new MergeSource(env, this.#carts);
    this.#alarm = new AlarmSlot(ctx.storage);
    const parts = { promotions: this.#promotions, holds: this.#holds, merger: this.#merger, desk: this.#desk };
    this.#upkeep = new CartUpkeep(env, this.#alarm, this.#carts, parts);
    this.#changes = new CartChanges(
      env,
      this.#carts,
      this.#promotions,
      () => this.#upkeep.arm(),
      (now, stored) => this.#show(now, "cached", stored),
    );
    // A cart that never wrote has no tables and never set an alarm: nothing to read back.
    if (this.#carts.cart() !== null || this.#orders.order() !== null) ctx.blockConcurrencyWhile(() => this.#alarm.load());
  }

  /** The stored cart as the API shows it at `now`, priced (see CartPricer for `policy`). */
  async #show(now: number, policy: TaxPolicy, stored: CartState | null = this.#carts.cart()): Promise<Cart> {
    const cart = cartAt(stored!, now);
    return cartView(cart, this.#carts.lines(), await this.#pricer.price(cart, now, policy));
  }

  /** Runs mutations one after another, whatever each awaits. */
  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Runs `work` on the cart `access` may use, after the cart's other mutations (not found for any other caller). */
  #withCart<T>(access: CartAccess, work: (stored: StoredCart) => Promise<T>): Promise<T | typeof NOT_FOUND> {
    return this.#serial(async () => {
      const stored = await this.#resolve(access);
      return stored === null ? NOT_FOUND : work(stored);
    });
  }

  /**
   * The cart `access` may use, as stored, or as its token describes it when it was never
   * changed; null for any other caller (answered as a cart that does not exist).
   */
  async #resolve(access: CartAccess): Promise<StoredCart | null> {
    if (access.kind === "claims" && access.claims.cartId !== this.ctx.id.toString()) return null;
    const stored = this.#carts.cart();
    if (stored) {
      if (stored.token_hash === "") return access.kind === "claims" ? stored : null;
      return access.kind === "legacy" && (await legacyHolderMatches(access.credential, stored.token_hash)) ? stored : null;
    }
    if (access.kind !== "claims") return null;
    return { ...unwrittenCart(access.claims, settings(this.env).holdTtlSeconds), token_hash: "" };
  }

  /** Whether `credential` (an old-style token's hash) is the one this cart stored. Reads only. */
  async isLegacyHolder(credential: string): Promise<boolean> {
    return (await this.#resolve({ kind: "legacy", credential })) !== null;
  }

  /** The cart, for its holder. */
  async view(access: CartAccess): Promise<CartResult> {
    const cart = await this.#resolve(access);
    if (cart === null) return NOT_FOUND;
    return { ok: true, cart: await this.#show(Date.now(), "fetch", cart) };
  }

  /**
   * Sets the line for `sku` to exactly `quantity` (0 removes it), holding exactly that stock.
   * On an expired cart every line is reserved again, all or nothing, and the cart reopens.
   * Every successful change moves the cart's expiry to now + HOLD_TTL.
   */
  async setItem(access: CartAccess, sku: string, quantity: number, ifMatch: string | null, client?: string): Promise<CartResult> {
    return this.#withCart(access, (stored) => this.#changes.line(stored, sku, quantity, ifMatch, false, client, Date.now()));
  }

  /**
   * Removes the line for `sku` and releases its hold. Needs no stock, so it never fails for lack of
   * it: on an expired cart the line is dropped and the cart stays expired.
   */
  async removeItem(access: CartAccess, sku: string, ifMatch: string | null, client?: string): Promise<CartResult> {
    return this.#withCart(access, (stored) => this.#changes.line(stored, sku, 0, ifMatch, true, client, Date.now()));
  }

  /** Enters a promotion code on the open cart, taking its redemption when it has a usage limit. */
  async enterCode(access: CartAccess, code: string, ifMatch: string | null): Promise<CartResult | CodeRefusal> {
    return this.#headerChange(access, ifMatch, (stored, cart, now) => this.#promotions.enter(stored, cart, code, now));
  }

  /** Removes a promotion code from the cart and gives its redemption back. */
  async removeCode(access: CartAccess, code: string, ifMatch: string | null): Promise<CartResult> {
    return this.#headerChange<never>(access, ifMatch, async (stored, cart, now) => {
      await this.#promotions.remove(stored, cart, code, now);
      return { ok: true } as const;
    });
  }

  /** Sets where the goods go (tax follows it). */
  async setShipTo(access: CartAccess, shipTo: ShipTo, ifMatch: string | null): Promise<CartResult> {
    return this.#headerChange<never>(access, ifMatch, async (stored, cart, now) => {
      this.#carts.write(stored, [], { status: cart.status, expires_at: cart.expires_at, version: cart.version + 1 }, now, () =>
        this.#carts.setShipTo(shipTo),
      );
      return { ok: true } as const;
    });
  }

  /** A change to an open cart that is not a line (its codes, its destination), queued, then checked and shown by CartChanges.header. */
  async #headerChange<R extends { ok: false }>(
    access: CartAccess,
    ifMatch: string | null,
    change: (stored: StoredCart, cart: CartState, now: number) => Promise<{ ok: true } | R>,
  ): Promise<CartResult | R> {
    return this.#withCart(access, (stored) => this.#changes.header(stored, ifMatch, change, Date.now()));
  }

  /** Checks out the cart under `key` (the request's Idempotency-Key): see OrderDesk.checkout. */
  async checkout(access: CartAccess, email: string, key: string): Promise<CheckoutResult | typeof NOT_FOUND> {
    return this.#withCart(access, async (stored) => {
      const now = Date.now();
      const result = await this.#desk.checkout(stored, cartAt(stored, now), email, key, now, settings(this.env).paymentTtlSeconds);
      await this.#upkeep.arm();
      return result;
    });
  }

  /** The order placed from this cart, for the cart's holder. */
  async order(access: CartAccess): Promise<{ ok: true; order: Order } | typeof NOT_FOUND> {
    if ((await this.#resolve(access)) === null) return NOT_FOUND;
    this.#desk.expireIfDue(Date.now());
    const order = this.#desk.view();
    return order ? { ok: true, order } : NOT_FOUND;
  }

  /** The order for the back office (admin-authenticated by the caller), with its payments and refunds due, or null. */
  async orderForAdmin(): Promise<AdminOrder | null> {
    if (this.#carts.cart() === null) return null;
    this.#desk.expireIfDue(Date.now());
    return this.#desk.adminView();
  }

  /**
   * Called by the archival consumer once Postgres committed the message `key` of this cart's
   * order (`archive`, `refund:<payment id>`): the outbox stops sending it. Idempotent.
   */
  async confirmDelivered(key: string): Promise<boolean> {
    return this.#serial(async () => {
      const changed = await this.#desk.confirm(key, Date.now());
      await this.#upkeep.arm();
      return changed;
    });
  }

  /** Cancels the pending order and releases its stock. */
  async cancelOrder(access: CartAccess): Promise<CancelResult> {
    return this.#withCart(access, async () => {
      const result = await this.#desk.cancel(Date.now());
      await this.#upkeep.arm();
      return result;
    });
  }

  /** Applies a verified payment event for this cart's order (the webhook route verified it). */
  async payment(event: PaymentInput): Promise<PaymentResult> {
    return this.#serial(async () => {
      const result = await this.#desk.payment(event, Date.now());
      await this.#upkeep.arm();
      return result;
    });
  }

  /**
   * Merges the source cart (its token proved `sourceAccess`) into this one: see CartMerger. The
   * answer is this cart and what became of each SKU of the source.
   */
  async merge(
    access: CartAccess,
    sourceId: string,
    sourceAccess: CartAccess,
    mode: MergeMode,
  ): Promise<{ ok: true; cart: Cart; report: MergeReportEntry[] } | CartRefusal | Exclude<MergeResult, { ok: true }>> {
    return this.#withCart(access, async (stored) => {
      const now = Date.now();
      const cart = cartAt(stored, now);
      if (sourceId === cart.cart_id) return { ok: false, reason: "carts_incompatible", field: "same_cart" } as const;
      if (cart.status !== "open" && this.#carts.mergeRecord(mergeIdOf(cart.cart_id, sourceId))?.state !== "done")
        return { ok: false, reason: "cart_not_open", status: cart.status };
      const result = await this.#merger.run(stored, cart, sourceId, sourceAccess, mode, now);
      await this.#upkeep.arm();
      return result.ok ? { ok: true, cart: await this.#show(now, "cached"), report: result.report } : result;
    });
  }

  /** Source side: locks this cart for a merge into `target` and hands over its lines (see MergeSource). */
  async lockForMerge(access: CartAccess, targetId: string, currency: string, region: "eu" | null): Promise<MergeLock> {
    return this.#withCart(access, async (stored) => {
      const now = Date.now();
      return this.#source.lock(stored, cartAt(stored, now), { id: targetId, currency, region }, now);
    });
  }

  /** Source side, for the target's alarm: the lines handed over if this cart is locked for `targetId`. */
  async mergeLockState(targetId: string): Promise<MergeLock> {
    return this.#source.lockState(targetId);
  }

  /** Source side: the merge into `targetId` is done. */
  async finishMerge(targetId: string): Promise<void> {
    return this.#serial(() => this.#source.finish(targetId));
  }

  /** Source side: the merge into `targetId` was abandoned or undone; the cart reopens. */
  async abortMerge(targetId: string): Promise<void> {
    return this.#serial(async () => this.#source.abort(targetId, Date.now()));
  }

  /**
   * The one alarm: renews line holds, releases the holds of a checkout that never finished,
   * expires unpaid orders and releases their stock, resumes an interrupted payment, and retries
   * archival sends. Idempotent; re-arms for what is next.
   */
  override async alarm(): Promise<void> {
    this.#alarm.fired();
    await this.#serial(() => this.#upkeep.run(Date.now()));
  }
}
