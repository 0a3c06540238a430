/**
 * The client's helpers at run time, against a fake fetch (no server): node --test runs this file
 * as it is (npm run client:test).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createEdgecartClient, EdgecartError, idempotent, ifMatch, isProblem, unwrap, versionOf, withCart } from "../src/index.ts";

interface Seen {
  method: string;
  url: string;
  headers: Headers;
  body: string;
}

/** A fetch that answers from `answers` in turn (a function may throw, as a network failure does). */
function fakeFetch(answers: Array<Response | (() => Response)>) {
  const seen: Seen[] = [];
  const fetch = async (request: Request) => {
    seen.push({ method: request.method, url: request.url, headers: request.headers, body: await request.text() });
    const next = answers.shift();
    if (next === undefined) throw new Error("no answer left");
    return typeof next === "function" ? next() : next;
  };
  return { fetch, seen };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
const problem = (status: number, code: string, headers: Record<string, string> = {}) =>
  new Response(
    JSON.stringify({
      type: `tag:edgecart.dev,2026:problems/${code}`,
      title: "x",
      status,
      detail: `${code} happened`,
      code,
      request_id: "r",
    }),
    {
      status,
      headers: { "content-type": "application/problem+json", ...headers },
    },
  );
const order = { id: "ord_1", status: "pending_payment" };
const CART = "a".repeat(64);

describe("idempotent", () => {
  it("retries a 5xx, a network failure and 409 idempotency_key_in_use with the same key, and returns the answer with that key", async () => {
    const { fetch, seen } = fakeFetch([
      problem(503, "unavailable"),
      () => {
        throw new TypeError("fetch failed");
      },
      problem(409, "idempotency_key_in_use"),
      json(201, order),
    ]);
    const shop = withCart(createEdgecartClient({ baseUrl: "http://shop.test/", fetch }), "tok");
    const retries: string[] = [];
    const placed = await idempotent(
      (key) =>
        shop.POST("/v1/carts/{cart_id}/checkout", {
          params: { path: { cart_id: CART }, header: { "idempotency-key": key } },
          body: { email: "a@b.example" },
        }),
      { maxDelayMs: 1, onRetry: ({ reason }) => retries.push(reason) },
    );
    assert.equal(unwrap(placed).id, "ord_1");
    assert.equal(seen.length, 4);
    const keys = new Set(seen.map((s) => s.headers.get("idempotency-key")));
    assert.deepEqual([...keys], [placed.idempotencyKey]);
    assert.match(placed.idempotencyKey, /^[0-9a-f-]{36}$/);
    assert.deepEqual(retries, ["503", "request failed: fetch failed", "409 idempotency_key_in_use"]);
    assert.equal(seen[0]?.url, `http://shop.test/v1/carts/${CART}/checkout`);
    assert.equal(seen[0]?.body, '{"email":"a@b.example"}');
  });

  it("returns any other answer at once: a stored 409 is not retried", async () => {
    const { fetch, seen } = fakeFetch([problem(409, "cart_not_open")]);
    const shop = createEdgecartClient({ baseUrl: "http://shop.test", fetch });
    const cart = withCart(shop, "tok");
    const result = await idempotent(
      (key) =>
        cart.POST("/v1/carts/{cart_id}/checkout", {
          params: { path: { cart_id: CART }, header: { "idempotency-key": key } },
          body: { email: "a@b.example" },
        }),
      { maxDelayMs: 1 },
    );
    assert.equal(seen.length, 1);
    assert.ok(result.error !== undefined && isProblem(result.error, "cart_not_open"));
  });

  it("uses the key it is given (resuming an operation), and gives up after `attempts`, rethrowing the last failure", async () => {
    const { fetch, seen } = fakeFetch([
      () => {
        throw new TypeError("fetch failed");
      },
      () => {
        throw new TypeError("fetch failed again");
      },
    ]);
    const shop = createEdgecartClient({ baseUrl: "http://shop.test", fetch });
    await assert.rejects(
      idempotent((key) => shop.POST("/v1/carts", { params: { header: { "idempotency-key": key } } }), {
        key: "stored-key",
        attempts: 2,
        maxDelayMs: 1,
      }),
      /fetch failed again/,
    );
    assert.deepEqual(
      seen.map((s) => s.headers.get("idempotency-key")),
      ["stored-key", "stored-key"],
    );
  });

  it("waits Retry-After (up to maxDelayMs) after a 429", async () => {
    const { fetch } = fakeFetch([problem(429, "rate_limited", { "retry-after": "60" }), json(201, { id: CART, token: "t" })]);
    const shop = createEdgecartClient({ baseUrl: "http://shop.test", fetch });
    const delays: number[] = [];
    const created = await idempotent((key) => shop.POST("/v1/carts", { params: { header: { "idempotency-key": key } } }), {
      maxDelayMs: 20,
      onRetry: ({ delayMs }) => delays.push(delayMs),
    });
    assert.equal(created.response.status, 201);
    assert.deepEqual(delays, [20]);
  });
});

describe("withCart", () => {
  it("sends the cart's bearer token through a view of the client, leaving the client itself without it", async () => {
    const { fetch, seen } = fakeFetch([json(200, { id: CART, version: 3 }, { etag: '"3"' }), json(200, { data: [], next_cursor: null })]);
    const shop = createEdgecartClient({ baseUrl: "http://shop.test", fetch, headers: { "x-request-id": "storefront-1" } });
    const cart = withCart(shop, "secret-token");
    const read = await cart.GET("/v1/carts/{cart_id}", { params: { path: { cart_id: CART } } });
    await shop.GET("/v1/products");
    assert.equal(seen[0]?.headers.get("authorization"), "Bearer secret-token");
    assert.equal(seen[0]?.headers.get("x-request-id"), "storefront-1");
    assert.equal(seen[1]?.headers.get("authorization"), null);
    assert.equal(versionOf(read.response), 3);
  });
});

describe("ifMatch and versionOf", () => {
  it("makes the If-Match of a cart, a version or an ETag, and reads a version from an ETag", () => {
    assert.equal(ifMatch({ version: 4 }), '"4"');
    assert.equal(ifMatch(0), '"0"');
    assert.equal(ifMatch('W/"7"'), 'W/"7"');
    assert.throws(() => ifMatch(-1), RangeError);
    assert.equal(versionOf(new Response(null, { headers: { etag: 'W/"12"' } })), 12);
    assert.equal(versionOf(new Response(null)), undefined);
  });
});

describe("unwrap", () => {
  it("returns the data of a success and throws an EdgecartError with the problem otherwise", async () => {
    const { fetch } = fakeFetch([json(200, { data: [], next_cursor: null }), problem(404, "not_found")]);
    const shop = createEdgecartClient({ baseUrl: "http://shop.test", fetch });
    assert.deepEqual(unwrap(await shop.GET("/v1/products")), { data: [], next_cursor: null });
    const missing = await shop.GET("/v1/products/{product_id}", { params: { path: { product_id: "nope" } } });
    assert.throws(
      () => unwrap(missing),
      (error: unknown) =>
        error instanceof EdgecartError &&
        error.status === 404 &&
        error.code === "not_found" &&
        /404 not_found: not_found happened/.test(error.message),
    );
  });
});
