/**
 * Reading and validating request input: body size limit, media type, JSON syntax, and strict zod
 * parsing of params, query and body. Every failure is an {@link ApiError} (400/413/415).
 */
import type * as z from "zod";
import { ApiError } from "./problem";

/** Bodies over 64 KiB get 413 (docs/api.md). */
export const MAX_BODY_BYTES = 64 * 1024;

/** One invalid field, as listed in a 400 problem's `errors` member. */
export interface FieldError {
  path: string;
  message: string;
}

function tooLarge(): ApiError {
  return new ApiError(413, "payload_too_large", `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`);
}

/** Strict UTF-8 (a malformed byte throws); reusable, as each decode without `stream` starts afresh. */
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** The bytes of a body sent without a declared length, refused past MAX_BODY_BYTES as they arrive. */
async function readCapped(body: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * Reads the body as text, refusing more than {@link MAX_BODY_BYTES} whether or not a
 * Content-Length was sent (chunked bodies are counted as they stream).
 */
export async function readBodyText(request: Request): Promise<string> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > MAX_BODY_BYTES) throw tooLarge();
  if (request.body === null) return "";
  // A declared length within the limit is all the runtime delivers; only a body without one is read in chunks and counted.
  const bytes = declared !== null ? new Uint8Array(await request.arrayBuffer()) : await readCapped(request.body);
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new ApiError(400, "invalid_request", "The request body is not valid UTF-8.");
  }
}

function isJsonMediaType(contentType: string | null): boolean {
  if (contentType === null) return false;
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  return type === "application/json" || (type.startsWith("application/") && type.endsWith("+json"));
}

/**
 * Parses a JSON body. An empty body is `undefined` (the schema decides whether that is allowed);
 * a non-empty body must be declared JSON (415) and be well-formed (400).
 */
export function parseJsonText(text: string, contentType: string | null): unknown {
  if (text.length === 0) return undefined;
  if (!isJsonMediaType(contentType)) {
    throw new ApiError(415, "unsupported_media_type", "Send the body as application/json.");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, "invalid_request", "The request body is not well-formed JSON.", {
      errors: [{ path: "", message: "malformed JSON" }],
    });
  }
}

/** Flattens zod issues into `errors` entries: one per invalid field, unknown keys one each. */
export function fieldErrors(error: z.ZodError, prefix: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const issue of error.issues) {
    const base = [prefix, ...issue.path.map(String)].filter((p) => p !== "");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) errors.push({ path: [...base, key].join("."), message: "unknown field" });
    } else {
      errors.push({ path: base.join("."), message: issue.message });
    }
  }
  return errors;
}

/** At most this many NUL findings are listed in one answer. */
const MAX_NUL_ERRORS = 20;

const NUL_MESSAGE = "must not contain the NUL character (U+0000)";

/**
 * Adds a field error for every string of `value` (object keys included) that contains U+0000.
 * Postgres can store that character neither in `text` nor in `jsonb`, and no edgecart field has a
 * use for it, so it is refused at the edge rather than failing a write (or an archival) later.
 * `path` is the value's own path; it is extended and restored while the walk goes down.
 */
function addNulErrors(value: unknown, path: string[], errors: FieldError[]): void {
  if (errors.length >= MAX_NUL_ERRORS) return;
  if (typeof value === "string") {
    if (value.includes("\u0000")) errors.push({ path: path.join("."), message: NUL_MESSAGE });
    return;
  }
  if (value === null || typeof value !== "object") return;
  for (const [key, item] of Object.entries(value)) {
    path.push(key);
    if (key.includes("\u0000")) errors.push({ path: path.join("."), message: `field name ${NUL_MESSAGE}` });
    addNulErrors(item, path, errors);
    path.pop();
  }
}

/**
 * Parses `value` with `schema`, or throws 400 `invalid_request` listing every invalid field. A
 * string containing U+0000 anywhere in the parsed value is an invalid field too, unless
 * `anyText` says the parsed value keeps input that edgecart neither reads nor stores (a schema's
 * `z.unknown()`, such as a provider's whole event envelope).
 */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: "path" | "query" | "body" | "header",
  { anyText = false }: { anyText?: boolean } = {},
): z.output<S> {
  const result = schema.safeParse(value);
  const prefix = where === "body" ? [] : [where];
  const errors = result.success ? [] : fieldErrors(result.error, prefix.join(""));
  if (result.success && !anyText) addNulErrors(result.data, prefix, errors);
  if (!result.success || errors.length > 0) throw new ApiError(400, "invalid_request", `The request ${where} is invalid.`, { errors });
  return result.data;
}

/** Query parameters as an object; a repeated key becomes an array (which strict schemas refuse). */
export function queryObject(url: URL): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    const existing = query[key];
    query[key] = existing === undefined ? value : ([] as string[]).concat(existing, value);
  }
  return query;
}

/** Percent-decodes path params; malformed escapes are a 400. */
export function decodeParams(raw: Record<string, string>): Record<string, string> {
  const decoded: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    try {
      decoded[key] = decodeURIComponent(value);
    } catch {
      throw new ApiError(400, "invalid_request", "The request path is invalid.", {
        errors: [{ path: `path.${key}`, message: "malformed percent-encoding" }],
      });
    }
  }
  return decoded;
}
