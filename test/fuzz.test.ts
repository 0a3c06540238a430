// Fuzzing every operation of the served OpenAPI document (fetched at run time, so new routes are
// covered as they appear) with hostile requests: wrong and missing and extra fields, extreme
// numbers, odd strings and ids (unicode, very long, path traversal, percent-encoding, NUL),
// wrong methods, bad headers (content-type, authorization garbage, huge Idempotency-Keys, If-Match
// garbage), malformed and oversized bodies. A fraction carries valid credentials (the admin token,
// real cart tokens, correctly signed webhooks) so the fuzzer gets past authentication.
//
// Asserted: no answer is a 5xx; every 4xx is RFC 9457 problem+json with its members; and no
// rejected request changes state. State is a stocked SKU (its stock, holds and catalog entry), an
// open cart, a checked-out cart and its pending order, and (at the end) the product in Postgres.
// Requests that carry no valid credential (or only read) run in concurrent batches, and the state
// must be identical across each batch; requests with a valid credential that could legitimately
// change something run one at a time, each between two snapshots, and may change the state only
// when they are accepted (2xx, or 409 price_changed, which reprices the cart by design).
import { env, exports } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { Order } from "../src/contracts";
import { withDb } from "../src/db/client";
import { products } from "../src/db/schema";
import { sha256Hex } from "../src/platform/crypto";
import { cartStub, inventoryStub } from "../src/objects/stubs";
import { ADMIN, accessOf, BASE, call, createStockedProduct, newCart, signedWebhookHeaders, unique } from "./helpers";
import type { CartAccess } from "../src/domain/cart-access";
import { type JsonSchema, type Operation, servedOperations } from "./lib/openapi";
import { TEST_ADMIN_TOKEN } from "./secrets";

const REQUESTS = 5_000;
/** Unprivileged requests in flight together. */
const CONCURRENCY = 16;

// ---- the state the fuzzer must not change without a valid credential --------------------------

interface Tracked {
  sku: string;
  productId: string;
  cart: Awaited<ReturnType<typeof newCart>>;
  ordered: Awaited<ReturnType<typeof newCart>>;
  other: Awaited<ReturnType<typeof newCart>>;
  order: Order;
  /** What the tokens of `cart` and `ordered` prove to their objects. */
  hashes: [CartAccess, CartAccess];
}

let tracked: Tracked;
let operations: Operation[] = [];

async function snapshot(t: Tracked): Promise<string> {
  const [stock, pricing, cart, ordered, order] = await Promise.all([
    inventoryStub(env, t.sku).snapshot(),
    inventoryStub(env, t.sku).pricing(),
    cartStub(env, t.cart.id)!.view(t.hashes[0]),
    cartStub(env, t.ordered.id)!.view(t.hashes[1]),
    cartStub(env, t.ordered.id)!.orderForAdmin(),
  ]);
  return JSON.stringify({ stock, pricing, cart, ordered, order });
}

async function productRow(id: string) {
  return withDb(env, async (db) => (await db.select({ version: products.version, status: products.status, updatedAt: products.updatedAt }).from(products).where(eq(products.id, id)))[0]);
}

// ---- generators ---------------------------------------------------------------------------------

const HOSTILE = [
  "", " ", ".", "..", "../", "../../../../etc/passwd", "..%2F..%2Fv1%2Fadmin", "%2e%2e%2f%2e%2e%2f", "%252e%252e%252f", "..\\..\\windows",
  "%00", "\u0000", "a\u0000b", "%", "%zz", "%%", "%ff%fe", "%C0%AE%C0%AE", "%u002e", "\uFEFF", "\u202Egnp.exe", "𝕊𝕂𝕌-𝟙", "😀", "ﷺ", "e\u0301",
  "null", "undefined", "NaN", "Infinity", "-1", "0", "1e309", "0x10", "true", "[]", "{}", "<script>alert(1)</script>", "' OR '1'='1",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, sent literally
  "'; DROP TABLE orders; --", "${7*7}", "{{7*7}}", "__proto__", "constructor", "prototype", "A".repeat(65), "a".repeat(4096),
  `ord_${"0".repeat(64)}`, `ord_${"g".repeat(64)}`, "0".repeat(64), "F".repeat(64), "ord_", "cart:x:y", "*", "?", "#", "/", "//", ";", "\\",
];
const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 80 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 65, maxLength: 2000 }) },
);
const extremeNumber = fc.oneof(
  fc.constantFrom(0, -0, -1, 1, 0.5, -0.5, 1.5, 2 ** 31, -(2 ** 31), 2 ** 53, 2 ** 53 + 2, -(2 ** 53), Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 1e21, 1000, 1001, 1_000_000_001),
  fc.integer(),
  fc.double({ noNaN: true }),
);
const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  extremeNumber,
  hostileString,
  fc.constantFrom(null, true, false, [], {}, [[[]]], { nested: { deeper: [1, "2", null] } }),
  fc.jsonValue({ maxDepth: 3 }),
);
/** Fields a client must never set (server-owned) or that do not exist. */
const EXTRA_FIELDS = ["status", "version", "id", "on_hand", "reserved", "sold", "available", "token", "token_hash", "order_id", "cart_id", "created_at", "updated_at", "expires_at", "paid_at", "total", "unit_price", "price", "admin", "role", "__proto__", "constructor", "quantity", "sku"];

/** Values the fuzzer plants by field or parameter name, so generated requests reach real objects. */
function plantedValues(t: Tracked): Record<string, unknown[]> {
  return {
    sku: [t.sku],
    product_id: [t.productId],
    cart_id: [t.cart.id, t.ordered.id, t.other.id],
    order_id: [t.order.id, `ord_${t.cart.id}`],
    email: ["fuzz@example.com"],
    currency: ["USD", "EUR"],
    quantity: [0, 1, 2, 3],
    delta: [-1, 1, 5],
    on_hand: [40, 60],
  };
}

/** An arbitrary of values valid for a JSON Schema fragment (as zod's generator writes them). */
function fromSchema(schema: JsonSchema, planted: Record<string, unknown[]>, name = "", depth = 0): fc.Arbitrary<unknown> {
  const plant = planted[name];
  const base = schemaValue(schema, planted, depth);
  return plant ? fc.oneof({ weight: 2, arbitrary: base }, { weight: 1, arbitrary: fc.constantFrom(...plant) }) : base;
}

function schemaValue(schema: JsonSchema, planted: Record<string, unknown[]>, depth: number): fc.Arbitrary<unknown> {
  if ("const" in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  for (const key of ["anyOf", "oneOf"] as const) {
    if (Array.isArray(schema[key])) return fc.oneof(...(schema[key] as JsonSchema[]).map((s) => schemaValue(s, planted, depth)));
  }
  switch (schema.type) {
    case "object": {
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const required = (schema.required ?? []) as string[];
      const shape = Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, fromSchema(value, planted, key, depth + 1)]));
      return fc.record(shape, { requiredKeys: required.filter((k) => k in shape) });
    }
    case "array": {
      const items = (schema.items ?? {}) as JsonSchema;
      const min = Number(schema.minItems ?? 0);
      return fc.array(schemaValue(items, planted, depth + 1), { minLength: min, maxLength: Math.max(min, Math.min(Number(schema.maxItems ?? 3), 3)) });
    }
    case "integer":
      return fc.integer({ min: Math.max(Number(schema.minimum ?? -1000), Number.MIN_SAFE_INTEGER), max: Math.min(Number(schema.maximum ?? 1000), 1000) });
    case "number":
      return fc.double({ noNaN: true, min: Number(schema.minimum ?? -1e6), max: Number(schema.maximum ?? 1e6) });
    case "boolean":
      return fc.boolean();
    case "string": {
      if (schema.format === "email") return fc.emailAddress();
      const min = Number(schema.minLength ?? 0);
      const max = Number(schema.maxLength ?? 40);
      if (typeof schema.pattern === "string") {
        const matching = fc.stringMatching(new RegExp(schema.pattern), schema.maxLength === undefined ? {} : { maxLength: max });
        return schema.minLength === undefined ? matching : matching.filter((s) => s.length >= min);
      }
      return fc.string({ minLength: min, maxLength: Math.max(min, Math.min(max, 40)) });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** A schema-valid value with one mistake (or none): a dropped, an extra or a wrong field. */
function mutatedBody(schema: JsonSchema, planted: Record<string, unknown[]>): fc.Arbitrary<unknown> {
  return fc.tuple(fromSchema(schema, planted), fc.nat(), fc.constantFrom(...EXTRA_FIELDS), wrongValue, fc.integer({ min: 0, max: 5 })).map(([value, pick, extra, wrong, how]) => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return how === 0 ? wrong : value;
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const keys = Object.keys(copy);
    switch (how) {
      case 1: // drop a field
        if (keys.length > 0) delete copy[keys[pick % keys.length]!];
        return copy;
      case 2: // an extra field (mass assignment)
        Object.defineProperty(copy, extra, { value: wrong, enumerable: true, configurable: true, writable: true });
        return copy;
      case 3: // a wrong value
        if (keys.length > 0) copy[keys[pick % keys.length]!] = wrong;
        return copy;
      case 4: // a nested wrong value
        for (const key of keys) if (copy[key] !== null && typeof copy[key] === "object") return { ...copy, [key]: Array.isArray(copy[key]) ? [wrong] : { ...(copy[key] as object), [extra]: wrong } };
        return copy;
      default:
        return value;
    }
  });
}

/** Payment-event-like bodies for operations that declare no JSON body (webhooks take raw bodies). */
function eventLike(t: Tracked): fc.Arbitrary<unknown> {
  return fc.record(
    {
      type: fc.oneof(fc.constantFrom("payment.succeeded", "payment.failed", "payment.refunded"), hostileString),
      data: fc.record(
        {
          order_id: fc.oneof(fc.constantFrom(t.order.id, `ord_${t.cart.id}`, `ord_${"0".repeat(64)}`), hostileString),
          amount: fc.oneof(fc.constant(t.order.total.amount), extremeNumber, hostileString),
          currency: fc.oneof(fc.constantFrom("USD", "EUR", "usd"), hostileString),
          payment_id: fc.oneof(fc.constantFrom("pi_fuzz", "pi_other"), hostileString),
        },
        { requiredKeys: [] },
      ),
      extra: wrongValue,
    },
    { requiredKeys: [] },
  );
}

const RAW_BODIES = [
  '{"quantity": 1,}', "{quantity: 1}", "'single'", '{"a":1}{"b":2}', "[".repeat(5000), `${"[".repeat(200_00)}${"]".repeat(200_00)}`, '{"a":"\\ud800"}', '{"__proto__":{"admin":true}}',
  "null", "true", "0", '""', "[]", '{"quantity":1e309}', '{"quantity":-0}', '{"quantity":"1"}', '{"quantity":[1]}', "quantity=1", "\u0000", " ", "\ufeff{}",
];

const METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

type Credential = "valid" | "other" | "none" | "garbage";

interface FuzzRequest {
  operation: Operation;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | Uint8Array | undefined;
  /** Carries a real credential and may change state: runs alone between two snapshots. */
  privileged: boolean;
}

/**
 * Header values a client can send: no CR, LF or NUL, and ASCII only (workerd sends other
 * characters UTF-8-encoded and logs a warning for each; security.test.ts covers a few).
 */
function headerSafe(value: string): boolean {
  return !/[\r\n\0]/.test(value) && [...value].every((c) => c.charCodeAt(0) <= 0x7f);
}

/** Encodes a path value; raw and double-encoded forms too (a lone surrogate cannot be encoded: raw). */
function encodeSegment(value: string, how: number): string {
  try {
    if (how === 0) return value;
    if (how === 1) return encodeURIComponent(encodeURIComponent(value));
    return encodeURIComponent(value);
  } catch {
    return value;
  }
}

function requestArbitrary(t: Tracked, ops: Operation[]): fc.Arbitrary<FuzzRequest> {
  const planted = plantedValues(t);
  const realTokens = [t.cart.token, t.ordered.token, t.other.token];
  const bodies = new Map(ops.map((op) => [op.operationId, op.body ? fc.oneof({ weight: 1, arbitrary: fromSchema(op.body, planted) }, { weight: 3, arbitrary: mutatedBody(op.body, planted) }) : eventLike(t)]));
  const paramValues = new Map(
    ops.flatMap((op) =>
      op.parameters.map((p) => {
        const plant = planted[p.name]?.map(String);
        const valid = typeof p.schema.pattern === "string" || p.schema.type !== "string" ? schemaValue(p.schema, planted, 0).map(String) : fc.string({ maxLength: 20 });
        const arb = fc.oneof(
          { weight: plant ? 3 : 0, arbitrary: plant ? fc.constantFrom(...plant) : fc.constant("") },
          { weight: 3, arbitrary: valid },
          { weight: 4, arbitrary: hostileString },
          { weight: 1, arbitrary: extremeNumber.map(String) },
        );
        return [`${op.operationId}:${p.in}:${p.name}`, arb] as const;
      }),
    ),
  );

  const personas = [t.cart, t.ordered, t.other];
  return fc.gen().map((g): FuzzRequest => {
    const operation: Operation = g(() => fc.constantFrom(...ops));
    // A quarter of the requests are coherent — real ids, the matching credential, a valid body —
    // with at most one thing wrong, so the fuzzer also reaches the handlers' own refusals.
    const coherent = g(fc.integer, { min: 0, max: 3 }) === 0;
    const persona = g(() => fc.constantFrom(...personas));
    const method: string = g(fc.integer, { min: 0, max: 99 }) < (coherent ? 95 : 88) ? operation.method : g(() => fc.constantFrom(...METHODS));
    const headers: Record<string, string> = {};
    let privileged = false;
    const coherentValues: Record<string, string> = { cart_id: persona.id, order_id: `ord_${persona.id}`, sku: t.sku, product_id: t.productId };

    // Path: every template parameter gets a planted, valid-looking or hostile value.
    let path = operation.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = coherent && coherentValues[name] !== undefined && g(fc.integer, { min: 0, max: 9 }) > 0 ? coherentValues[name] : g(() => paramValues.get(`${operation.operationId}:path:${name}`) ?? hostileString);
      return encodeSegment(value, g(fc.integer, { min: 0, max: 9 }) === 0 && !coherent ? 0 : g(fc.integer, { min: 0, max: 19 }) === 0 ? 1 : 2);
    });
    const pathTwist = coherent ? -1 : g(fc.integer, { min: 0, max: 39 });
    if (pathTwist === 0) path += "/";
    else if (pathTwist === 1) path = path.replace("/v1/", "//v1//");
    else if (pathTwist === 2) path = path.toUpperCase();
    else if (pathTwist === 3) path += `/${encodeSegment(g(() => hostileString), 2)}`;
    else if (pathTwist === 4) path = path.replace(/\/[^/]+$/, "/..%2f..%2fadmin");

    // Query: declared parameters with good and bad values, unknown and repeated ones.
    const query = new URLSearchParams();
    for (const p of operation.parameters.filter((p) => p.in === "query")) {
      if (g(fc.boolean)) query.append(p.name, g(() => paramValues.get(`${operation.operationId}:query:${p.name}`)!));
    }
    if (g(fc.integer, { min: 0, max: 6 }) === 0) query.append(g(() => fc.constantFrom("token", "admin", "debug", "limit", "cursor", "__proto__", "")), g(() => hostileString));
    if (g(fc.integer, { min: 0, max: 15 }) === 0 && [...query.keys()].length > 0) query.append([...query.keys()][0]!, "again");
    const search = query.toString();
    if (search) path += `?${search}`;

    // Credentials.
    const credential: Credential = coherent
      ? g(() => fc.constantFrom<Credential>("valid", "valid", "valid", "valid", "valid", "valid", "other", "none", "garbage"))
      : g(() => fc.constantFrom<Credential>("valid", "valid", "valid", "other", "none", "none", "garbage", "garbage", "garbage"));
    const validFor = operation.security === "adminToken" ? TEST_ADMIN_TOKEN : coherent ? persona.token : g(() => fc.constantFrom(t.cart.token, t.ordered.token));
    const anyReal = g(() => fc.constantFrom(TEST_ADMIN_TOKEN, ...realTokens));
    if (credential === "valid" && operation.security !== "webhookSignature") headers.authorization = `Bearer ${validFor}`;
    else if (credential === "other") headers.authorization = `Bearer ${anyReal}`;
    else if (credential === "garbage") {
      headers.authorization = g(() => fc.constantFrom(
        "Bearer", "Bearer ", `Bearer ${TEST_ADMIN_TOKEN.slice(0, -1)}`, `Bearer ${TEST_ADMIN_TOKEN}x`, `Basic ${TEST_ADMIN_TOKEN}`, `Bearer\t${TEST_ADMIN_TOKEN}`,
        `Bearer ${"A".repeat(10_000)}`, `Bearer ${t.cart.token.toUpperCase()}`, `Bearer ${t.cart.token.slice(1)}`, `Bearer ${t.cart.token} ${t.cart.token}`, "Bearer null", "Bearer undefined",
        "Bearer \u0001\u007f\u0002", "Token abc", "Bearer %00", `Bearer ${TEST_ADMIN_TOKEN.toLowerCase().replace("t", "T")}`,
      ));
    }

    // Body.
    let body: string | Uint8Array | undefined;
    let signable = false;
    if (method !== "GET" && method !== "HEAD") {
      const shape = g(fc.integer, { min: 0, max: 99 });
      if (coherent && shape < 85) {
        body = operation.body ? JSON.stringify(g(() => fromSchema(operation.body!, planted))) : operation.security === "webhookSignature" ? JSON.stringify(g(() => eventLike(t))) : undefined;
        signable = true;
      } else if (shape < 70) {
        body = JSON.stringify(g(() => bodies.get(operation.operationId)!));
        signable = true;
      } else if (shape < 82) body = g(() => fc.constantFrom(...RAW_BODIES));
      else if (shape < 88) body = undefined;
      else if (shape < 92) body = Uint8Array.from(g(fc.array, fc.integer({ min: 0, max: 255 }), { maxLength: 64 }));
      else if (shape < 94) body = JSON.stringify({ pad: "x".repeat(64 * 1024 + g(fc.integer, { min: 0, max: 4096 })) });
      else body = JSON.stringify(g(fc.jsonValue, { maxDepth: 4 }));
      if (body !== undefined) {
        const contentType = coherent ? g(fc.integer, { min: 0, max: 79 }) : g(fc.integer, { min: 0, max: 99 });
        if (contentType < 75) headers["content-type"] = "application/json";
        else if (contentType < 80) headers["content-type"] = "application/merge-patch+json";
        else if (contentType < 90) headers["content-type"] = g(() => fc.constantFrom("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=utf-16", "application/xml", "*/*", "application", ";;;"));
      }
    }
    if (operation.security === "webhookSignature" && credential !== "none") {
      const raw = typeof body === "string" ? body : "";
      const signed = signedWebhookHeaders(raw, { id: g(() => fc.constantFrom(`msg_${crypto.randomUUID()}`, "msg_fuzz_replayed", "x".repeat(300))) });
      if (credential === "valid" && signable) {
        Object.assign(headers, signed);
        privileged = true;
      } else {
        // Broken signatures: stale, for another body, truncated, another scheme, or garbage.
        const broken = g(fc.integer, { min: 0, max: 4 });
        Object.assign(headers, signed, [
          signedWebhookHeaders(raw, { at: new Date(Date.now() - 600_000) }),
          { "webhook-signature": signedWebhookHeaders(`${raw} `)["webhook-signature"]! },
          { "webhook-signature": signed["webhook-signature"]!.slice(0, 12) },
          { "webhook-signature": signed["webhook-signature"]!.replace("v1,", "v2,") },
          { "webhook-timestamp": g(() => hostileString) },
        ][broken]);
        headers["content-type"] ??= "application/json";
      }
    }

    // Other headers.
    if (coherent && operation.method === "POST" && g(fc.integer, { min: 0, max: 4 }) > 0) headers["idempotency-key"] = g(fc.uuid);
    else if (g(fc.integer, { min: 0, max: 2 }) === 0) {
      headers["idempotency-key"] = g(() =>
        fc.oneof(fc.uuid(), fc.constantFrom("fuzz-key-1", "fuzz-key-2", "fuzz-key-3"), fc.string({ minLength: 256, maxLength: 4000 }), fc.constant(""), fc.constant("tab\tkey"), fc.constant("k\u007fy"), hostileString),
      );
    }
    if (g(fc.integer, { min: 0, max: 4 }) === 0) headers["if-match"] = g(() => fc.oneof(fc.nat(20).map((n) => `"${n}"`), fc.nat(20).map((n) => `W/"${n}"`), fc.constantFrom("*", '"', '""', "W/", '"1", "2"', "1", `"${"9".repeat(400)}"`), hostileString));
    headers["cf-connecting-ip"] = g(fc.integer, { min: 0, max: 19 }) === 0 ? g(() => hostileString) : g(fc.ipV4);
    if (g(fc.integer, { min: 0, max: 9 }) === 0) headers["x-request-id"] = g(() => hostileString);
    if (g(fc.integer, { min: 0, max: 19 }) === 0) headers[`x-fuzz-${g(fc.nat, 9)}`] = g(() => hostileString);
    for (const [name, value] of Object.entries(headers)) if (!headerSafe(value)) delete headers[name];

    // Anything that presents a real credential on a method that writes may change state.
    const presents = Object.values(headers).some((v) => [TEST_ADMIN_TOKEN, ...realTokens].some((secret) => v.includes(secret)));
    if (presents && method !== "GET" && method !== "HEAD") privileged = true;
    return { operation, method, path, headers, body, privileged };
  });
}

// ---- checks -------------------------------------------------------------------------------------

interface Outcome {
  request: FuzzRequest;
  status: number;
  problem: string | null;
  code: string | null;
}

/** Sends one request; returns its status and what is wrong with its answer (null when nothing). */
async function send(request: FuzzRequest): Promise<Outcome | null> {
  let built: Request;
  try {
    built = new Request(`${BASE}${request.path}`, { method: request.method, headers: request.headers, body: request.body });
  } catch {
    return null; // not expressible as a request (the client library refuses it)
  }
  const response = await exports.default.fetch(built);
  const text = await response.text();
  const requestId = response.headers.get("x-request-id");
  let problem: string | null = null;
  let code: string | null = null;
  if (requestId === null) problem = "no x-request-id";
  if (response.status >= 400 && response.headers.get("content-type") !== "application/problem+json") problem = `content-type ${response.headers.get("content-type")}`;
  // A HEAD answer carries no content (the runtime drops it): its headers are all there is to check.
  if (response.status >= 400 && request.method !== "HEAD") {
    let body: Record<string, unknown> | null = null;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      problem = "problem body is not JSON";
    }
    if (body) {
      code = typeof body.code === "string" ? body.code : null;
      if (typeof body.type !== "string" || !body.type.startsWith("tag:edgecart.dev,2026:problems/")) problem = "type";
      else if (typeof body.title !== "string" || typeof body.detail !== "string") problem = "title/detail";
      else if (body.status !== response.status) problem = `status member ${String(body.status)}`;
      else if (code === null || !/^[a-z][a-z0-9_]*$/.test(code)) problem = "code";
      // A replayed answer is the first one byte for byte: its request_id is that request's
      // (docs/api.md, Idempotency-Key); any other answer carries this request's.
      else if (response.headers.get("idempotent-replayed") === "true" ? typeof body.request_id !== "string" || body.request_id.length === 0 : body.request_id !== requestId) problem = "request_id";
      else if (/\bat .*\.(ts|js):\d+/.test(text)) problem = "stack trace";
    }
  }
  return { request, status: response.status, problem, code };
}

function describeRequest(r: FuzzRequest): string {
  const body = r.body === undefined ? "" : typeof r.body === "string" ? r.body.slice(0, 300) : `<${r.body.byteLength} bytes>`;
  return `${r.method} ${r.path.slice(0, 300)} ${JSON.stringify(r.headers).slice(0, 400)} ${body}`;
}

describe("fuzzing every operation of the OpenAPI document", () => {
  beforeAll(async () => {
    operations = await servedOperations();
    const sku = unique("FUZZ");
    const productId = await createStockedProduct([sku], 50);
    const cart = await newCart();
    const ordered = await newCart();
    const other = await newCart();
    expect((await call("PUT", `/v1/carts/${cart.id}/items/${sku}`, { body: { quantity: 2 }, headers: cart.headers })).status).toBe(200);
    expect((await call("PUT", `/v1/carts/${ordered.id}/items/${sku}`, { body: { quantity: 1 }, headers: ordered.headers })).status).toBe(200);
    const checkout = await call("POST", `/v1/carts/${ordered.id}/checkout`, { body: { email: "fuzz@example.com" }, headers: { ...ordered.headers, "idempotency-key": unique("k") } });
    expect(checkout.status).toBe(201);
    tracked = { sku, productId, cart, ordered, other, order: (await checkout.json()) as Order, hashes: [await accessOf(cart), await accessOf(ordered)] };
  });

  it(`answers ${REQUESTS} hostile requests without a 5xx, with problem+json for every 4xx, and no rejected request changes state (a new seed each run)`, () => fuzzRun(Date.now() % 2 ** 31), 180_000);

  // Seeds that found something, kept so that their sequences keep passing: 760680742, a replayed
  // answer (its first request's request_id, by contract) reported as a defect by this checker;
  // 765916553, a backlog walk over 8,000 days that answered 500 and starved the runtime.
  for (const seed of [760680742, 765916553]) it(`answers the ${REQUESTS} requests of seed ${seed} the same way`, () => fuzzRun(seed), 180_000);
});

async function fuzzRun(seed: number): Promise<void> {
    const productBefore = await productRow(tracked.productId);
    const arbitrary = requestArbitrary(tracked, operations);
    const stats = { sent: 0, unsendable: 0, privileged: 0, privilegedRejected: 0, strictBatches: 0, byClass: new Map<string, number>(), byOperation: new Map<string, { sent: number; ok: number }>() };
    const failures: string[] = [];
    const stateViolations: string[] = [];
    let productWrites = 0;

    const record = (outcome: Outcome | null) => {
      if (outcome === null) {
        stats.unsendable++;
        return;
      }
      stats.sent++;
      const cls = `${Math.floor(outcome.status / 100)}xx`;
      stats.byClass.set(cls, (stats.byClass.get(cls) ?? 0) + 1);
      const op = stats.byOperation.get(outcome.request.operation.operationId) ?? { sent: 0, ok: 0 };
      op.sent++;
      if (outcome.status < 300) op.ok++;
      stats.byOperation.set(outcome.request.operation.operationId, op);
      if (outcome.status >= 500) failures.push(`${outcome.status} ${outcome.code}: ${describeRequest(outcome.request)}`);
      else if (outcome.problem) failures.push(`${outcome.status} ${outcome.problem}: ${describeRequest(outcome.request)}`);
    };

    let state = await snapshot(tracked);
    while (stats.sent < REQUESTS) {
      const chunk = fc.sample(arbitrary, { numRuns: 64, seed: seed + stats.sent + stats.unsendable });
      const open = chunk.filter((r) => !r.privileged);
      for (let i = 0; i < open.length; i += CONCURRENCY) {
        const batch = open.slice(i, i + CONCURRENCY);
        const outcomes = await Promise.all(batch.map(send));
        outcomes.forEach(record);
        const after = await snapshot(tracked);
        stats.strictBatches++;
        if (after !== state) stateViolations.push(`state changed across a batch without credentials: ${batch.map(describeRequest).join(" | ")}`);
        state = after;
      }
      for (const request of chunk.filter((r) => r.privileged)) {
        const outcome = await send(request);
        record(outcome);
        if (outcome === null) continue;
        stats.privileged++;
        const accepted = outcome.status < 300 || (outcome.status === 409 && outcome.code === "price_changed");
        if (!accepted) stats.privilegedRejected++;
        if (accepted && outcome.request.method !== "GET" && outcome.request.path.startsWith(`/v1/admin/products/${tracked.productId}`)) productWrites++;
        const after = await snapshot(tracked);
        if (after !== state && !accepted) stateViolations.push(`a rejected request (${outcome.status} ${outcome.code}) changed state: ${describeRequest(request)}`);
        state = after;
      }
    }

    // The catalog product in Postgres changed only if an accepted admin write addressed it.
    if (productWrites === 0) expect(await productRow(tracked.productId)).toEqual(productBefore);
    const ledger = await inventoryStub(env, tracked.sku).verify();
    const coverage = Object.fromEntries([...stats.byOperation].sort().map(([id, { sent, ok }]) => [id, `${ok}/${sent}`]));
    console.log(
      `fuzz (seed ${seed}): ${stats.sent} requests over ${operations.length} operations (${stats.unsendable} not expressible as requests); ` +
        `${JSON.stringify(Object.fromEntries(stats.byClass))}; ${stats.privileged} with a valid credential checked one by one (${stats.privilegedRejected} of them rejected), ${stats.strictBatches} batches without one checked for no change; ` +
        `5xx ${failures.filter((f) => /^5\d\d /.test(f)).length}, malformed problems ${failures.filter((f) => !/^5\d\d /.test(f)).length}, state changes by rejected requests ${stateViolations.length}; 2xx/sent per operation ${JSON.stringify(coverage)}`,
    );
    expect(failures, `seed ${seed}`).toEqual([]);
    expect(stateViolations, `seed ${seed}`).toEqual([]);
    expect(ledger.ok, JSON.stringify(ledger)).toBe(true);
    expect(stats.sent).toBeGreaterThanOrEqual(REQUESTS);
    // Every operation was exercised, and most were also reached with an accepted request.
    for (const op of operations) expect(stats.byOperation.get(op.operationId)?.sent ?? 0, op.operationId).toBeGreaterThan(REQUESTS / operations.length / 3);
    expect([...stats.byOperation.values()].filter((o) => o.ok > 0).length).toBeGreaterThanOrEqual(operations.length / 2);
    // 5,000 requests take 20–30 s on two busy cores: a budget, not a speed assertion.
}
