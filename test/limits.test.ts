// Anonymous load that reaches storage (issue 14): availability is rate-limited per client IP, and
// the deep health check answers anonymous callers from one result shared for a few seconds
// (rate-limited too) while the admin token gets a live check.
import { createExecutionContext, env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { ADMIN, BASE, call, clientIpHeader, createStockedProduct, expectProblem, unique } from "./helpers";
import { inOneWindow } from "./lib/rate-windows";

type Health = { status: string; database?: { status: string; latency_ms: number; checked_at: string } };

/** Sends `count` requests one after another; the statuses, and the first 429 (body unread). */
async function burst(count: number, send: () => Promise<Response>): Promise<{ statuses: number[]; limited: Response | null }> {
  const statuses: number[] = [];
  let limited: Response | null = null;
  for (let i = 0; i < count; i++) {
    const response = await send();
    statuses.push(response.status);
    if (response.status === 429) limited ??= response;
    else await response.body?.cancel();
  }
  return { statuses, limited };
}

/** Calls the Worker directly with some settings overridden. */
const withEnv = (path: string, headers: Record<string, string>, overrides: Partial<Env>) =>
  worker.fetch(new Request(`${BASE}${path}`, { headers }), { ...env, ...overrides } as Env, createExecutionContext());

describe("availability is rate-limited per client IP", () => {
  it("answers 600 a minute to one IP, then 429 rate_limited with Retry-After; other IPs are not affected", async () => {
    const sku = unique("AVL");
    await createStockedProduct([sku], 5);
    const { statuses, limited, ip } = await inOneWindow(async () => {
      const ip = clientIpHeader();
      return { ip, ...(await burst(602, () => call("GET", `/v1/skus/${sku}/availability`, { headers: ip }))) };
    });
    expect(statuses.filter((s) => s === 200)).toHaveLength(600);
    expect(statuses.slice(600)).toEqual([429, 429]);
    expect(limited!.headers.get("retry-after")).toBe("60");
    await expectProblem(limited!, 429, "rate_limited");
    expect((await call("GET", `/v1/skus/${sku}/availability`, { headers: clientIpHeader() })).status).toBe(200);
    // Unknown SKUs count too: probing for SKUs is what the limit is for.
    expect((await call("GET", `/v1/skus/${unique("NOPE")}/availability`, { headers: ip })).status).toBe(429);
    // RATE_LIMITS=off lifts it (load tests on a dev server).
    expect((await withEnv(`/v1/skus/${sku}/availability`, ip, { RATE_LIMITS: "off" })).status).toBe(200);
  }, 180_000);

  it("documents the 429 in the OpenAPI document", async () => {
    const doc = (await (await call("GET", "/v1/openapi.json")).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    expect(Object.keys(doc.paths["/v1/skus/{sku}/availability"]!.get!.responses)).toContain("429");
    expect(Object.keys(doc.paths["/health"]!.get!.responses)).toContain("429");
  });
});

describe("the deep health check", () => {
  afterEach(() => vi.restoreAllMocks());

  it("answers concurrent anonymous deep checks from one shared check", async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => call("GET", "/health?deep=1", { headers: clientIpHeader() })));
    const bodies = (await Promise.all(answers.map((r) => r.json()))) as Health[];
    expect(answers.map((r) => r.status)).toEqual(Array<number>(20).fill(200));
    expect(new Set(bodies.map((b) => b.database?.checked_at)).size).toBe(1);
    expect(bodies[0]!.database).toMatchObject({ status: "ok", latency_ms: expect.any(Number), checked_at: expect.stringMatching(/Z$/) });
  });

  it("gives the admin token a live check every time, and anonymous callers a result at most 5 s old", async () => {
    const anonymous = async () =>
      ((await (await call("GET", "/health?deep=1", { headers: clientIpHeader() })).json()) as Health).database!.checked_at;
    const admin = async () => ((await (await call("GET", "/health?deep=1", { headers: ADMIN })).json()) as Health).database!.checked_at;
    const shared = await anonymous();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const live = [await admin(), await admin()];
    expect(live[0]! > shared).toBe(true);
    expect(live[1]! > live[0]!).toBe(true);
    expect(await anonymous()).toBe(shared);
    await new Promise((resolve) => setTimeout(resolve, 5_100));
    const fresh = await anonymous();
    expect(fresh > shared).toBe(true);
    expect(Date.parse(fresh)).toBeGreaterThan(Date.now() - 5_000);
  });

  it("shares a failure too: an unreachable database is queried (and logged) once for many anonymous checks", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => void lines.push(String(line)));
    const broken = { DATABASE_URL: `postgres://nobody:pw@127.0.0.1:9/${unique("down")}` };
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await withEnv("/health?deep=1", clientIpHeader(), broken);
      statuses.push(response.status);
      if (i === 0) await expectProblem(response, 503, "database_unavailable");
      else await response.body?.cancel();
    }
    expect(statuses).toEqual([503, 503, 503, 503, 503]);
    expect(lines.filter((l) => l.includes('"message":"deep health check failed"'))).toHaveLength(1);
  });

  it("limits anonymous deep checks to 30 a minute per IP (429 rate_limited); the admin token and the shallow check are not limited", async () => {
    const { statuses, limited, ip } = await inOneWindow(async () => {
      const ip = clientIpHeader();
      return { ip, ...(await burst(31, () => call("GET", "/health?deep=1", { headers: ip }))) };
    });
    expect(statuses).toEqual([...Array<number>(30).fill(200), 429]);
    expect(limited!.headers.get("retry-after")).toBe("60");
    await expectProblem(limited!, 429, "rate_limited");
    expect((await call("GET", "/health", { headers: ip })).status).toBe(200);
    expect((await call("GET", "/health?deep=1", { headers: { ...ip, ...ADMIN } })).status).toBe(200);
    expect((await withEnv("/health?deep=1", ip, { RATE_LIMITS: "off" })).status).toBe(200);
  });

  it("treats a wrong bearer token as anonymous (shared, limited), never as an error", async () => {
    const shared = ((await (await call("GET", "/health?deep=1", { headers: clientIpHeader() })).json()) as Health).database!.checked_at;
    const response = await call("GET", "/health?deep=1", { headers: { ...clientIpHeader(), authorization: "Bearer not-the-admin-token" } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as Health).database!.checked_at).toBe(shared);
  });
});
