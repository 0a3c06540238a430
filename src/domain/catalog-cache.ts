/**
 * The catalog cache's rules (sync/catalog-cache.ts applies them to Workers KV): which write may
 * replace which version, when a listed entry can be trusted, and what a full rebuild must change
 * so that KV holds what Postgres says. Pure: the clock is a parameter.
 */
import type { Product } from "../contracts";

/** The rebuild rewrites an entry of a listed product whose expiry is closer than this (seconds). */
export const REFRESH_MARGIN = 6 * 3_600;

/** What the cache needs to know of a product to place it: Postgres's `CatalogState`, or a Product. */
export interface Placement {
  id: string;
  status: "active" | "archived";
  category: string | null;
  version: number;
}

/**
 * Whether a write of `incoming` may replace what KV holds (`held`: its version, null when there
 * is none). A fill never replaces the same or a newer version; a publish never replaces a newer
 * one (it rewrites its own version: that renews the TTL over a fill and restores listing entries).
 */
export function mayWrite(held: number | null, incoming: number, kind: "fill" | "publish"): boolean {
  if (held === null) return true;
  return kind === "publish" ? incoming >= held : incoming > held;
}

/** Whether a product belongs in the listing of `category` (undefined: the whole catalog). */
export function listedIn(product: Pick<Placement, "status" | "category">, category?: string): boolean {
  return product.status === "active" && (category === undefined || product.category === category);
}

/**
 * An index entry (its version; null for entries written before versions) against the cached
 * product entry: trust the product entry when it is at least as new as the index entry, and ask
 * Postgres otherwise (a missing entry, or a stale fill that landed after a publish).
 */
export function judgeListed(indexVersion: number | null, cached: Product | null, category?: string): "show" | "hide" | "read" {
  if (cached === null) return "read";
  if (indexVersion !== null && cached.version < indexVersion) return "read";
  return listedIn(cached, category) ? "show" : "hide";
}

/** One KV key as `list()` describes it. */
export interface KeyState {
  version: number | null;
  /** Seconds since the epoch; null for an entry that never expires (written before TTLs). */
  expiration: number | null;
}

/** Every catalog key KV lists, by id. */
export interface EdgeState {
  products: Map<string, KeyState>;
  all: Map<string, KeyState>;
  /** category → id → key */
  categories: Map<string, Map<string, KeyState>>;
}

/** An index entry to write or drop; `urgent` when the listing is incomplete or wrong without it. */
export interface IndexChange {
  id: string;
  category?: string;
  urgent: boolean;
}

export interface RebuildPlan {
  /** Product entries to write from Postgres: older entries (urgent: they answer wrong), listed products' absent or expiring ones. */
  products: Array<{ id: string; urgent: boolean }>;
  /** Index entries of listed products that are absent (urgent), older, or expiring. */
  writes: IndexChange[];
  /** Index entries of products Postgres does not list there (to drop after Postgres confirms it again). */
  drops: IndexChange[];
}

/**
 * Pure: what a full rebuild must change so that KV holds what Postgres (`states`) says. Entries
 * whose expiry is closer than `REFRESH_MARGIN` are renewed; entries that never expire (written
 * before TTLs) count as expiring.
 */
export function planRebuild(states: Placement[], edge: EdgeState, nowSeconds: number): RebuildPlan {
  const stale = (key: KeyState | undefined, version: number) => key === undefined || key.version === null || key.version < version;
  const expiring = (key: KeyState) => key.expiration === null || key.expiration < nowSeconds + REFRESH_MARGIN;
  const plan: RebuildPlan = { products: [], writes: [], drops: [] };
  const known = new Map(states.map((s) => [s.id, s]));
  for (const state of states) {
    const listed = listedIn(state);
    const product = edge.products.get(state.id);
    if (product !== undefined && stale(product, state.version)) plan.products.push({ id: state.id, urgent: true });
    else if (listed && (product === undefined || expiring(product))) plan.products.push({ id: state.id, urgent: false });
    if (!listed) continue;
    const scopes: Array<[string | undefined, KeyState | undefined]> = [[undefined, edge.all.get(state.id)]];
    if (state.category !== null) scopes.push([state.category, edge.categories.get(state.category)?.get(state.id)]);
    for (const [category, key] of scopes) {
      if (key === undefined) plan.writes.push({ id: state.id, ...(category !== undefined ? { category } : {}), urgent: true });
      else if (stale(key, state.version) || expiring(key))
        plan.writes.push({ id: state.id, ...(category !== undefined ? { category } : {}), urgent: false });
    }
  }
  for (const id of edge.all.keys()) {
    const state = known.get(id);
    if (state === undefined || !listedIn(state)) plan.drops.push({ id, urgent: false });
  }
  for (const [category, ids] of edge.categories) {
    for (const id of ids.keys()) {
      const state = known.get(id);
      if (state === undefined || !listedIn(state, category)) plan.drops.push({ id, category, urgent: false });
    }
  }
  return plan;
}
