/**
 * The product list of the admin API, walked page by page (for SKU suggestions).
 */
import { api, query } from "./api";
import type { Page, Product } from "./types";

/** At most this many pages of 100 products are read for suggestions. */
const MAX_PAGES = 10;

export interface SkuSuggestion {
  sku: string;
  label: string;
}

/** Every SKU of the first {@link MAX_PAGES} × 100 products, active or archived, by SKU. */
export async function loadSkuSuggestions(signal: AbortSignal): Promise<SkuSuggestion[]> {
  const suggestions: SkuSuggestion[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const result: Page<Product> = await api<Page<Product>>("GET", `/v1/admin/products${query({ limit: 100, cursor })}`, { signal });
    for (const product of result.data) {
      for (const variant of product.variants) {
        suggestions.push({
          sku: variant.sku,
          label: `${product.title} — ${variant.title}${product.status === "archived" ? " (archived)" : ""}`,
        });
      }
    }
    cursor = result.next_cursor;
    if (cursor === null) break;
  }
  return suggestions.sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
}
