// Bad and hostile input (issue 14): identifiers that cannot survive a URL, the quantity boundary,
// merged Idempotency-Key headers, unparsable signed webhooks, and concurrent product creation.
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { withDb } from "../src/db/client";
import { products, skus } from "../src/db/schema";
import { inventoryStub } from "../src/objects/stubs";
import {
  ADMIN,
  call,
  createStockedProduct,
  expectProblem,
  newCart,
  productBody,
  sendPayment,
  signedWebhookHeaders,
  unique,
} from "./helpers";
import { placedOrder } from "./lib/checkout";

async function onHand(sku: string): Promise<number> {
  const snapshot = await inventoryStub(env, sku).snapshot();
  if (!snapshot.ok) throw new Error(snapshot.reason);
  return snapshot.snapshot.on_hand;
}

describe("identifiers that do not survive a URL path", () => {
  it("refuses the SKUs . and .. with 400 naming the field, and writes nothing", async () => {
    for (const sku of [".", ".."]) {
      const id = unique("dots");
      const response = await call("PUT", `/v1/admin/products/${id}`, {
        body: productBody([{ sku: unique("OK") }, { sku }]),
        headers: ADMIN,
      });
      const problem = await expectProblem(response, 400, "invalid_request");
      expect(problem.errors).toEqual([{ path: "variants.1.sku", message: expect.stringContaining(".") }]);
      expect(await withDb(env, (db) => db.select().from(products).where(eq(products.id, id)))).toEqual([]);
      expect(await withDb(env, (db) => db.select().from(skus).where(eq(skus.sku, sku)))).toEqual([]);
    }
    const restore = await call("POST", "/v1/admin/maintenance/restore-inventory", { body: { skus: [".."] }, headers: ADMIN });
    expect((await expectProblem(restore, 400, "invalid_request")).errors).toEqual([{ path: "skus.0", message: expect.any(String) }]);
  });

  it('still accepts dots that do survive a URL: ..., .a, a.b, a.. ("..." is routed as an id)', async () => {
    // Only "." and ".." are normalised away; any longer run of dots is an id. A fixed "..." would be
    // one SKU for the whole run's database (another file, or the fuzzer, may own it), so the length
    // is drawn: 40–63 dots, a SKU nothing else makes.
    const dotted = [".".repeat(40 + Math.floor(Math.random() * 24)), `.${unique("a")}`, `${unique("a")}.b`, `${unique("a")}..`];
    // "..." reaches the route as a SKU: unknown (404), or stocked by another test (200); never a 400.
    expect([200, 404]).toContain((await call("GET", "/v1/skus/.../availability")).status);
    const id = `${unique("p")}...`;
    const response = await call("PUT", `/v1/admin/products/${id}`, { body: productBody(dotted.map((sku) => ({ sku }))), headers: ADMIN });
    expect(response.status).toBe(201);
    for (const sku of dotted.slice(1)) expect((await call("GET", `/v1/skus/${sku}/availability`)).status).toBe(200);
    expect((await call("GET", `/v1/products/${id}`)).status).toBe(200);
  });

  it("never sees . or .. as a path parameter: the URL normalises them away first", async () => {
    expect(new URL("http://edgecart.test/v1/admin/products/..").pathname).toBe("/v1/admin/");
    expect(new URL("http://edgecart.test/v1/skus/%2e/availability").pathname).toBe("/v1/skus/availability");
  });
});

describe("the line quantity boundary", () => {
  it("answers every integer above the line limit with 422 quantity_limit_exceeded and its limit, up to Number.MAX_SAFE_INTEGER", async () => {
    const sku = unique("BIG");
    await createStockedProduct([sku], 50);
    const cart = await newCart();
    for (const quantity of [11, 1000, 1001, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 1e15, Number.MAX_SAFE_INTEGER]) {
      const response = await call("PUT", `/v1/carts/${cart.id}/items/${sku}`, { body: { quantity }, headers: cart.headers });
      expect(response.status, String(quantity)).toBe(422);
      expect(await expectProblem(response, 422, "quantity_limit_exceeded")).toMatchObject({ limit: 10, sku });
    }
    expect(await (await call("GET", `/v1/skus/${sku}/availability`)).json()).toEqual({ sku, available: 50 });
  });

  it("keeps 400 for non-integers, negatives and unsafe numbers", async () => {
    const sku = unique("BIG");
    await createStockedProduct([sku], 50);
    const cart = await newCart();
    const raw = ["1.5", "-1", "9007199254740992", "1e300", '"3"', "null", "true"];
    for (const quantity of raw) {
      const response = await call("PUT", `/v1/carts/${cart.id}/items/${sku}`, {
        body: `{"quantity":${quantity}}`,
        headers: { ...cart.headers, "content-type": "application/json" },
      });
      const problem = await expectProblem(response, 400, "invalid_request");
      expect(problem.errors, quantity).toEqual([{ path: "quantity", message: expect.any(String) }]);
    }
  });
});

describe("Idempotency-Key: two headers merged into one", () => {
  const adjust = (sku: string, headers: Record<string, string>) =>
    call("POST", `/v1/admin/inventory/${sku}/adjustments`, { body: { delta: 1, reason: "merged" }, headers: { ...ADMIN, ...headers } });

  it("refuses a value the Headers API made of two keys (a, b) with 400 on header.idempotency-key, and changes nothing", async () => {
    const sku = unique("MERGE");
    await createStockedProduct([sku], 10);
    const merged = new Headers([
      ["idempotency-key", "key-a"],
      ["idempotency-key", "key-b"],
    ]);
    expect(merged.get("idempotency-key")).toBe("key-a, key-b");
    for (const value of [merged.get("idempotency-key")!, "a,, b", ", b", "a, b, c"]) {
      const problem = await expectProblem(await adjust(sku, { "idempotency-key": value }), 400, "invalid_request");
      expect(problem.errors).toEqual([{ path: "header.idempotency-key", message: expect.stringMatching(/more than one|two/i) }]);
    }
    const sent = await call("POST", "/v1/carts", { headers: { "idempotency-key": "one, two", "cf-connecting-ip": "198.51.100.77" } });
    await expectProblem(sent, 400, "invalid_request");
    expect(await onHand(sku)).toBe(10);
    // One key with a comma but no comma-space is still one key.
    expect((await adjust(sku, { "idempotency-key": `k,${unique("x")}` })).status).toBe(200);
    expect(await onHand(sku)).toBe(11);
  });

  it("says so in the OpenAPI description of the header", async () => {
    const doc = (await (await call("GET", "/v1/openapi.json")).json()) as {
      paths: Record<string, Record<string, { parameters: Array<{ name: string; description: string }> }>>;
    };
    const param = doc.paths["/v1/carts"]!.post!.parameters.find((p) => p.name === "idempotency-key")!;
    expect(param.description).toContain('", "');
  });
});

describe("a signed webhook whose body is not JSON", () => {
  it('answers 400 invalid_request with the body path "" (as any endpoint does for malformed JSON)', async () => {
    for (const body of ["not json", "{", '{"type": "payment.succeeded", ', "\u00ff"]) {
      const headers = signedWebhookHeaders(body);
      const problem = await expectProblem(await call("POST", "/v1/webhooks/payments", { body, headers }), 400, "invalid_request");
      expect(problem.errors).toEqual([{ path: "", message: "malformed JSON" }]);
    }
  });

  it("answers 400 to valid JSON that is not an event (null, a number, an array)", async () => {
    for (const body of ["null", "42", "[]", '"payment.succeeded"']) {
      await expectProblem(
        await call("POST", "/v1/webhooks/payments", { body, headers: signedWebhookHeaders(body) }),
        400,
        "invalid_request",
      );
    }
  });

  it("still refuses an unsigned non-JSON body with 401 first", async () => {
    const headers = signedWebhookHeaders("something else");
    await expectProblem(await call("POST", "/v1/webhooks/payments", { body: "not json", headers }), 401, "invalid_signature");
  });
});

describe("concurrent creation of one product", () => {
  it("answers exactly one 201 when several PUTs create the same new product at once; the others replace it (200)", async () => {
    const rounds = 4;
    const writers = 6;
    for (let round = 0; round < rounds; round++) {
      const id = unique("race");
      const sku = unique("RACE");
      const responses = await Promise.all(
        Array.from({ length: writers }, () => call("PUT", `/v1/admin/products/${id}`, { body: productBody([{ sku }]), headers: ADMIN })),
      );
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses, `round ${round} (${(env as unknown as { DATABASE_KIND: string }).DATABASE_KIND} database)`).toEqual(
        [200, 200, 200, 200, 200, 201].slice(6 - writers),
      );
      const versions = (await Promise.all(responses.map((r) => r.json() as Promise<{ version: number }>)))
        .map((p) => p.version)
        .sort((a, b) => a - b);
      expect(versions).toEqual(Array.from({ length: writers }, (_, i) => i + 1));
      const created = responses.findIndex((r) => r.status === 201);
      expect(created).toBeGreaterThanOrEqual(0);
    }
  });
});

describe("the NUL character (U+0000), which Postgres cannot store", () => {
  const NUL = "\u0000";
  const nulError = (path: string) => ({ path, message: expect.stringContaining("U+0000") });

  it("is refused with 400 naming the field in a storefront key's name, and no key is issued", async () => {
    const name = unique(`key${NUL}name`);
    const problem = await expectProblem(
      await call("POST", "/v1/admin/storefront-keys", { body: { name }, headers: ADMIN }),
      400,
      "invalid_request",
    );
    expect(problem.errors).toEqual([nulError("name")]);
    const listed = (await (await call("GET", "/v1/admin/storefront-keys?limit=100", { headers: ADMIN })).json()) as {
      data: Array<{ name: string }>;
    };
    expect(listed.data.filter((key) => key.name.includes(NUL))).toEqual([]);
  });

  it("is refused in a product's title and description, each listed, and the product is not created", async () => {
    const id = unique("nul");
    const body = { ...productBody([{ sku: unique("NUL") }]), title: `A${NUL}B`, description: `line${NUL}` };
    const problem = await expectProblem(await call("PUT", `/v1/admin/products/${id}`, { body, headers: ADMIN }), 400, "invalid_request");
    expect(problem.errors).toEqual([nulError("title"), nulError("description")]);
    expect(await withDb(env, (db) => db.select().from(products).where(eq(products.id, id)))).toEqual([]);
    expect((await call("PUT", `/v1/admin/products/${id}`, { body: productBody([{ sku: unique("NUL") }]), headers: ADMIN })).status).toBe(
      201,
    );
  });

  it("is refused in a query parameter", async () => {
    const query = await expectProblem(
      await call("GET", "/v1/admin/storefront-keys?cursor=a%00b", { headers: ADMIN }),
      400,
      "invalid_request",
    );
    expect(query.errors).toEqual([nulError("query.cursor")]);
  });

  it("is refused in a signed payment's payment_id, leaving the order unpaid; an ignored event type may carry it", async () => {
    const { order } = await placedOrder(1);
    const { amount, currency } = order.total;
    const refused = await expectProblem(await sendPayment(order.id, amount, currency, { paymentId: `pi_${NUL}` }), 400, "invalid_request");
    expect(refused.errors).toEqual([nulError("payment_id")]);
    const body = JSON.stringify({ type: "payment.refunded", data: { note: `ignored${NUL}` } });
    expect((await call("POST", "/v1/webhooks/payments", { body, headers: signedWebhookHeaders(body) })).status).toBe(204);
    const unpaid = (await (await call("GET", `/v1/admin/orders/${order.id}`, { headers: ADMIN })).json()) as {
      status: string;
      payments: unknown[];
    };
    expect(unpaid).toMatchObject({ status: "pending_payment", payments: [] });
    expect((await sendPayment(order.id, amount, currency, { paymentId: "pi_after_nul" })).status).toBe(204);
  });
});
