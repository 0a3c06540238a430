import { describe, expect, it } from "vitest";
import { routes } from "../src/router";
import { call } from "./helpers";

type Doc = {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        operationId: string;
        responses: Record<string, unknown>;
        security?: unknown;
        requestBody?: unknown;
        parameters?: Array<{ name: string; in: string }>;
      }
    >
  >;
  components: { schemas: Record<string, unknown> };
};

/** Every endpoint of the contract (docs/api.md): what the document must cover. */
const CONTRACT = [
  "GET /health",
  "GET /v1/openapi.json",
  "GET /v1/products",
  "GET /v1/products/{product_id}",
  "GET /v1/skus/{sku}/availability",
  "POST /v1/carts",
  "GET /v1/carts/{cart_id}",
  "PUT /v1/carts/{cart_id}/items/{sku}",
  "DELETE /v1/carts/{cart_id}/items/{sku}",
  "POST /v1/carts/{cart_id}/checkout",
  "GET /v1/orders/{order_id}",
  "POST /v1/orders/{order_id}/cancel",
  "POST /v1/webhooks/payments",
  "PUT /v1/admin/products/{product_id}",
  "DELETE /v1/admin/products/{product_id}",
  "GET /v1/admin/inventory/{sku}",
  "PUT /v1/admin/inventory/{sku}",
  "POST /v1/admin/inventory/{sku}/adjustments",
  "GET /v1/admin/orders",
  "GET /v1/admin/reports/sales",
  "GET /v1/admin/reports/top-skus",
  "GET /v1/admin/reports/low-stock",
];

async function document(): Promise<Doc> {
  const response = await call("GET", "/v1/openapi.json");
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("application/json");
  return (await response.json()) as Doc;
}

function operations(doc: Doc): string[] {
  return Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
}

describe("the OpenAPI document", () => {
  it("is OpenAPI 3.1 and covers every endpoint of the contract", async () => {
    const doc = await document();
    expect(doc.openapi).toBe("3.1.0");
    expect(operations(doc)).toEqual(expect.arrayContaining(CONTRACT));
  });

  it("lists exactly the routes the router serves, from the same definitions", async () => {
    const doc = await document();
    expect(operations(doc).sort()).toEqual(routes.map((r) => `${r.method} ${r.path}`).sort());
    const ids = operations(doc).map((op) => {
      const [method, path] = op.split(" ") as [string, string];
      return doc.paths[path]![method.toLowerCase()]!.operationId;
    });
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("resolves every $ref to a component", async () => {
    const doc = await document();
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      const name = /#\/components\/schemas\/(.+)"$/.exec(ref)?.[1];
      expect(name, ref).toBeDefined();
      expect(doc.components.schemas[name!], ref).toBeDefined();
    }
  });

  it("documents credentials, bodies, path parameters, problems and the Idempotency-Key", async () => {
    const doc = await document();
    const op = (method: string, path: string) => doc.paths[path]![method]!;
    expect(op("put", "/v1/admin/inventory/{sku}").security).toEqual([{ adminToken: [] }]);
    expect(op("get", "/v1/carts/{cart_id}").security).toEqual([{ cartToken: [] }]);
    expect(op("post", "/v1/webhooks/payments").security).toEqual([{ webhookSignature: [] }]);
    // Public operations say so explicitly (an empty requirement), as linters and client generators expect.
    expect(op("get", "/v1/products").security).toEqual([]);
    expect(op("put", "/v1/carts/{cart_id}/items/{sku}").requestBody).toBeDefined();
    expect(JSON.stringify(op("post", "/v1/webhooks/payments").requestBody)).toContain("payment_id");
    expect(
      op("put", "/v1/carts/{cart_id}/items/{sku}")
        .parameters!.filter((p) => p.in === "path")
        .map((p) => p.name),
    ).toEqual(["cart_id", "sku"]);
    const checkout = op("post", "/v1/carts/{cart_id}/checkout");
    expect(checkout.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: "idempotency-key", in: "header", required: true })]),
    );
    // Each status lists its problems, one schema per code, discriminated by `code`.
    const conflict = checkout.responses["409"] as {
      content: Record<string, { schema: { oneOf: Array<{ $ref: string }>; discriminator: { propertyName: string } } }>;
    };
    const schema = conflict.content["application/problem+json"]!.schema;
    expect(schema.discriminator.propertyName).toBe("code");
    expect(schema.oneOf.map((s) => s.$ref)).toEqual(
      expect.arrayContaining(["#/components/schemas/Problem_price_changed", "#/components/schemas/Problem_insufficient_stock"]),
    );
    expect(op("post", "/v1/carts").parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: "idempotency-key", required: false })]),
    );
  });
});
