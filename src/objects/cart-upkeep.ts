/**
 * What a cart object's one alarm (AlarmSlot, alarm.ts) is for: when it must fire next, the
 * earliest thing due of all the cart's parts, and the upkeep it runs when it fires. CartObject
 * runs the upkeep one at a time with its other mutations; every step is idempotent.
 */
import { settings } from "../config";
import { cartAt } from "../domain/cart";
import { holdsToRenew } from "../domain/expiry";
import type { AlarmSlot } from "./alarm";
import type { CartHolds } from "./cart-holds";
import type { CartMerger } from "./cart-merge";
import type { CartPromotions } from "./cart-promotions";
import type { CartStore } from "./cart-store";
import type { OrderDesk } from "./order-desk";

/** The parts of a cart object that have work for its alarm. */
export interface CartParts {
  promotions: CartPromotions;
  holds: CartHolds;
  merger: CartMerger;
  desk: OrderDesk;
}

export class CartUpkeep {
  constructor(
    private readonly env: Env,
    private readonly alarm: AlarmSlot,
    private readonly carts: CartStore,
    private readonly parts: CartParts,
  ) {}

  /** Makes the one alarm fire by the earliest thing due: a line hold to renew, the payment window, retries. */
  async arm(): Promise<void> {
    const now = Date.now();
    const times: number[] = [];
    const stored = this.carts.cart();
    if (stored) {
      const cart = cartAt(stored, now);
      const { holdTtlSeconds } = settings(this.env);
      for (const { at } of holdsToRenew(cart, this.carts.lines(), holdTtlSeconds)) times.push(at);
      times.push(...this.parts.promotions.renewals(cart, holdTtlSeconds));
    }
    const desk = this.parts.desk.nextWake(now);
    if (desk !== null) times.push(desk);
    if (this.parts.merger.pending()) times.push(now + 5000);
    await this.alarm.want(times.length === 0 ? null : Math.min(...times));
  }

  /** The alarm's work at `now` (see CartObject.alarm), then the alarm armed for what is next. */
  async run(now: number): Promise<void> {
    const { promotions, holds, merger, desk } = this.parts;
    const stored = this.carts.cart();
    if (stored && cartAt(stored, now).status === "expired" && this.carts.checkoutInProgress() !== null) {
      // A checkout extended the holds and never finished: the lapsed cart holds nothing.
      await holds.releaseAll(stored.cart_id);
      this.carts.markCheckoutStarted(null);
    }
    await merger.resume(stored, stored ? cartAt(stored, now) : null, now);
    desk.expireIfDue(now);
    await desk.releaseClosedOrderHolds();
    await desk.resumePayment(now);
    await desk.drainOutbox(now);
    // Last: if a SKU object fails here, the alarm throws and the runtime retries it with backoff.
    if (stored) await promotions.renew(cartAt(stored, now), settings(this.env).holdTtlSeconds, now);
    await holds.renew(now);
    await this.arm();
  }
}
