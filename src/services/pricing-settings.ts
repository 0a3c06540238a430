/**
 * The pricing settings carts read at the edge: the automatic promotions and the tax rates per
 * country, published from Postgres into Workers KV (the CATALOG namespace) by the admin API and
 * the minute cron, and remembered per isolate for a few seconds so a cart change costs no KV read.
 *
 *   promotions:v1:automatic   JSON array of the active-or-scheduled automatic promotions (domain Promotion)
 *   tax:v1:rates              JSON object: country -> { basis_points, inclusive }
 *
 * Code promotions are not here: a code's definition lives in its PromotionObject (`code:<CODE>`),
 * which a cart asks directly. Every value read back is validated; a value that fails counts as
 * none, and the failure is logged.
 */
import * as z from "zod";
import type { Promotion } from "../domain/promotion";
import { log } from "../platform/log";

export const AUTOMATIC_PROMOTIONS_KEY = "promotions:v1:automatic";
export const TAX_RATES_KEY = "tax:v1:rates";
/** How long an isolate reuses what it read (KV itself may lag a write by up to 60 s elsewhere). */
export const SETTINGS_MEMO_MS = 10_000;

const amounts = z.record(z.string(), z.number().int().min(0));
const StoredPromotion = z.object({
  id: z.string(),
  code: z.string().nullable(),
  starts_at: z.number().nullable(),
  ends_at: z.number().nullable(),
  value: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("percent"), basis_points: z.number().int() }),
    z.object({ kind: z.literal("fixed"), amounts }),
  ]),
  target: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("order") }),
    z.object({ kind: z.literal("skus"), skus: z.array(z.string()) }),
    z.object({ kind: z.literal("products"), product_ids: z.array(z.string()) }),
    z.object({ kind: z.literal("categories"), categories: z.array(z.string()) }),
  ]),
  allocation: z.enum(["across", "each"]),
  conditions: z.object({ min_subtotal: amounts.optional(), min_quantity: z.number().int().optional() }),
  usage_limit: z.number().int().nullable(),
  combinable: z.boolean(),
  priority: z.number().int(),
  version: z.number().int(),
  status: z.enum(["active", "archived"]),
});
const StoredRates = z.record(z.string(), z.object({ basis_points: z.number().int().min(0).max(10_000), inclusive: z.boolean() }));

export type TaxRates = z.infer<typeof StoredRates>;

interface Memo<T> {
  value: T;
  until: number;
}
const memos = new Map<string, Memo<unknown>>();

async function readMemo<T>(kv: KVNamespace, key: string, schema: z.ZodType<T>, empty: T): Promise<T> {
  const now = Date.now();
  const memo = memos.get(key) as Memo<T> | undefined;
  if (memo && memo.until > now) return memo.value;
  const raw = await kv.get(key, "json");
  let value = empty;
  if (raw !== null) {
    const parsed = schema.safeParse(raw);
    if (parsed.success) value = parsed.data;
    else log("error", "a pricing setting in KV failed validation; using none", { key });
  }
  memos.set(key, { value, until: now + SETTINGS_MEMO_MS });
  return value;
}

/** The automatic promotions as published (each is still checked for its window when applied). */
export function automaticPromotions(env: Env): Promise<Promotion[]> {
  return readMemo(env.CATALOG, AUTOMATIC_PROMOTIONS_KEY, z.array(StoredPromotion), []);
}

/** The tax rates per country as published (TAX_MODE=rates). */
export function taxRates(env: Env): Promise<TaxRates> {
  return readMemo(env.CATALOG, TAX_RATES_KEY, StoredRates, {});
}

/** Publishes the automatic promotions (the whole list; the admin API and the cron call this). */
export async function writeAutomaticPromotions(kv: KVNamespace, promotions: readonly Promotion[]): Promise<void> {
  await kv.put(AUTOMATIC_PROMOTIONS_KEY, JSON.stringify(promotions));
  memos.delete(AUTOMATIC_PROMOTIONS_KEY);
}

/** Publishes the tax rates (the whole table). */
export async function writeTaxRates(kv: KVNamespace, rates: TaxRates): Promise<void> {
  await kv.put(TAX_RATES_KEY, JSON.stringify(rates));
  memos.delete(TAX_RATES_KEY);
}
