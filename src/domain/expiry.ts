/**
 * When things lapse: a cart's holds, an unpaid order, the grace that keeps a pending order's
 * holds alive a little past its payment window. Pure; `now` is always a parameter (ms).
 *
 * Every deadline here is inclusive of its own instant: at exactly `expires_at` a thing has lapsed.
 */

/**
 * Holds of a pending order outlive its payment window by this much, so the cart object (whose
 * clock decides whether a payment is in time) never sees a hold lapse before the order expires.
 * The order's expiry releases them explicitly.
 */
export const ORDER_HOLD_GRACE_SECONDS = 120;

/** Whether a deadline has passed at `now` (exactly at the deadline counts as passed). */
export function isDue(deadline: number, now: number): boolean {
  return now >= deadline;
}

/** A cart's new expiry after a change at `now`: HOLD_TTL_SECONDS later. */
export function cartExpiresAt(now: number, holdTtlSeconds: number): number {
  return now + holdTtlSeconds * 1000;
}

/** Whether an open cart has lapsed at `now` (its holds lapse at the same instant). */
export function cartLapsed(cart: { status: string; expires_at: number }, now: number): boolean {
  return cart.status === "open" && isDue(cart.expires_at, now);
}

/** How long checkout holds an order's stock: the payment window plus the grace. */
export function orderHoldSeconds(paymentTtlSeconds: number): number {
  return paymentTtlSeconds + ORDER_HOLD_GRACE_SECONDS;
}

/**
 * Whether an order's payment window is over at `now`: it is still pending, no payment has
 * started applying (a payment in progress is finished, never expired under it), and its
 * deadline has passed.
 */
export function paymentWindowOver(order: { status: string; payment_id: string | null; payment_expires_at: number }, now: number): boolean {
  return order.status === "pending_payment" && order.payment_id === null && isDue(order.payment_expires_at, now);
}

/**
 * A cart's line holds are set when the line changes, to the cart's expiry at that moment; a later
 * change moves the cart's expiry but not the other lines' holds (that would cost a round trip per
 * line). The cart renews those holds shortly before they would lapse, off the request path: this
 * long before, or a third of the hold's life for short settings.
 */
export const HOLD_RENEWAL_MARGIN_MS = 30_000;

/** When a line hold that lapses at `holdExpiresAt` must be renewed. */
export function renewalAt(holdExpiresAt: number, holdTtlSeconds: number): number {
  return holdExpiresAt - Math.min(HOLD_RENEWAL_MARGIN_MS, (holdTtlSeconds * 1000) / 3);
}

/**
 * The lines of an open cart whose holds lapse before the cart does, with when each must be
 * renewed. A line without a recorded hold expiry holds until the cart's expiry.
 */
export function holdsToRenew<L extends { hold_expires_at: number | null; hold_final?: boolean }>(
  cart: { status: string; expires_at: number },
  lines: readonly L[],
  holdTtlSeconds: number,
): Array<{ line: L; at: number }> {
  if (cart.status !== "open") return [];
  return lines
    .filter((line) => !line.hold_final && line.hold_expires_at !== null && line.hold_expires_at < cart.expires_at)
    .map((line) => ({ line, at: renewalAt(line.hold_expires_at!, holdTtlSeconds) }));
}

/**
 * A cart's expiry after a change at `now`: HOLD_TTL_SECONDS later, but never past a line hold that
 * reached its lifetime cap (a cart shows no line it does not hold; it lapses with that hold).
 */
export function cartExpiryAfter(
  now: number,
  holdTtlSeconds: number,
  lines: ReadonlyArray<{ hold_expires_at: number | null; hold_final: boolean }>,
): number {
  let at = cartExpiresAt(now, holdTtlSeconds);
  for (const line of lines) if (line.hold_final && line.hold_expires_at !== null) at = Math.min(at, line.hold_expires_at);
  return at;
}
