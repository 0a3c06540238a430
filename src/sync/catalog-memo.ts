/**
 * The catalog's read-through memo: what Postgres answered for a product id, remembered for a
 * short window in this isolate and in this data center's Cache API, so that repeated KV misses
 * of one id reach Postgres at most once per window per data center (sync/catalog-cache.ts
 * re-exports it; docs/storage.md "Workers KV").
 */
import * as z from "zod";
import { Product } from "../contracts";

/** How long one data center (and one isolate) remembers what Postgres answered for an id. */
export const MEMO_WINDOW_MS = 30_000;

const Remembered = z.object({ until: z.number(), product: Product.nullable() });

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * What Postgres answered for a product id, remembered for `MEMO_WINDOW_MS` in this isolate and
 * in this data center's Cache API (a named cache, keyed by the request's own origin and the
 * validated id): repeated misses of one id — unknown ids above all — reach Postgres at most once
 * per window per data center, and write nothing to KV. On `*.workers.dev`, where the Cache API
 * does nothing, the isolate's memory still bounds it per isolate. A remembered answer is used
 * only when KV has no entry, so it adds no lag beyond the window.
 */
export class ReadThroughMemo {
  readonly #local = new Map<string, { until: number; product: Product | null }>();
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #maxEntries: number;
  readonly #useCacheApi: boolean;

  constructor(options: { windowMs?: number; now?: () => number; maxEntries?: number; cacheApi?: boolean } = {}) {
    this.#windowMs = options.windowMs ?? MEMO_WINDOW_MS;
    this.#now = options.now ?? Date.now;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#useCacheApi = options.cacheApi ?? true;
  }

  static key(origin: string, id: string): Request {
    return new Request(`${origin}/__edgecart/catalog-memo/v1/products/${encodeURIComponent(id)}`);
  }

  async #cache(): Promise<Cache | null> {
    if (!this.#useCacheApi || typeof caches === "undefined") return null;
    return caches.open("edgecart:catalog-memo");
  }

  /** The remembered answer (`{ product }`, null product = no such id), or undefined when none is current. */
  async get(origin: string, id: string): Promise<{ product: Product | null } | undefined> {
    const now = this.#now();
    const local = this.#local.get(id);
    if (local !== undefined) {
      if (local.until > now) return { product: local.product };
      this.#local.delete(id);
    }
    const cache = await this.#cache().catch(() => null);
    const response = await cache?.match(ReadThroughMemo.key(origin, id)).catch(() => undefined);
    if (!response) return undefined;
    const parsed = Remembered.safeParse(parseJson(await response.text().catch(() => null)));
    if (!parsed.success || parsed.data.until <= now) return undefined;
    this.#remember(id, parsed.data);
    return { product: parsed.data.product };
  }

  #remember(id: string, entry: { until: number; product: Product | null }): void {
    this.#local.delete(id);
    this.#local.set(id, entry);
    while (this.#local.size > this.#maxEntries) {
      const oldest = this.#local.keys().next().value;
      if (oldest === undefined) break;
      this.#local.delete(oldest);
    }
  }

  /** Remembers Postgres's answer for `id`. The Cache API write is best-effort. */
  async remember(origin: string, id: string, product: Product | null): Promise<void> {
    const entry = { until: this.#now() + this.#windowMs, product };
    this.#remember(id, entry);
    const cache = await this.#cache().catch(() => null);
    if (cache === null) return;
    const seconds = Math.max(1, Math.ceil(this.#windowMs / 1000));
    await cache
      .put(
        ReadThroughMemo.key(origin, id),
        new Response(JSON.stringify(entry), { headers: { "content-type": "application/json", "cache-control": `max-age=${seconds}` } }),
      )
      .catch(() => undefined);
  }

  /** Forgets `id` in this isolate (a publish changed it); other isolates' memory lapses within the window. */
  forget(id: string): void {
    this.#local.delete(id);
  }
}

/** The Worker's memo (one per isolate; the Cache API part is shared by the data center). */
export const readThroughMemo = new ReadThroughMemo();
