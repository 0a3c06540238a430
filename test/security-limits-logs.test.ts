// Security properties of the HTTP surface (see security.test.ts): size and rate limits, and
// secrets kept out of logs.
import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { inArray } from "drizzle-orm";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { withDb } from "../src/db/client";
import { orders } from "../src/db/schema";
import worker from "../src/index";
import { cartStub, inventoryStub } from "../src/objects/stubs";
import { ADMIN, BASE, call, clientIpHeader, eventually, expectProblem, newCart, signedWebhookHeaders, stockedSku, unique } from "./helpers";
import { fillPath, type Operation, servedOperations } from "./lib/openapi";
import { inOneWindow } from "./lib/rate-windows";
import { orderedCart } from "./lib/security";
import { TEST_ADMIN_TOKEN, TEST_WEBHOOK_SECRET } from "./secrets";

let operations: Operation[] = [];
beforeAll(async () => {
  operations = await servedOperations();
});

describe("body size limit", () => {
  it("answers 413 for a body over 64 KiB on every operation that takes a body, before authentication", async () => {
    const withBody = operations.filter((op) => op.method === "POST" || op.method === "PUT");
    expect(withBody.length).toBeGreaterThanOrEqual(8);
    const big = JSON.stringify({ pad: "x".repeat(64 * 1024) });
    const values = {
      cart_id: "0".repeat(64),
      order_id: `ord_${"0".repeat(64)}`,
      sku: "SKU-1",
      product_id: "p-1",
      key_id: `sfk_${"0".repeat(32)}`,
      code: "SAVE10",
      promotion_id: "promo-1",
      country: "QZ",
      endpoint_id: `we_${"0".repeat(32)}`,
      delivery_id: `whd_${"0".repeat(32)}`,
    };
    for (const op of withBody) {
      // No credential at all: the size is refused first, so an anonymous client cannot make the
      // Worker buffer a large body on an authenticated route.
      const response = await call(op.method, fillPath(op.path, values), { body: big, headers: { "content-type": "application/json" } });
      await expectProblem(response, 413, "payload_too_large");
    }
    // Exactly 64 KiB is still read (and then judged on its content).
    const limit = JSON.stringify({ on_hand: 1, pad: "" }).length;
    const exact = JSON.stringify({ on_hand: 1, pad: "x".repeat(64 * 1024 - limit) });
    expect(new TextEncoder().encode(exact).byteLength).toBe(64 * 1024);
    await expectProblem(
      await call("PUT", `/v1/admin/inventory/${unique("S")}`, { body: exact, headers: { ...ADMIN, "content-type": "application/json" } }),
      400,
      "invalid_request",
    );
  });
});

describe("rate limits", () => {
  it("limits cart creation per client IP (429 rate_limited with Retry-After), without affecting other IPs or trusting X-Forwarded-For", async () => {
    const { statuses, limited } = await inOneWindow(async () => {
      const ip = clientIpHeader();
      const statuses: number[] = [];
      let limited: Response | null = null;
      for (let i = 0; i < 22; i++) {
        const response = await call("POST", "/v1/carts", { headers: { ...ip, "x-forwarded-for": `203.0.113.${i}` } });
        statuses.push(response.status);
        if (response.status === 429) limited ??= response;
        else await response.body?.cancel();
      }
      return { statuses, limited };
    });
    expect(statuses).toEqual([...Array<number>(20).fill(201), 429, 429]);
    expect(limited!.headers.get("retry-after")).toBe("60");
    await expectProblem(limited!, 429, "rate_limited");
    expect((await call("POST", "/v1/carts", { headers: clientIpHeader() })).status).toBe(201);
  });

  it("limits cart changes per client IP (300 a minute), and a limited change changes nothing", async () => {
    const sku = await stockedSku("RL", 1000);
    const { cart, accepted, limited, lastAccepted } = await inOneWindow(async () => {
      const ip = clientIpHeader();
      const cart = await newCart({}, ip);
      let limited: Response | null = null;
      let accepted = 0;
      let lastAccepted = 0;
      for (let i = 1; i <= 305 && limited === null; i++) {
        const quantity = (i % 5) + 1;
        const response = await call("PUT", `/v1/carts/${cart.id}/items/${sku}`, { body: { quantity }, headers: cart.headers });
        if (response.status === 429) limited = response;
        else {
          expect(response.status).toBe(200);
          accepted++;
          lastAccepted = quantity;
          await response.body?.cancel();
        }
      }
      return { cart, accepted, limited, lastAccepted };
    });
    expect(accepted).toBe(300);
    await expectProblem(limited!, 429, "rate_limited");
    // The refused change (quantity 2) did not happen: the hold is what the last accepted one set.
    expect((await inventoryStub(env, sku).holdOf(`cart:${cart.id}:${sku}`)).quantity).toBe(lastAccepted);
  });
});

describe("secrets in logs", () => {
  afterEach(() => vi.restoreAllMocks());

  it("never logs the admin token, cart tokens, the webhook secret or the database URL, in success or failure", async () => {
    const lines: string[] = [];
    for (const level of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        lines.push(
          args.map((a) => (typeof a === "string" ? a : a instanceof Error ? `${a.message} ${a.stack}` : JSON.stringify(a))).join(" "),
        );
      });
    }
    const secretDbUrl = "postgres://edgecart:pw-DO-NOT-LOG-7f3a@127.0.0.1:9/none";
    // A whole purchase, and the failures around it.
    const { sku, cart, order } = await orderedCart();
    const stranger = await newCart();
    await call("GET", `/v1/carts/${cart.id}`, { headers: stranger.headers });
    await call("PUT", `/v1/carts/${cart.id}/items/${sku}`, {
      body: { quantity: 1 },
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    await call("GET", "/v1/admin/orders", { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN.slice(0, -2)}` } });
    await call("GET", `/v1/admin/inventory/${sku}?token=${cart.token}`, { headers: ADMIN });
    const body = JSON.stringify({
      type: "payment.succeeded",
      data: { order_id: order.id, amount: order.total.amount, currency: "USD", payment_id: "pi_log" },
    });
    await call("POST", "/v1/webhooks/payments", {
      body,
      headers: signedWebhookHeaders(body, { secret: `whsec_${btoa("wrong-secret-wrong-secret")}` }),
    });
    expect((await call("POST", "/v1/webhooks/payments", { body, headers: signedWebhookHeaders(body) })).status).toBe(204);
    await eventually(
      () =>
        withDb(env, (db) =>
          db
            .select({ id: orders.id })
            .from(orders)
            .where(inArray(orders.id, [order.id])),
        ),
      (rows) => rows.length === 1,
    );
    // Database failures: the deep health check and the archival consumer against an unreachable
    // database whose URL carries a password.
    const broken = { ...env, DATABASE_URL: secretDbUrl } as Env;
    const health = await worker.fetch(new Request(`${BASE}/health?deep=1`), broken, createExecutionContext());
    expect(health.status).toBe(503);
    const archived = (await cartStub(env, cart.id)!.orderForAdmin())!;
    const batch = createMessageBatch("edgecart-orders", [
      {
        id: "log-test",
        timestamp: new Date(),
        attempts: 1,
        body: { type: "order.paid", version: 1, order: { ...archived, payment_id: "pi_log", paid_at: archived.paid_at } },
      },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, broken, ctx);
    expect((await getQueueResult(batch, ctx)).retryMessages).toHaveLength(1);

    const log = lines.join("\n");
    // Successes are not logged line by line; the failures above are, with their context.
    expect(log).toContain('"message":"deep health check failed"');
    expect(log).toContain('"message":"order archival failed; retrying the batch"');
    const secrets: Record<string, string> = {
      "admin token": TEST_ADMIN_TOKEN,
      "truncated admin token": TEST_ADMIN_TOKEN.slice(0, -2),
      "cart token": cart.token,
      "stranger's cart token": stranger.token,
      "webhook secret": TEST_WEBHOOK_SECRET,
      "webhook secret key": TEST_WEBHOOK_SECRET.slice("whsec_".length),
      "database password": "pw-DO-NOT-LOG-7f3a",
      "database URL": secretDbUrl,
    };
    if (env.DATABASE_URL) secrets["configured database URL"] = env.DATABASE_URL;
    for (const [name, secret] of Object.entries(secrets)) expect(log.includes(secret), `${name} appears in the log`).toBe(false);
    // Queries are not logged either (a token in a query string stays out of the log).
    expect(log).not.toContain("?token=");
  });
});
