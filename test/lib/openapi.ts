/**
 * The served OpenAPI document as a list of operations, so tests that must cover "every route"
 * (fuzzing, security) follow the route table as it grows instead of a hand-kept list.
 */
import { call } from "../helpers";

/** A JSON Schema fragment as the document carries it. */
export type JsonSchema = Record<string, unknown>;

/** One parameter of an operation. */
export interface Parameter {
  name: string;
  in: "path" | "query" | "header";
  required: boolean;
  schema: JsonSchema;
}

/** One operation: a method on a path, its inputs and who may call it. */
export interface Operation {
  method: string;
  /** OpenAPI path template, e.g. `/v1/carts/{cart_id}`. */
  path: string;
  operationId: string;
  parameters: Parameter[];
  /** The JSON request body schema, when the operation declares one. */
  body?: JsonSchema;
  bodyRequired: boolean;
  /** The security scheme required: `adminToken`, `cartToken`, `webhookSignature`, or none. */
  security: "adminToken" | "cartToken" | "webhookSignature" | "none";
  /** Documented response statuses. */
  responses: number[];
}

/** Fetches `GET /v1/openapi.json` through the Worker and lists its operations. */
export async function servedOperations(): Promise<Operation[]> {
  const response = await call("GET", "/v1/openapi.json");
  if (response.status !== 200) throw new Error(`GET /v1/openapi.json answered ${response.status}`);
  const document = (await response.json()) as { openapi: string; paths: Record<string, Record<string, Record<string, unknown>>> };
  if (!document.openapi.startsWith("3.1")) throw new Error(`unexpected OpenAPI version ${document.openapi}`);
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      // The storefront key is optional and additional (routes limited per IP): not the operation's credential.
      const security =
        ((op.security as Array<Record<string, unknown>> | undefined) ?? [])
          .flatMap((s) => Object.keys(s))
          .filter((k) => k !== "storefrontKey")[0] ?? "none";
      const requestBody = op.requestBody as { required?: boolean; content?: Record<string, { schema: JsonSchema }> } | undefined;
      operations.push({
        method: method.toUpperCase(),
        path,
        operationId: String(op.operationId),
        parameters: ((op.parameters as Parameter[] | undefined) ?? []).map((p) => ({ ...p, required: p.required ?? false })),
        ...(requestBody?.content?.["application/json"] ? { body: requestBody.content["application/json"].schema } : {}),
        bodyRequired: requestBody?.required ?? false,
        security: security as Operation["security"],
        responses: Object.keys((op.responses as Record<string, unknown>) ?? {}).map(Number),
      });
    }
  }
  return operations;
}

/** Fills a path template from `values` (percent-encoded unless `raw`). */
export function fillPath(template: string, values: Record<string, string>, raw = false): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for path parameter ${name}`);
    return raw ? value : encodeURIComponent(value);
  });
}
