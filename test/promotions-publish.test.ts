// Publishing promotions and tax rates to the edge when the edge fails: the change is committed in
// Postgres first and never lost. A publish that fails (the promotion's object throws, KV refuses
// a write) leaves published_version behind version, and the minute cron (the Worker's scheduled
// handler, as Cloudflare calls it) republishes it and rewrites the automatic list and tax table.
//
// Faults are injected as in test/faults.test.ts and test/catalog-cache.test.ts: a one-shot
// interceptor on the real object's method (for this test's promotion only), and the real KV
// binding wrapped so its writes are refused.
//
// Postgres is shared by the test files running at the same time, and the automatic list and the
// tax table are whole values read from all of it: a cron run whose list kept changing in Postgres
// while it wrote (another file's promotions) does not confirm it, marks nothing, and leaves it to
// the next run (`settledPricing`; the last test shows that path on purpose).
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { PromotionInput } from "../src/contracts";
import { withDb } from "../src/db/client";
import { upsertPromotion } from "../src/db/promotions";
import { promotions } from "../src/db/schema";
import { promotionObjectName } from "../src/domain/promotion";
import worker from "../src/index";
import { PromotionObject } from "../src/objects/promotion";
import { promotionStub } from "../src/objects/stubs";
import { AUTOMATIC_PROMOTIONS_KEY, TAX_RATES_KEY } from "../src/services/pricing-settings";
import { maintainPricingSettings, type PricingReport, savePromotion } from "../src/sync/promotions-publish";
import { saveTaxRate } from "../src/sync/tax-publish";
import { ADMIN, call, unique } from "./helpers";

/** The real KV binding with some of its methods replaced by `overrides`. */
function kvWith(inner: KVNamespace, overrides: Partial<Record<keyof KVNamespace, unknown>>): KVNamespace {
  return new Proxy(inner, {
    get(target, prop) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop as keyof KVNamespace];
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The real KV binding, with every write refused. */
function refusingKv(inner: KVNamespace): KVNamespace {
  const refuse = () => Promise.reject(new Error("KV write refused"));
  return kvWith(inner, { put: refuse, delete: refuse });
}

/** Makes the next `publish` of promotion `id` in its object throw before it stores anything. */
function failNextPublishOf(id: string): void {
  const original = PromotionObject.prototype.publish;
  const spy = vi.spyOn(PromotionObject.prototype, "publish").mockImplementation(async function (this: PromotionObject, promotion) {
    if (promotion.id !== id) return original.call(this, promotion);
    spy.mockRestore();
    throw new Error("injected fault: the promotion's object failed");
  });
}

afterEach(() => vi.restoreAllMocks());

async function minuteCron(): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

/**
 * When `published()` is still false after a cron run, runs the cron's pricing pass again until a
 * run confirms `what` (the automatic list or the tax table) against Postgres, as the next minutes
 * would (at most 10 runs): other files change the shared database meanwhile. The caller then
 * checks that the confirming run marked what it published.
 */
async function settledPricing(what: "automatic" | "tax_rates", published: () => Promise<boolean>): Promise<void> {
  if (await published()) return;
  let report: PricingReport;
  let runs = 0;
  do report = await maintainPricingSettings(env);
  while (report[what] === null && ++runs < 10);
  expect(report[what]).not.toBeNull();
}

const input = (extra: Partial<PromotionInput> = {}): PromotionInput => ({
  code: null,
  starts_at: null,
  ends_at: null,
  value: { kind: "percent", basis_points: 1500 },
  target: { kind: "order" },
  allocation: "across",
  conditions: {},
  usage_limit: null,
  combinable: true,
  priority: 0,
  status: "active",
  ...extra,
});

async function adminView(id: string): Promise<Record<string, unknown>> {
  const response = await call("GET", `/v1/admin/promotions/${id}`, { headers: ADMIN });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

async function automaticIds(): Promise<string[]> {
  return (((await env.CATALOG.get(AUTOMATIC_PROMOTIONS_KEY, "json")) as Array<{ id: string }> | null) ?? []).map((p) => p.id);
}

describe("a failed publish is finished by the minute cron", () => {
  it("an object that fails: the PUT still answers (published_version 0), the cron publishes it", async () => {
    const id = unique("promo");
    const code = unique("RETRY").toUpperCase();
    failNextPublishOf(id);
    const response = await call("PUT", `/v1/admin/promotions/${id}`, {
      body: { code, value: { kind: "percent", basis_points: 500 } },
      headers: ADMIN,
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ version: 1, published_version: 0 });
    const object = promotionStub(env, promotionObjectName({ id, code }));
    expect(await object.lookup()).toBeNull();

    await minuteCron();
    expect(await object.lookup()).toMatchObject({ id, code, version: 1, status: "active" });
    expect(await adminView(id)).toMatchObject({ version: 1, published_version: 1 });
  });

  it("a delete whose publish fails: carts keep the old definition until the cron archives it", async () => {
    const id = unique("promo");
    const code = unique("STOP").toUpperCase();
    expect((await savePromotion(env, id, input({ code }))).ok).toBe(true);
    failNextPublishOf(id);
    expect((await call("DELETE", `/v1/admin/promotions/${id}`, { headers: ADMIN })).status).toBe(204);
    const object = promotionStub(env, promotionObjectName({ id, code }));
    expect(await object.lookup()).toMatchObject({ version: 1, status: "active" });

    await minuteCron();
    expect(await object.lookup()).toMatchObject({ version: 2, status: "archived" });
  });

  it("an automatic promotion whose KV list write is refused: its object has it, the cron writes the list", async () => {
    const id = unique("auto");
    const outcome = await savePromotion(env, id, input(), refusingKv(env.CATALOG));
    expect(outcome).toMatchObject({ ok: true, created: true, promotion: { version: 1, published_version: 0 } });
    expect(await promotionStub(env, promotionObjectName({ id, code: null })).lookup()).toMatchObject({ id, version: 1 });

    await minuteCron();
    expect(await automaticIds()).toContain(id);
    await settledPricing("automatic", async () => (await adminView(id)).published_version === 1);
    expect(await adminView(id)).toMatchObject({ version: 1, published_version: 1 });
  });

  it("a tax rate whose table write is refused: the cron writes the table", async () => {
    const country = `X${String.fromCharCode(65 + Math.floor(Math.random() * 26))}`;
    const saved = await saveTaxRate(env, country, { basis_points: 2000, inclusive: false }, refusingKv(env.CATALOG));
    expect(saved.rate.published_version).toBeLessThan(saved.rate.version);

    await minuteCron();
    const rate = async () =>
      (await (await call("GET", `/v1/admin/tax-rates/${country}`, { headers: ADMIN })).json()) as {
        basis_points: number;
        inclusive: boolean;
        version: number;
        published_version: number;
      };
    await settledPricing("tax_rates", async () => {
      const now = await rate();
      return now.published_version === now.version;
    });
    const table = (await env.CATALOG.get(TAX_RATES_KEY, "json")) as Record<string, unknown>;
    // Another test may have changed this country since; the table holds what Postgres holds.
    const now = await rate();
    expect(table[country]).toEqual({ basis_points: now.basis_points, inclusive: now.inclusive });
    expect(now.published_version).toBe(now.version);
  });

  it("a cron run whose automatic list keeps changing in Postgres marks nothing; the next run that confirms the list marks it", async () => {
    const id = unique("auto");
    const saved = await savePromotion(env, id, input(), refusingKv(env.CATALOG));
    expect(saved).toMatchObject({ ok: true, promotion: { version: 1, published_version: 0 } });
    // Each write of the list is followed by another automatic promotion committed in Postgres, so
    // the read after every write differs from what was written. Those discount nothing (a SKU no
    // cart holds) and end within seconds: other files' carts read the same database's list.
    const churn = () =>
      input({ target: { kind: "skus", skus: ["CHURN-NO-SUCH-SKU"] }, ends_at: new Date(Date.now() + 10_000).toISOString() });
    const moving = kvWith(env.CATALOG, {
      put: async (key: string, value: string) => {
        await env.CATALOG.put(key, value);
        if (key === AUTOMATIC_PROMOTIONS_KEY) await withDb(env, (db) => upsertPromotion(db, unique("auto-churn"), churn()));
      },
    });
    expect((await maintainPricingSettings(env, moving)).automatic).toBeNull();
    expect(await adminView(id)).toMatchObject({ version: 1, published_version: 0 });

    await settledPricing("automatic", async () => false);
    expect(await adminView(id)).toMatchObject({ version: 1, published_version: 1 });
    expect(await automaticIds()).toContain(id);
  });

  it("the cron drops an automatic promotion from the list once it has ended", async () => {
    const id = unique("auto");
    const endsAt = new Date(Date.now() + 60_000).toISOString();
    expect((await savePromotion(env, id, input({ ends_at: endsAt }))).ok).toBe(true);
    expect(await automaticIds()).toContain(id);
    // Its end comes: the row's end moved to a second ago, as the clock would pass it (nothing else
    // about the promotion changes, its version included). Waiting for a real end instead would race
    // the save on a slow machine.
    await withDb(env, (db) =>
      db
        .update(promotions)
        .set({ endsAt: new Date(Date.now() - 1000) })
        .where(eq(promotions.id, id)),
    );
    await minuteCron();
    expect(await automaticIds()).not.toContain(id);
  });
});
