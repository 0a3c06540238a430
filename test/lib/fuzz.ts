// The request generator of test/fuzz.test.ts, and its answer checker (./fuzz-checks, re-exported).
import fc from "fast-check";
import { signedWebhookHeaders } from "../helpers";
import { TEST_ADMIN_TOKEN } from "../secrets";
import type { Tracked } from "./fuzz-state";
import { eventLike, extremeNumber, fromSchema, hostileString, mutatedBody, plantedValues, RAW_BODIES, schemaValue } from "./fuzz-values";
import type { Operation } from "./openapi";

// ---- requests -----------------------------------------------------------------------------------

const METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

type Credential = "valid" | "other" | "none" | "garbage";

export interface FuzzRequest {
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

export function requestArbitrary(t: Tracked, ops: Operation[]): fc.Arbitrary<FuzzRequest> {
  const planted = plantedValues(t);
  const realTokens = [t.cart.token, t.ordered.token, t.other.token];
  const bodies = new Map(
    ops.map((op) => [
      op.operationId,
      op.body
        ? fc.oneof({ weight: 1, arbitrary: fromSchema(op.body, planted) }, { weight: 3, arbitrary: mutatedBody(op.body, planted) })
        : eventLike(t),
    ]),
  );
  const paramValues = new Map(
    ops.flatMap((op) =>
      op.parameters.map((p) => {
        const plant = planted[p.name]?.map(String);
        const valid =
          typeof p.schema.pattern === "string" || p.schema.type !== "string"
            ? schemaValue(p.schema, planted, 0).map(String)
            : fc.string({ maxLength: 20 });
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
    const method: string =
      g(fc.integer, { min: 0, max: 99 }) < (coherent ? 95 : 88) ? operation.method : g(() => fc.constantFrom(...METHODS));
    const headers: Record<string, string> = {};
    let privileged = false;
    const coherentValues: Record<string, string> = {
      cart_id: persona.id,
      order_id: `ord_${persona.id}`,
      sku: t.sku,
      product_id: t.productId,
    };

    // Path: every template parameter gets a planted, valid-looking or hostile value.
    let path = operation.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value =
        coherent && coherentValues[name] !== undefined && g(fc.integer, { min: 0, max: 9 }) > 0
          ? coherentValues[name]
          : g(() => paramValues.get(`${operation.operationId}:path:${name}`) ?? hostileString);
      return encodeSegment(
        value,
        g(fc.integer, { min: 0, max: 9 }) === 0 && !coherent ? 0 : g(fc.integer, { min: 0, max: 19 }) === 0 ? 1 : 2,
      );
    });
    const pathTwist = coherent ? -1 : g(fc.integer, { min: 0, max: 39 });
    if (pathTwist === 0) path += "/";
    else if (pathTwist === 1) path = path.replace("/v1/", "//v1//");
    else if (pathTwist === 2) path = path.toUpperCase();
    else if (pathTwist === 3)
      path += `/${encodeSegment(
        g(() => hostileString),
        2,
      )}`;
    else if (pathTwist === 4) path = path.replace(/\/[^/]+$/, "/..%2f..%2fadmin");

    // Query: declared parameters with good and bad values, unknown and repeated ones.
    const query = new URLSearchParams();
    for (const p of operation.parameters.filter((p) => p.in === "query")) {
      if (g(fc.boolean))
        query.append(
          p.name,
          g(() => paramValues.get(`${operation.operationId}:query:${p.name}`)!),
        );
    }
    if (g(fc.integer, { min: 0, max: 6 }) === 0)
      query.append(
        g(() => fc.constantFrom("token", "admin", "debug", "limit", "cursor", "__proto__", "")),
        g(() => hostileString),
      );
    if (g(fc.integer, { min: 0, max: 15 }) === 0 && [...query.keys()].length > 0) query.append([...query.keys()][0]!, "again");
    const search = query.toString();
    if (search) path += `?${search}`;

    // Credentials.
    const credential: Credential = coherent
      ? g(() => fc.constantFrom<Credential>("valid", "valid", "valid", "valid", "valid", "valid", "other", "none", "garbage"))
      : g(() => fc.constantFrom<Credential>("valid", "valid", "valid", "other", "none", "none", "garbage", "garbage", "garbage"));
    const validFor =
      operation.security === "adminToken"
        ? TEST_ADMIN_TOKEN
        : coherent
          ? persona.token
          : g(() => fc.constantFrom(t.cart.token, t.ordered.token));
    const anyReal = g(() => fc.constantFrom(TEST_ADMIN_TOKEN, ...realTokens));
    if (credential === "valid" && operation.security !== "webhookSignature") headers.authorization = `Bearer ${validFor}`;
    else if (credential === "other") headers.authorization = `Bearer ${anyReal}`;
    else if (credential === "garbage") {
      headers.authorization = g(() =>
        fc.constantFrom(
          "Bearer",
          "Bearer ",
          `Bearer ${TEST_ADMIN_TOKEN.slice(0, -1)}`,
          `Bearer ${TEST_ADMIN_TOKEN}x`,
          `Basic ${TEST_ADMIN_TOKEN}`,
          `Bearer\t${TEST_ADMIN_TOKEN}`,
          `Bearer ${"A".repeat(10_000)}`,
          `Bearer ${t.cart.token.toUpperCase()}`,
          `Bearer ${t.cart.token.slice(1)}`,
          `Bearer ${t.cart.token} ${t.cart.token}`,
          "Bearer null",
          "Bearer undefined",
          "Bearer \u0001\u007f\u0002",
          "Token abc",
          "Bearer %00",
          `Bearer ${TEST_ADMIN_TOKEN.toLowerCase().replace("t", "T")}`,
        ),
      );
    }

    // Body.
    let body: string | Uint8Array | undefined;
    let signable = false;
    if (method !== "GET" && method !== "HEAD") {
      const shape = g(fc.integer, { min: 0, max: 99 });
      if (coherent && shape < 85) {
        body = operation.body
          ? JSON.stringify(g(() => fromSchema(operation.body!, planted)))
          : operation.security === "webhookSignature"
            ? JSON.stringify(g(() => eventLike(t)))
            : undefined;
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
        else if (contentType < 90)
          headers["content-type"] = g(() =>
            fc.constantFrom(
              "text/plain",
              "application/x-www-form-urlencoded",
              "multipart/form-data; boundary=x",
              "application/json; charset=utf-16",
              "application/xml",
              "*/*",
              "application",
              ";;;",
            ),
          );
      }
    }
    if (operation.security === "webhookSignature" && credential !== "none") {
      const raw = typeof body === "string" ? body : "";
      const signed = signedWebhookHeaders(raw, {
        id: g(() => fc.constantFrom(`msg_${crypto.randomUUID()}`, "msg_fuzz_replayed", "x".repeat(300))),
      });
      if (credential === "valid" && signable) {
        Object.assign(headers, signed);
        privileged = true;
      } else {
        // Broken signatures: stale, for another body, truncated, another scheme, or garbage.
        const broken = g(fc.integer, { min: 0, max: 4 });
        Object.assign(
          headers,
          signed,
          [
            signedWebhookHeaders(raw, { at: new Date(Date.now() - 600_000) }),
            { "webhook-signature": signedWebhookHeaders(`${raw} `)["webhook-signature"]! },
            { "webhook-signature": signed["webhook-signature"]!.slice(0, 12) },
            { "webhook-signature": signed["webhook-signature"]!.replace("v1,", "v2,") },
            { "webhook-timestamp": g(() => hostileString) },
          ][broken],
        );
        headers["content-type"] ??= "application/json";
      }
    }

    // Other headers.
    if (coherent && operation.method === "POST" && g(fc.integer, { min: 0, max: 4 }) > 0) headers["idempotency-key"] = g(fc.uuid);
    else if (g(fc.integer, { min: 0, max: 2 }) === 0) {
      headers["idempotency-key"] = g(() =>
        fc.oneof(
          fc.uuid(),
          fc.constantFrom("fuzz-key-1", "fuzz-key-2", "fuzz-key-3"),
          fc.string({ minLength: 256, maxLength: 4000 }),
          fc.constant(""),
          fc.constant("tab\tkey"),
          fc.constant("k\u007fy"),
          hostileString,
        ),
      );
    }
    if (g(fc.integer, { min: 0, max: 4 }) === 0)
      headers["if-match"] = g(() =>
        fc.oneof(
          fc.nat(20).map((n) => `"${n}"`),
          fc.nat(20).map((n) => `W/"${n}"`),
          fc.constantFrom("*", '"', '""', "W/", '"1", "2"', "1", `"${"9".repeat(400)}"`),
          hostileString,
        ),
      );
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

// ---- checks (./fuzz-checks) ---------------------------------------------------------------------

export { describeRequest, type Outcome, send } from "./fuzz-checks";
