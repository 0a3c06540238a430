// The back office's promotions (issue 18): create and replace in Postgres, codes normalized,
// unique and fixed once set, soft delete, the list, redemptions, and every change published to
// the promotion's object (and, for automatic promotions, the KV list carts read) before the call
// returns. Bad input and auth: admin-promotions-input.test.ts.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { PromotionView } from "../src/contracts";
import { type Promotion, promotionObjectName } from "../src/domain/promotion";
import { encodeCursor } from "../src/http/cursor";
import { promotionStub } from "../src/objects/stubs";
import { AUTOMATIC_PROMOTIONS_KEY } from "../src/services/pricing-settings";
import { ADMIN, call, expectProblem, unique } from "./helpers";

type Page = { data: PromotionView[]; next_cursor: string | null };

const percentOff = (extra: Record<string, unknown> = {}) => ({ value: { kind: "percent", basis_points: 1000 }, ...extra });
/** A code unique to one test, as the server stores it (upper case). */
const codeOf = (prefix: string) => unique(prefix).toUpperCase();
const put = (id: string, body: unknown) => call("PUT", `/v1/admin/promotions/${id}`, { body, headers: ADMIN });
const get = (id: string) => call("GET", `/v1/admin/promotions/${id}`, { headers: ADMIN });

async function created(id: string, body: unknown): Promise<PromotionView> {
  const response = await put(id, body);
  expect(response.status).toBe(201);
  expect(response.headers.get("cache-control")).toBe("no-store");
  return (await response.json()) as PromotionView;
}

/** What the promotion's object holds. */
function lookup(promotion: { id: string; code: string | null }): Promise<Promotion | null> {
  return promotionStub(env, promotionObjectName(promotion)).lookup();
}

async function automaticList(): Promise<Promotion[]> {
  return ((await env.CATALOG.get(AUTOMATIC_PROMOTIONS_KEY, "json")) as Promotion[] | null) ?? [];
}

/**
 * Every page of the list for `query`; with `prefix`, only the pages through the ids that start with
 * it, from a cursor just before it (the cursor is the last listed id): other test files share this
 * database, and small pages over all of their promotions would make a test's time grow with the suite.
 */
async function listAll(query: string, limit = 100, prefix?: string): Promise<PromotionView[]> {
  const all: PromotionView[] = [];
  let cursor: string | null = prefix === undefined ? null : encodeCursor({ a: prefix });
  do {
    const response = await call("GET", `/v1/admin/promotions?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ""}`, {
      headers: ADMIN,
    });
    expect(response.status).toBe(200);
    const page = (await response.json()) as Page;
    all.push(...page.data);
    cursor = prefix === undefined || page.data.every((p) => p.id.startsWith(prefix)) ? page.next_cursor : null;
  } while (cursor !== null);
  return all;
}

describe("create and replace", () => {
  it("creates a code promotion (stored upper case), publishes it to its object, and replaces it with version + 1", async () => {
    const id = unique("promo");
    const code = codeOf("save").toLowerCase();
    const body = percentOff({
      code,
      starts_at: "2026-01-01T00:00:00+01:00",
      ends_at: "2036-01-01T00:00:00Z",
      usage_limit: 100,
      priority: 5,
    });
    const view = await created(id, body);
    expect(view).toMatchObject({
      id,
      code: code.toUpperCase(),
      starts_at: "2025-12-31T23:00:00.000Z",
      ends_at: "2036-01-01T00:00:00.000Z",
      value: { kind: "percent", basis_points: 1000 },
      target: { kind: "order" },
      allocation: "across",
      conditions: {},
      usage_limit: 100,
      combinable: true,
      priority: 5,
      status: "active",
      version: 1,
      published_version: 1,
    });
    expect(await lookup(view)).toEqual({
      id,
      code: code.toUpperCase(),
      starts_at: Date.parse("2025-12-31T23:00:00Z"),
      ends_at: Date.parse("2036-01-01T00:00:00Z"),
      value: { kind: "percent", basis_points: 1000 },
      target: { kind: "order" },
      allocation: "across",
      conditions: {},
      usage_limit: 100,
      combinable: true,
      priority: 5,
      version: 1,
      status: "active",
    });

    const replaced = await put(id, {
      ...body,
      code: code.toUpperCase(),
      value: { kind: "fixed", amounts: { EUR: 500, JPY: 700 } },
      target: { kind: "skus", skus: ["A-1"] },
      allocation: "each",
    });
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toMatchObject({
      version: 2,
      published_version: 2,
      value: { kind: "fixed", amounts: { EUR: 500, JPY: 700 } },
      allocation: "each",
    });
    expect(await lookup(view)).toMatchObject({ version: 2, target: { kind: "skus", skus: ["A-1"] } });

    const read = await get(id);
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ id, version: 2, redemptions: { held: 0, committed: 0 } });
  });

  it("keeps a code once set, and the absence of one: 409 promotion_code_immutable, nothing changed", async () => {
    const id = unique("promo");
    const code = codeOf("KEEP");
    await created(id, percentOff({ code }));
    for (const other of [`${code}X`, null]) {
      const body = await expectProblem(await put(id, percentOff({ code: other })), 409, "promotion_code_immutable");
      expect(body.promotion_code).toBe(code);
    }
    const auto = unique("auto");
    await created(auto, percentOff());
    expect(
      (await expectProblem(await put(auto, percentOff({ code: codeOf("LATE") })), 409, "promotion_code_immutable")).promotion_code,
    ).toBeNull();
    expect(await (await get(id)).json()).toMatchObject({ version: 1, code });
  });

  it("refuses a code another promotion has, whatever its case: 409 promotion_code_taken", async () => {
    const first = unique("promo");
    const code = codeOf("TAKEN");
    await created(first, percentOff({ code }));
    const second = unique("promo");
    const body = await expectProblem(await put(second, percentOff({ code: code.toLowerCase() })), 409, "promotion_code_taken");
    expect(body).toMatchObject({ promotion_code: code, promotion_id: first });
    await expectProblem(await get(second), 404, "not_found");
  });

  it("gives one 201 to racing creates of the same id, and one promotion to racing creates of the same code", async () => {
    const id = unique("race");
    const answers = await Promise.all(Array.from({ length: 4 }, () => put(id, percentOff())));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 201]);
    expect(await (await get(id)).json()).toMatchObject({ version: 4 });

    const code = codeOf("RACE");
    const ids = Array.from({ length: 4 }, () => unique("racer"));
    const racers = await Promise.all(ids.map((racer) => put(racer, percentOff({ code }))));
    const statuses = racers.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409, 409, 409]);
    // The code is the winner's, and the refused racers left no promotion behind.
    const winner = ids[racers.findIndex((r) => r.status === 201)]!;
    expect(await listAll(`&code=${code}`)).toMatchObject([{ id: winner, code }]);
    for (const loser of ids.filter((racer) => racer !== winner)) await expectProblem(await get(loser), 404, "not_found");
  });
});

describe("automatic promotions", () => {
  it("are published to the KV list while active and not ended, scheduled ones included", async () => {
    const live = unique("auto");
    const scheduled = unique("auto");
    const ended = unique("auto");
    const archived = unique("auto");
    await created(live, percentOff());
    await created(scheduled, percentOff({ starts_at: "2099-01-01T00:00:00Z" }));
    await created(ended, percentOff({ starts_at: "2020-01-01T00:00:00Z", ends_at: "2020-02-01T00:00:00Z" }));
    await created(archived, percentOff({ status: "archived" }));
    const ids = (await automaticList()).map((p) => p.id);
    expect(ids).toEqual(expect.arrayContaining([live, scheduled]));
    expect(ids).not.toContain(ended);
    expect(ids).not.toContain(archived);
    expect((await automaticList()).find((p) => p.id === scheduled)).toMatchObject({
      code: null,
      starts_at: Date.parse("2099-01-01T00:00:00Z"),
      ends_at: null,
      version: 1,
    });
    // Every one of them has its object all the same (a cart holding one asks it).
    expect(await lookup({ id: archived, code: null })).toMatchObject({ status: "archived", version: 1 });
  });
});

describe("soft delete", () => {
  it("archives the promotion at the edge, hides it, keeps its code taken, and a PUT brings it back with its versions continuing", async () => {
    const id = unique("promo");
    const code = codeOf("GONE");
    const view = await created(id, percentOff({ code }));
    const deleted = await call("DELETE", `/v1/admin/promotions/${id}`, { headers: ADMIN });
    expect(deleted.status).toBe(204);
    await expectProblem(await get(id), 404, "not_found");
    await expectProblem(await call("DELETE", `/v1/admin/promotions/${id}`, { headers: ADMIN }), 404, "not_found");
    expect(await lookup(view)).toMatchObject({ status: "archived", version: 2 });
    expect((await listAll(`&code=${code}`)).map((p) => p.id)).toEqual([]);
    expect((await expectProblem(await put(unique("promo"), percentOff({ code })), 409, "promotion_code_taken")).promotion_id).toBe(id);

    const back = await put(id, percentOff({ code }));
    expect(back.status).toBe(201);
    expect(await back.json()).toMatchObject({ version: 3, published_version: 3, status: "active" });
    expect(await lookup(view)).toMatchObject({ status: "active", version: 3 });
  });

  it("takes an automatic promotion off the KV list", async () => {
    const id = unique("auto");
    await created(id, percentOff());
    expect((await automaticList()).map((p) => p.id)).toContain(id);
    expect((await call("DELETE", `/v1/admin/promotions/${id}`, { headers: ADMIN })).status).toBe(204);
    expect((await automaticList()).map((p) => p.id)).not.toContain(id);
    expect(await lookup({ id, code: null })).toMatchObject({ status: "archived", version: 2 });
  });
});

describe("list", () => {
  it("pages by id with a cursor, each promotion once, and filters by status and code", async () => {
    const prefix = unique("list");
    const ids = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`];
    const code = codeOf("LISTED");
    await created(ids[0]!, percentOff({ code }));
    await created(ids[1]!, percentOff({ status: "archived" }));
    await created(ids[2]!, percentOff());
    const walked = (await listAll("", 2, prefix)).map((p) => p.id);
    expect(walked.filter((id) => id.startsWith(prefix))).toEqual(ids);
    expect(new Set(walked).size).toBe(walked.length);
    expect(walked).toEqual([...walked].sort());

    const archived = (await listAll("&status=archived")).map((p) => p.id);
    expect(archived).toContain(ids[1]);
    expect(archived).not.toContain(ids[0]);
    expect((await listAll(`&code=${code.toLowerCase()}`)).map((p) => p.id)).toEqual([ids[0]]);
    const page = (await (await call("GET", "/v1/admin/promotions?limit=1", { headers: ADMIN })).json()) as Page;
    expect(page.data[0]).not.toHaveProperty("redemptions");
  });
});

describe("redemptions", () => {
  it("GET shows what the promotion's object counts: holds and committed redemptions", async () => {
    const id = unique("promo");
    const code = codeOf("COUNT");
    const view = await created(id, percentOff({ code, usage_limit: 5 }));
    const object = promotionStub(env, promotionObjectName(view));
    expect((await object.hold("cart:one", Date.now() + 600_000)).ok).toBe(true);
    expect((await object.hold("cart:two", Date.now() + 600_000)).ok).toBe(true);
    expect(await object.commit("cart:two")).toEqual({ ok: true, duplicate: false });
    expect(await (await get(id)).json()).toMatchObject({ redemptions: { held: 1, committed: 1 } });
  });
});
