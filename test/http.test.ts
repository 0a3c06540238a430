import { describe, expect, it } from "vitest";
import { handleWithSeam } from "../src/http/dispatch";
import { ADMIN, call, expectProblem, unique } from "./helpers";

describe("health", () => {
  it("answers 200 ok with a request id", async () => {
    const response = await call("GET", "/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("deep check runs a query on Postgres through the Neon driver and relay", async () => {
    const response = await call("GET", "/health?deep=1");
    expect(response.status).toBe(200);
    const body = (await response.json()) as { status: string; database: { status: string; latency_ms: number } };
    expect(body.status).toBe("ok");
    expect(body.database.status).toBe("ok");
    expect(body.database.latency_ms).toBeGreaterThanOrEqual(0);
  });

  it("rejects an unknown query parameter", async () => {
    const body = await expectProblem(await call("GET", "/health?verbose=1"), 400, "invalid_request");
    expect(body.errors).toEqual([{ path: "query.verbose", message: "unknown field" }]);
  });
});

describe("request ids", () => {
  it("keeps a well-formed inbound x-request-id", async () => {
    const response = await call("GET", "/health", { headers: { "x-request-id": "trace-123.abc" } });
    expect(response.headers.get("x-request-id")).toBe("trace-123.abc");
  });

  it("replaces a malformed inbound x-request-id", async () => {
    const response = await call("GET", "/health", { headers: { "x-request-id": "bad id with spaces" } });
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("gives every response, errors included, a distinct id", async () => {
    const ids = await Promise.all(
      [call("GET", "/health"), call("GET", "/nope"), call("DELETE", "/health")].map(async (r) => (await r).headers.get("x-request-id")),
    );
    expect(new Set(ids).size).toBe(3);
  });
});

describe("error seam", () => {
  it("answers an unknown route with 404 not_found", async () => {
    await expectProblem(await call("GET", "/v1/nothing-here"), 404, "not_found");
  });

  it("answers a known path with the wrong method with 405 and Allow", async () => {
    const response = await call("DELETE", "/v1/admin/inventory/SKU-1", { headers: ADMIN });
    expect(response.headers.get("allow")).toBe("GET, PUT");
    await expectProblem(response, 405, "method_not_allowed");
  });

  it("answers malformed JSON with 400", async () => {
    const response = await call("PUT", `/v1/admin/inventory/${unique("SKU")}`, {
      body: '{"on_hand": 3',
      headers: { ...ADMIN, "content-type": "application/json" },
    });
    const body = await expectProblem(response, 400, "invalid_request");
    expect(body.errors).toEqual([{ path: "", message: "malformed JSON" }]);
  });

  it("answers a non-JSON body with 415", async () => {
    const response = await call("PUT", `/v1/admin/inventory/${unique("SKU")}`, {
      body: "on_hand=3",
      headers: { ...ADMIN, "content-type": "application/x-www-form-urlencoded" },
    });
    await expectProblem(response, 415, "unsupported_media_type");
  });

  it("answers a 200 KB body with 413, by Content-Length and when streamed without one", async () => {
    const big = JSON.stringify({ on_hand: 1, pad: "x".repeat(200 * 1024) });
    await expectProblem(
      await call("PUT", `/v1/admin/inventory/${unique("SKU")}`, { body: big, headers: { ...ADMIN, "content-type": "application/json" } }),
      413,
      "payload_too_large",
    );
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 50; i++) controller.enqueue(new TextEncoder().encode("x".repeat(4096)));
        controller.close();
      },
    });
    const { exports } = await import("cloudflare:workers");
    const response = await exports.default.fetch(
      new Request(`http://edgecart.test/v1/admin/inventory/${unique("SKU")}`, {
        method: "PUT",
        body: stream,
        headers: { ...ADMIN, "content-type": "application/json" },
        duplex: "half",
      } as RequestInit),
    );
    await expectProblem(response, 413, "payload_too_large");
  });

  it("lists every invalid field, unknown keys included, in errors", async () => {
    const response = await call("PUT", `/v1/admin/inventory/${unique("SKU")}`, { body: { on_hand: 1.5, colour: "red" }, headers: ADMIN });
    const body = await expectProblem(response, 400, "invalid_request");
    expect(body.errors).toEqual(
      expect.arrayContaining([
        { path: "on_hand", message: expect.any(String) },
        { path: "colour", message: "unknown field" },
      ]),
    );
    expect((body.errors as unknown[]).length).toBe(2);
  });

  it("rejects an invalid path parameter with 400", async () => {
    const body = await expectProblem(await call("GET", "/v1/skus/has%20space/availability"), 400, "invalid_request");
    expect(body.errors).toEqual([{ path: "path.sku", message: expect.any(String) }]);
  });

  it("never lets a problem's extra members overwrite its standard members", async () => {
    const { ApiError } = await import("../src/http/problem");
    const response = await handleWithSeam(new Request("http://edgecart.test/x"), "req-x", async () => {
      throw new ApiError(409, "cart_empty", "detail", { status: "checked_out", code: "other", request_id: "spoofed", extra: 1 });
    });
    const body = await expectProblem(response, 409, "cart_empty");
    expect(body).toMatchObject({ status: 409, code: "cart_empty", request_id: "req-x", extra: 1 });
  });

  it("turns an unexpected fault into a 500 internal with the request id and no internals", async () => {
    const response = await handleWithSeam(new Request("http://edgecart.test/x"), "req-500", async () => {
      throw new Error("connection string postgres://secret@db leaked");
    });
    const body = await expectProblem(response, 500, "internal");
    expect(body.request_id).toBe("req-500");
    expect(JSON.stringify(body)).not.toContain("secret");
    expect(JSON.stringify(body)).not.toContain("leaked");
  });
});

describe("CORS for browser storefronts", () => {
  it("answers a preflight from an allowed origin with the methods and headers the API uses", async () => {
    const response = await call("OPTIONS", "/v1/carts", {
      headers: {
        origin: "https://shop.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, idempotency-key",
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("access-control-allow-headers")).toContain("idempotency-key");
    expect(response.headers.get("access-control-allow-methods")).toContain("PUT");
  });

  it("exposes ETag and the request id on answers to a browser", async () => {
    const response = await call("GET", "/health", { headers: { origin: "https://shop.example" } });
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("access-control-expose-headers")).toContain("etag");
    expect((await call("GET", "/health")).headers.get("access-control-allow-origin")).toBeNull();
  });
});
