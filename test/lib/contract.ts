/**
 * Every HTTP response the suite receives is checked against the served OpenAPI document: its
 * status must be one the operation documents, its content type the documented one, and its body
 * must validate against the documented schema (undocumented fields fail: every object schema
 * forbids additional properties). Used by `call()` (test/helpers.ts) and the fuzzer.
 *
 * The validator is @cfworker/json-schema (draft 2020-12, OpenAPI 3.1's dialect): it compiles no
 * code at runtime, which workerd forbids.
 */
import { exports } from "cloudflare:workers";
import { type Schema, Validator } from "@cfworker/json-schema";

interface Operation {
  method: string;
  pattern: RegExp;
  path: string;
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
}

let loaded: Promise<{ operations: Operation[]; components: unknown }> | undefined;

function load() {
  if (loaded !== undefined) return loaded;
  const attempt = (async () => {
    const response = await exports.default.fetch(new Request("http://edgecart.test/v1/openapi.json"));
    const document = (await response.json()) as {
      paths: Record<string, Record<string, Operation["responses"] extends infer R ? { responses: R } : never>>;
      components: unknown;
    };
    const operations: Operation[] = [];
    for (const [path, methods] of Object.entries(document.paths)) {
      const pattern = new RegExp(`^${path.replace(/[.]/g, "\\.").replace(/\{\w+\}/g, "[^/]+")}/*$`);
      for (const [method, operation] of Object.entries(methods))
        operations.push({ method: method.toUpperCase(), pattern, path, responses: operation.responses });
    }
    return { operations, components: document.components };
  })();
  // A failed load is not kept: test files may share this module (one runtime per vitest worker).
  attempt.catch(() => {
    if (loaded === attempt) loaded = undefined;
  });
  loaded = attempt;
  return attempt;
}

const validators = new Map<Schema, Validator>();

/**
 * What is wrong with `response` (to `method` on `url`) against the document: an empty list when
 * nothing. The response's body is read from a clone.
 */
export async function contractViolations(method: string, url: string, response: Response): Promise<string[]> {
  const { operations, components } = await load();
  const path = new URL(url).pathname;
  const candidates = operations.filter((op) => op.pattern.test(path));
  const operation = candidates.find((op) => op.method === method);
  const where = `${method} ${path} → ${response.status}`;
  // CORS preflights are the browser's, not operations: docs/api.md describes them.
  if (method === "OPTIONS") return [];
  if (operation === undefined) {
    // An undocumented method on a documented path is the pipeline's 405; an unknown path its 404.
    const expected = candidates.length > 0 ? 405 : 404;
    return response.status === expected
      ? []
      : [`${where}: no operation, and not the ${expected} of an unserved ${candidates.length > 0 ? "method" : "path"}`];
  }
  const documented = operation.responses[String(response.status)];
  if (documented === undefined) return [`${where}: status not documented for ${method} ${operation.path}`];
  const text = await response.clone().text();
  const contentType = (response.headers.get("content-type") ?? "").split(";")[0]!.trim();
  const content = documented.content;
  if (content === undefined || Object.keys(content).length === 0)
    return text.length === 0 || method === "HEAD" ? [] : [`${where}: a body where the document has none`];
  const media = content[contentType];
  if (media === undefined) return [`${where}: content type ${contentType || "(none)"} not documented (${Object.keys(content).join(", ")})`];
  if (method === "HEAD") return [];
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return [`${where}: body is not JSON`];
  }
  let validator = validators.get(media.schema);
  if (validator === undefined) {
    validator = new Validator({ ...(media.schema as object), components } as Schema, "2020-12", false);
    validators.set(media.schema, validator);
  }
  const result = validator.validate(body);
  if (result.valid) return [];
  const detail = result.errors
    .filter((e) => e.keyword !== "oneOf" && e.keyword !== "anyOf" && e.keyword !== "$ref" && e.keyword !== "properties")
    .slice(0, 6)
    .map((e) => `${e.instanceLocation}: ${e.error}`);
  return [`${where}: body does not match the document: ${detail.join("; ") || result.errors[0]?.error}`];
}

/** Throws when `response` breaks the document (see {@link contractViolations}). */
export async function expectContract(method: string, url: string, response: Response): Promise<void> {
  const violations = await contractViolations(method, url, response);
  if (violations.length > 0) throw new Error(`the response breaks the OpenAPI document:\n${violations.join("\n")}`);
}
