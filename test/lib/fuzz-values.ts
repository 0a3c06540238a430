// Values for the fuzzer of test/fuzz.test.ts: hostile strings and numbers, schema-valid values
// from the served OpenAPI document's JSON Schemas, bodies with one mistake, raw bodies.
import fc from "fast-check";
import type { Tracked } from "./fuzz-state";
import type { JsonSchema } from "./openapi";

// ---- generators ---------------------------------------------------------------------------------

const HOSTILE = [
  "",
  " ",
  ".",
  "..",
  "../",
  "../../../../etc/passwd",
  "..%2F..%2Fv1%2Fadmin",
  "%2e%2e%2f%2e%2e%2f",
  "%252e%252e%252f",
  "..\\..\\windows",
  "%00",
  "\u0000",
  "a\u0000b",
  "%",
  "%zz",
  "%%",
  "%ff%fe",
  "%C0%AE%C0%AE",
  "%u002e",
  "\uFEFF",
  "\u202Egnp.exe",
  "𝕊𝕂𝕌-𝟙",
  "😀",
  "ﷺ",
  "e\u0301",
  "null",
  "undefined",
  "NaN",
  "Infinity",
  "-1",
  "0",
  "1e309",
  "0x10",
  "true",
  "[]",
  "{}",
  "<script>alert(1)</script>",
  "' OR '1'='1",
  "'; DROP TABLE orders; --",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, sent literally
  "${7*7}",
  "{{7*7}}",
  "__proto__",
  "constructor",
  "prototype",
  "A".repeat(65),
  "a".repeat(4096),
  `ord_${"0".repeat(64)}`,
  `ord_${"g".repeat(64)}`,
  "0".repeat(64),
  "F".repeat(64),
  "ord_",
  "cart:x:y",
  "*",
  "?",
  "#",
  "/",
  "//",
  ";",
  "\\",
];
export const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 80 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 65, maxLength: 2000 }) },
);
export const extremeNumber = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    -1,
    1,
    0.5,
    -0.5,
    1.5,
    2 ** 31,
    -(2 ** 31),
    2 ** 53,
    2 ** 53 + 2,
    -(2 ** 53),
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
    Number.MIN_VALUE,
    1e21,
    1000,
    1001,
    1_000_000_001,
  ),
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
const EXTRA_FIELDS = [
  "status",
  "version",
  "id",
  "on_hand",
  "reserved",
  "sold",
  "available",
  "token",
  "token_hash",
  "order_id",
  "cart_id",
  "created_at",
  "updated_at",
  "expires_at",
  "paid_at",
  "total",
  "unit_price",
  "price",
  "admin",
  "role",
  "__proto__",
  "constructor",
  "quantity",
  "sku",
];

/** Values the fuzzer plants by field or parameter name, so generated requests reach real objects. */
export function plantedValues(t: Tracked): Record<string, unknown[]> {
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
export function fromSchema(schema: JsonSchema, planted: Record<string, unknown[]>, name = "", depth = 0): fc.Arbitrary<unknown> {
  const plant = planted[name];
  const base = schemaValue(schema, planted, depth);
  return plant ? fc.oneof({ weight: 2, arbitrary: base }, { weight: 1, arbitrary: fc.constantFrom(...plant) }) : base;
}

export function schemaValue(schema: JsonSchema, planted: Record<string, unknown[]>, depth: number): fc.Arbitrary<unknown> {
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
      return fc.array(schemaValue(items, planted, depth + 1), {
        minLength: min,
        maxLength: Math.max(min, Math.min(Number(schema.maxItems ?? 3), 3)),
      });
    }
    case "integer":
      return fc.integer({
        min: Math.max(Number(schema.minimum ?? -1000), Number.MIN_SAFE_INTEGER),
        max: Math.min(Number(schema.maximum ?? 1000), 1000),
      });
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
export function mutatedBody(schema: JsonSchema, planted: Record<string, unknown[]>): fc.Arbitrary<unknown> {
  return fc
    .tuple(fromSchema(schema, planted), fc.nat(), fc.constantFrom(...EXTRA_FIELDS), wrongValue, fc.integer({ min: 0, max: 5 }))
    .map(([value, pick, extra, wrong, how]) => {
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
          for (const key of keys)
            if (copy[key] !== null && typeof copy[key] === "object")
              return { ...copy, [key]: Array.isArray(copy[key]) ? [wrong] : { ...(copy[key] as object), [extra]: wrong } };
          return copy;
        default:
          return value;
      }
    });
}

/** Payment-event-like bodies for operations that declare no JSON body (webhooks take raw bodies). */
export function eventLike(t: Tracked): fc.Arbitrary<unknown> {
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

export const RAW_BODIES = [
  '{"quantity": 1,}',
  "{quantity: 1}",
  "'single'",
  '{"a":1}{"b":2}',
  "[".repeat(5000),
  `${"[".repeat(200_00)}${"]".repeat(200_00)}`,
  '{"a":"\\ud800"}',
  '{"__proto__":{"admin":true}}',
  "null",
  "true",
  "0",
  '""',
  "[]",
  '{"quantity":1e309}',
  '{"quantity":-0}',
  '{"quantity":"1"}',
  '{"quantity":[1]}',
  "quantity=1",
  "\u0000",
  " ",
  "\ufeff{}",
];
