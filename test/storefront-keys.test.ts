// Storefront keys (issue 14): a server-side storefront sends every shopper from one IP. With a key
// the back office issued, it passes each shopper's IP in Edgecart-Client-IP and the per-IP limits
// key on that; without a valid key the header is ignored. Keys live in Postgres as hashes and are
// published to KV (hash → id) so the edge verifies them without a database round trip.
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { withDb } from "../src/db/client";
import { storefrontKeys } from "../src/db/schema";
import { ADMIN, call, clientIpHeader, expectProblem, unique, uniqueIp } from "./helpers";
import { inOneWindow } from "./lib/rate-windows";

type IssuedKey = { id: string; name: string; key: string; created_at: string; revoked_at: string | null };
type KeyPage = { data: Array<Record<string, unknown>>; next_cursor: string | null };

async function issue(name = unique("storefront")): Promise<IssuedKey> {
  const response = await call("POST", "/v1/admin/storefront-keys", { body: { name }, headers: ADMIN });
  expect(response.status).toBe(201);
  expect(response.headers.get("cache-control")).toBe("no-store");
  return (await response.json()) as IssuedKey;
}

/** `count` cart creations from one server IP, each for another shopper IP; their statuses. */
async function cartsFromOneServer(count: number, headers: (i: number) => Record<string, string>): Promise<number[]> {
  const server = clientIpHeader();
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const response = await call("POST", "/v1/carts", { headers: { ...server, ...headers(i) } });
    statuses.push(response.status);
    await response.body?.cancel();
  }
  return statuses;
}

/** A shopper IP that no other call names, a server's included (one sequence for both). */
const shopperIp = uniqueIp;

describe("storefront keys in the back office", () => {
  it("issues a key once (201, no-store), lists keys without any secret, and revokes them (204)", async () => {
    const issued = await issue("Main storefront");
    expect(issued).toMatchObject({ id: expect.stringMatching(/^sfk_[0-9a-f]{32}$/), name: "Main storefront", revoked_at: null });
    expect(issued.key).toMatch(/^ecsk_[A-Za-z0-9_-]{43}$/);
    const listed = (await (await call("GET", "/v1/admin/storefront-keys?limit=100", { headers: ADMIN })).json()) as KeyPage;
    const entry = listed.data.find((k) => k.id === issued.id);
    expect(entry).toEqual({ id: issued.id, name: "Main storefront", created_at: issued.created_at, revoked_at: null });
    expect(JSON.stringify(listed)).not.toContain(issued.key);
    expect((await call("DELETE", `/v1/admin/storefront-keys/${issued.id}`, { headers: ADMIN })).status).toBe(204);
    // Revoking again changes nothing and says so the same way; an unknown id is 404.
    expect((await call("DELETE", `/v1/admin/storefront-keys/${issued.id}`, { headers: ADMIN })).status).toBe(204);
    await expectProblem(await call("DELETE", `/v1/admin/storefront-keys/sfk_${"0".repeat(32)}`, { headers: ADMIN }), 404, "not_found");
    await expectProblem(await call("DELETE", "/v1/admin/storefront-keys/not-an-id", { headers: ADMIN }), 400, "invalid_request");
    const after = (await (await call("GET", "/v1/admin/storefront-keys?limit=100", { headers: ADMIN })).json()) as KeyPage;
    expect(after.data.find((k) => k.id === issued.id)?.revoked_at).toEqual(expect.stringMatching(/Z$/));
  });

  it("pages through every key with the cursor, newest first, none twice", async () => {
    const mine = [];
    for (let i = 0; i < 5; i++) mine.push((await issue()).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/v1/admin/storefront-keys?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const page = (await (await call("GET", url, { headers: ADMIN })).json()) as KeyPage;
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((k) => String(k.id)));
      cursor = page.next_cursor;
      pages++;
    } while (cursor !== null && pages < 500);
    expect(new Set(seen).size).toBe(seen.length);
    const order = mine.map((id) => seen.indexOf(id));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => b - a)).toEqual(order);
    await expectProblem(await call("GET", "/v1/admin/storefront-keys?cursor=forged", { headers: ADMIN }), 400, "invalid_request");
  });

  it("refuses bad bodies and an Idempotency-Key (the answer holds a secret that is never stored) with 400, creating nothing", async () => {
    const before = await withDb(env, (db) => db.select({ id: storefrontKeys.id }).from(storefrontKeys));
    for (const body of [{}, { name: "" }, { name: "x".repeat(101) }, { name: "ok", key: "mine" }]) {
      await expectProblem(await call("POST", "/v1/admin/storefront-keys", { body, headers: ADMIN }), 400, "invalid_request");
    }
    const keyed = await call("POST", "/v1/admin/storefront-keys", {
      body: { name: "keyed" },
      headers: { ...ADMIN, "idempotency-key": unique("k") },
    });
    expect((await expectProblem(keyed, 400, "invalid_request")).errors).toEqual([
      { path: "header.idempotency-key", message: expect.any(String) },
    ]);
    await expectProblem(await call("POST", "/v1/admin/storefront-keys", { body: { name: "anon" } }), 401, "unauthorized");
    expect(await withDb(env, (db) => db.select({ id: storefrontKeys.id }).from(storefrontKeys))).toHaveLength(before.length);
  });
});

describe("per-IP limits for a server-side storefront", () => {
  it("with a valid key, 25 carts for 25 shoppers from one server are not limited", async () => {
    const { key } = await issue();
    const statuses = await inOneWindow(() =>
      cartsFromOneServer(25, () => ({ "edgecart-storefront-key": key, "edgecart-client-ip": shopperIp() })),
    );
    expect(statuses).toEqual(Array<number>(25).fill(201));
  });

  it("limits each shopper the storefront names as that shopper's own IP", async () => {
    const { key } = await issue();
    const statuses = await inOneWindow(() => {
      const shopper = shopperIp();
      return cartsFromOneServer(21, () => ({ "edgecart-storefront-key": key, "edgecart-client-ip": shopper }));
    });
    expect(statuses).toEqual([...Array<number>(20).fill(201), 429]);
  });

  it("ignores the shopper IP header without a valid key: forged, malformed, revoked or missing, the server is limited as one IP", async () => {
    const revoked = await issue();
    expect((await call("DELETE", `/v1/admin/storefront-keys/${revoked.id}`, { headers: ADMIN })).status).toBe(204);
    const forged = `ecsk_${"A".repeat(43)}`;
    for (const presented of [forged, revoked.key, "not-a-key", undefined]) {
      const statuses = await inOneWindow(() =>
        cartsFromOneServer(25, () => ({
          ...(presented === undefined ? {} : { "edgecart-storefront-key": presented }),
          "edgecart-client-ip": shopperIp(),
        })),
      );
      expect(statuses, String(presented)).toEqual([...Array<number>(20).fill(201), ...Array<number>(5).fill(429)]);
    }
  });

  it("answers 400 on header.edgecart-client-ip when a valid key comes with a malformed IP; without the IP header the server's own IP counts", async () => {
    const { key } = await issue();
    for (const ip of ["not-an-ip", "300.1.1.1", "10.0.0.1, 10.0.0.2", "::g"]) {
      const response = await call("POST", "/v1/carts", {
        headers: { ...clientIpHeader(), "edgecart-storefront-key": key, "edgecart-client-ip": ip },
      });
      expect((await expectProblem(response, 400, "invalid_request")).errors).toEqual([
        { path: "header.edgecart-client-ip", message: expect.any(String) },
      ]);
    }
    expect(
      (
        await call("POST", "/v1/carts", {
          headers: { ...clientIpHeader(), "edgecart-storefront-key": key, "edgecart-client-ip": "2001:db8::7" },
        })
      ).status,
    ).toBe(201);
    const statuses = await inOneWindow(() => cartsFromOneServer(21, () => ({ "edgecart-storefront-key": key })));
    expect(statuses).toEqual([...Array<number>(20).fill(201), 429]);
  });

  it("keys the availability limit on the shopper IP too", async () => {
    const { key } = await issue();
    const path = `/v1/skus/${unique("NOPE")}/availability`;
    const limit = 600; // AVAILABILITY_LIMITER in wrangler.toml, per minute
    /**
     * One read past the limit from one server IP, each for the shopper IP `shopper()` names (a
     * fresh `shopper` for every burst: `inOneWindow` may run it again); their statuses, counted.
     */
    const pastTheLimit = (shoppers: () => () => string) =>
      inOneWindow(async () => {
        const server = clientIpHeader();
        const shopper = shoppers();
        const counted = new Map<number, number>();
        for (let sent = 0; sent <= limit; sent += 50) {
          const answers = await Promise.all(
            Array.from({ length: Math.min(50, limit + 1 - sent) }, () =>
              call("GET", path, { headers: { ...server, "edgecart-storefront-key": key, "edgecart-client-ip": shopper() } }),
            ),
          );
          for (const response of answers) {
            counted.set(response.status, (counted.get(response.status) ?? 0) + 1);
            await response.body?.cancel();
          }
        }
        return Object.fromEntries(counted);
      });
    // Each shopper behind the one server IP has a count of its own: none is refused.
    expect(await pastTheLimit(() => shopperIp)).toEqual({ 404: limit + 1 });
    // One shopper past the limit is refused.
    const oneShopper = () => {
      const ip = shopperIp();
      return () => ip;
    };
    expect(await pastTheLimit(oneShopper)).toEqual({ 404: limit, 429: 1 });
  });
});

describe("a storefront key is never stored or logged in the clear", () => {
  afterEach(() => vi.restoreAllMocks());

  it("keeps only its SHA-256 in Postgres and KV, and never writes it to the log", async () => {
    const lines: string[] = [];
    for (const level of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    }
    const issued = await issue();
    await call("POST", "/v1/carts", {
      headers: { ...clientIpHeader(), "edgecart-storefront-key": issued.key, "edgecart-client-ip": shopperIp() },
    });
    await call("POST", "/v1/carts", {
      headers: { ...clientIpHeader(), "edgecart-storefront-key": issued.key, "edgecart-client-ip": "bad" },
    });
    await call("POST", "/v1/carts", { headers: { ...clientIpHeader(), "edgecart-storefront-key": `${issued.key}x` } });
    const rows = await withDb(env, (db) => db.select().from(storefrontKeys).where(eq(storefrontKeys.id, issued.id)));
    expect(rows).toHaveLength(1);
    const digest = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(issued.key))), (b) =>
      b.toString(16).padStart(2, "0"),
    ).join("");
    expect(rows[0]!.keyHash).toBe(digest);
    const listing = await env.STOREFRONT_KEYS.list();
    const stored = await Promise.all(listing.keys.map(async (k) => `${k.name}=${await env.STOREFRONT_KEYS.get(k.name)}`));
    expect(stored.join("\n")).toContain(digest);
    expect((await call("DELETE", `/v1/admin/storefront-keys/${issued.id}`, { headers: ADMIN })).status).toBe(204);
    const secretPart = issued.key.slice("ecsk_".length);
    for (const text of [JSON.stringify(rows), stored.join("\n"), lines.join("\n")]) {
      expect(text.includes(issued.key)).toBe(false);
      expect(text.includes(secretPart)).toBe(false);
    }
    // Revoked: its KV entry is gone.
    expect((await env.STOREFRONT_KEYS.list()).keys.map((k) => k.name).some((name) => name.includes(digest))).toBe(false);
  });
});

describe("the OpenAPI document", () => {
  it("declares the storefrontKey scheme and the shopper IP header on the rate-limited operations", async () => {
    type Op = {
      security?: Array<Record<string, string[]>>;
      parameters?: Array<{ name: string; in: string }>;
      responses: Record<string, unknown>;
    };
    const doc = (await (await call("GET", "/v1/openapi.json")).json()) as {
      paths: Record<string, Record<string, Op>>;
      components: { securitySchemes: Record<string, { type: string; in?: string; name?: string }> };
    };
    expect(doc.components.securitySchemes.storefrontKey).toMatchObject({ type: "apiKey", in: "header", name: "Edgecart-Storefront-Key" });
    const limited = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => "429" in op.responses)
        .map(([m, op]) => [`${m} ${path}`, op] as const),
    );
    expect(limited.map(([name]) => name).sort()).toEqual([
      "delete /v1/carts/{cart_id}/items/{sku}",
      "delete /v1/carts/{cart_id}/promotions/{code}",
      "get /health",
      "get /v1/skus/{sku}/availability",
      "post /v1/carts",
      "put /v1/carts/{cart_id}/items/{sku}",
      "put /v1/carts/{cart_id}/promotions/{code}",
      "put /v1/carts/{cart_id}/ship-to",
    ]);
    for (const [name, op] of limited) {
      expect(
        op.parameters?.map((p) => `${p.in}:${p.name}`),
        name,
      ).toEqual(expect.arrayContaining(["header:edgecart-client-ip"]));
      expect(
        op.security?.some((s) => "storefrontKey" in s),
        name,
      ).toBe(true);
    }
    expect(doc.paths["/v1/carts"]!.post!.security).toEqual([{}, { storefrontKey: [] }]);
    expect(doc.paths["/v1/carts/{cart_id}/items/{sku}"]!.put!.security).toEqual([{ cartToken: [] }, { cartToken: [], storefrontKey: [] }]);
    expect(doc.paths["/v1/admin/storefront-keys"]!.post!.security).toEqual([{ adminToken: [] }]);
  });
});
