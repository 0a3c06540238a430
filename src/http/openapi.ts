/**
 * Generates the OpenAPI 3.1 document from the route definitions and their zod schemas — the same
 * objects the router validates with — so the document cannot drift from the behaviour.
 */
import * as z from "zod";
import pkg from "../../package.json";
import { type ProblemCode, problemSchema, ShopperIp, StorefrontSecret } from "../contracts";
import { IDEMPOTENCY_KEY_HEADER, IdempotencyKey, idempotencyMode, REPLAYED_HEADER } from "./idempotency";
import { operationResponses } from "./openapi-responses";
import type { RouteSpec } from "./route";
import { CLIENT_IP_HEADER, STOREFRONT_KEY_HEADER } from "./storefront";

type JsonSchema = Record<string, unknown>;

const SECURITY: Record<RouteSpec["auth"], Array<Record<string, string[]>> | undefined> = {
  none: undefined,
  admin: [{ adminToken: [] }],
  cart: [{ cartToken: [] }],
  webhook: [{ webhookSignature: [] }],
};

/**
 * Routes limited per client IP are the ones that declare a 429; a server-side storefront may call
 * them with its storefront key (an optional, additional scheme) and the shopper's IP.
 */
function isIpLimited(route: RouteSpec): boolean {
  return 429 in route.responses;
}

/** The route's security requirements: its own credential, optionally with a storefront key. */
function securityOf(route: RouteSpec): Array<Record<string, string[]>> | undefined {
  const own = route.signature === "stripe" ? [{ stripeSignature: [] }] : SECURITY[route.auth];
  if (!isIpLimited(route)) return own;
  const base = own ?? [{}];
  return [...base, ...base.map((requirement) => ({ ...requirement, storefrontKey: [] }))];
}

/** The storefront headers, as parameters of an IP-limited route. */
function storefrontParameters(components: Record<string, JsonSchema>): JsonSchema[] {
  return [
    {
      name: STOREFRONT_KEY_HEADER,
      in: "header",
      required: false,
      description: "A server-side storefront's key (security scheme storefrontKey); never send it from a browser.",
      schema: toSchema(StorefrontSecret, "input", components),
    },
    {
      name: CLIENT_IP_HEADER,
      in: "header",
      required: false,
      description:
        "With a valid storefront key: the shopper's IP, which the per-IP limits then count (400 when malformed). Without one, ignored.",
      schema: toSchema(ShopperIp, "input", components),
    },
  ];
}

/**
 * Converts a schema to JSON Schema 2020-12 (OpenAPI 3.1's dialect). Schemas named with
 * `.meta({ id })` become shared components referenced by `$ref`.
 */
function toSchema(schema: z.ZodType, io: "input" | "output", components: Record<string, JsonSchema>): JsonSchema {
  const generated = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" });
  const converted = JSON.parse(JSON.stringify(generated).replaceAll('"#/$defs/', '"#/components/schemas/')) as JsonSchema;
  delete converted.$schema;
  const defs = (converted.$defs ?? {}) as Record<string, JsonSchema>;
  delete converted.$defs;
  for (const [id, def] of Object.entries(defs)) components[id] ??= def;
  const id = z.globalRegistry.get(schema)?.id;
  if (id !== undefined) {
    delete converted.id;
    components[id] ??= converted;
    return { $ref: `#/components/schemas/${id}` };
  }
  return converted;
}

/** The problems an error status can carry: one schema, or a `oneOf` discriminated by `code`. */
function problemsSchema(codes: readonly ProblemCode[], components: Record<string, JsonSchema>): JsonSchema {
  const refs = codes.map((code) => toSchema(problemSchema(code), "output", components));
  if (refs.length === 1) return refs[0]!;
  return {
    oneOf: refs,
    discriminator: {
      propertyName: "code",
      mapping: Object.fromEntries(codes.map((code, i) => [code, (refs[i] as { $ref: string }).$ref])),
    },
  };
}

function parameters(route: RouteSpec, components: Record<string, JsonSchema>): JsonSchema[] {
  const result: JsonSchema[] = [];
  for (const [where, shape] of [
    ["path", route.params],
    ["query", route.query],
  ] as const) {
    if (shape === undefined) continue;
    for (const [name, field] of Object.entries(shape.shape)) {
      const fieldSchema = field as z.ZodType;
      result.push({
        name,
        in: where,
        required: where === "path" || !fieldSchema.safeParse(undefined).success,
        schema: toSchema(fieldSchema, "input", components),
        ...(fieldSchema.description ? { description: fieldSchema.description } : {}),
      });
    }
  }
  const mode = idempotencyMode(route);
  if (mode !== "off") {
    result.push({
      name: IDEMPOTENCY_KEY_HEADER,
      in: "header",
      required: mode === "required",
      description:
        '1–255 printable ASCII characters, scoped to your credential; exactly one header, and no ", " in the value (that is what two headers merged into one look like: 400). The same key with the same method, path and body within 24 h replays the first answer ' +
        `(with \`${REPLAYED_HEADER}: true\`); with a different request it is 422 \`idempotency_key_reused\`; while the first is still running, 409 \`idempotency_key_in_use\`. ` +
        "Answers 400, 401, 413, 415, 429 and 5xx are not stored.",
      schema: toSchema(IdempotencyKey, "input", components),
    });
  }
  if (isIpLimited(route)) result.push(...storefrontParameters(components));
  for (const [name, header] of Object.entries(route.headers ?? {})) {
    // The generic Idempotency-Key parameter above replaces any per-route declaration.
    if (mode !== "off" && name.toLowerCase() === IDEMPOTENCY_KEY_HEADER) continue;
    result.push({
      name,
      in: "header",
      required: header.required ?? false,
      description: header.description,
      schema: header.schema ? toSchema(header.schema, "input", components) : { type: "string" },
    });
  }
  return result;
}

/** Builds the whole OpenAPI 3.1 document for the given routes. */
export function buildOpenApi(routes: readonly RouteSpec[]): JsonSchema {
  const components: Record<string, JsonSchema> = {};
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const responses: Record<string, JsonSchema> = {};
    for (const [status, spec] of Object.entries(operationResponses(route))) {
      const isProblem = Number(status) >= 400;
      const schema = isProblem
        ? problemsSchema(spec.problems, components)
        : spec.schema
          ? toSchema(spec.schema, "output", components)
          : undefined;
      const headers = Object.fromEntries(
        Object.entries({ "x-request-id": "Identifies the request in the server log.", ...spec.headers }).map(([name, description]) => [
          name,
          { description, schema: { type: "string" } },
        ]),
      );
      responses[status] = {
        description: spec.description,
        headers,
        ...(schema ? { content: { [isProblem ? "application/problem+json" : "application/json"]: { schema } } } : {}),
      };
    }
    const operation: JsonSchema = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      parameters: parameters(route, components),
      responses,
    };
    // Public operations say so (security: []), so tools do not assume a credential.
    operation.security = securityOf(route) ?? [];
    const body = route.body ?? route.rawBodySchema;
    if (body !== undefined) {
      operation.requestBody = {
        required: !body.safeParse(undefined).success,
        content: { "application/json": { schema: toSchema(body, "input", components) } },
      };
    }
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operation };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "edgecart",
      version: pkg.version,
      description:
        "Inventory and shopping-cart backend on Cloudflare Workers. Errors are RFC 9457 problem+json, one schema per `code` (discriminated by `code`); money is integer minor units. " +
        "A path answers 405 method_not_allowed (with Allow) for a method it does not serve; every request over 64 KiB is 413.",
      license: { name: "MIT", identifier: "MIT" },
    },
    servers: [
      { url: "http://127.0.0.1:8787", description: "npm run dev" },
      { url: "https://{host}", description: "Your deployment", variables: { host: { default: "edgecart.example.workers.dev" } } },
    ],
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        adminToken: { type: "http", scheme: "bearer", description: "The ADMIN_TOKEN secret." },
        cartToken: { type: "http", scheme: "bearer", description: "The token returned once by POST /v1/carts." },
        webhookSignature: {
          type: "apiKey",
          in: "header",
          name: "webhook-signature",
          description: "Standard Webhooks signature (with webhook-id and webhook-timestamp).",
        },
        stripeSignature: {
          type: "apiKey",
          in: "header",
          name: "stripe-signature",
          description: "Stripe's webhook signature (t=…,v1=…) under STRIPE_WEBHOOK_SECRET, checked with the stripe package.",
        },
        storefrontKey: {
          type: "apiKey",
          in: "header",
          name: "Edgecart-Storefront-Key",
          description:
            "A server-side storefront's key, issued by POST /v1/admin/storefront-keys. Optional on the routes limited per client IP: with it, Edgecart-Client-IP names the shopper whose IP the limits count.",
        },
      },
    },
  };
}
