/**
 * The one line type of carts and orders: what a shopper holds or bought of one SKU, at the unit
 * price it was priced at. Carts and orders store it the same way and show it the same way.
 */
import type { CartLine } from "../contracts";
import { multiply, sum } from "./money";

/** A line as the cart and order stores keep it (unit price in minor units of the owner's currency). */
export interface StoredLine {
  sku: string;
  product_id: string;
  title: string;
  quantity: number;
  unit_amount: number;
}

/** A line as the API shows it, in `currency`, with its discount and tax (none unless given). */
export function lineView(
  line: StoredLine,
  currency: string,
  priced: { discount: number; tax: number } = { discount: 0, tax: 0 },
): CartLine {
  return {
    sku: line.sku,
    product_id: line.product_id,
    title: line.title,
    quantity: line.quantity,
    unit_price: { amount: line.unit_amount, currency },
    line_total: { amount: multiply(line.unit_amount, line.quantity), currency },
    discount: { amount: priced.discount, currency },
    tax: { amount: priced.tax, currency },
  };
}

/** The sum of the lines' totals in minor units. */
export function linesTotal(lines: readonly StoredLine[]): number {
  return sum(lines.map((line) => multiply(line.unit_amount, line.quantity)));
}
