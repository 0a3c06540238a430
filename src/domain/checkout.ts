/**
 * Checkout's pricing rule: the order charges the authoritative price of every line at this
 * moment. A line that can no longer be bought here, or whose price moved in either direction,
 * stops the checkout. Pure.
 */
import type { SkuPricing } from "../contracts";
import type { StoredLine } from "./lines";

/** The outcome of repricing a cart's lines against the SKUs' current catalog entries. */
export type Repricing = { kind: "unchanged" } | { kind: "unavailable"; sku: string } | { kind: "changed"; lines: StoredLine[] };

/**
 * Compares each line with its SKU's entry (`prices[i]` for `lines[i]`; null when the SKU is in no
 * product). A SKU archived, dropped, or priced in another currency is `unavailable`; otherwise
 * any price difference gives the lines at their new prices (and titles) as `changed`.
 */
export function reprice(lines: readonly StoredLine[], prices: ReadonlyArray<SkuPricing | null>, currency: string): Repricing {
  const unavailable = lines.find((_, i) => prices[i]?.status !== "active" || prices[i]?.price.currency !== currency);
  if (unavailable) return { kind: "unavailable", sku: unavailable.sku };
  const changed: StoredLine[] = [];
  lines.forEach((line, i) => {
    const price = prices[i]!;
    if (price.price.amount !== line.unit_amount)
      changed.push({ ...line, product_id: price.product_id, title: price.title, unit_amount: price.price.amount });
  });
  return changed.length === 0 ? { kind: "unchanged" } : { kind: "changed", lines: changed };
}
