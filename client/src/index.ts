/**
 * A typed client for edgecart storefronts: openapi-fetch over the types openapi-typescript
 * generates from the API's OpenAPI document (./schema.d.ts), plus the few rules of the API that
 * a type cannot carry: the cart's bearer token, one Idempotency-Key per logical operation (kept
 * across its retries), If-Match from a cart's version, and problem+json errors.
 *
 * Runs wherever fetch does (browsers, Workers, Node 22); written as erasable TypeScript, so Node
 * runs it as it is.
 */
import createClient, { type Client, type HeadersOptions, mergeHeaders } from "openapi-fetch";
import type { components, operations, paths } from "./schema.d.ts";

export type { components, operations, paths };

/** The client: `client.GET("/v1/products", …)`, every path, parameter and body typed. */
export type EdgecartClient = Client<paths>;

type Schemas = components["schemas"];
export type Product = Schemas["Product"];
export type Cart = Schemas["Cart"];
export type Order = Schemas["Order"];
/**
 * Any RFC 9457 problem document (`application/problem+json`) the API answers: the union of the
 * document's problem schemas (`Problem_<code>`, one per code), discriminated on `code`.
 */
export type Problem = Schemas[Extract<keyof Schemas, `Problem${string}`>];
/** The problem with this `code`, e.g. `ProblemOf<"insufficient_stock">` (with `available`). */
export type ProblemOf<C extends Problem["code"]> = Extract<Problem, { code: C }>;

export interface EdgecartClientOptions {
  /** Where the API is, e.g. `https://shop.example` (no trailing `/v1`). */
  baseUrl: string;
  /** Another fetch (a Worker's service binding, a test double); `globalThis.fetch` by default. */
  fetch?: (request: Request) => Promise<Response>;
  /** Headers sent on every request, e.g. a server-side storefront's `Edgecart-Storefront-Key`. */
  headers?: HeadersOptions;
}

/** Creates a client for the API at `baseUrl`. */
export function createEdgecartClient(options: EdgecartClientOptions): EdgecartClient {
  return createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
  });
}

// ---- the cart token ------------------------------------------------------------------------------

const METHODS = ["GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"] as const;

/**
 * The same client, sending `Authorization: Bearer <token>` with every request: the credential of
 * one cart (the `token` of `POST /v1/carts`, shown only then) and of the order placed from it.
 * The original client is unchanged and its middleware still applies; a request's own
 * `authorization` header wins.
 */
export function withCart(client: EdgecartClient, token: string): EdgecartClient {
  return withHeaders(client, { authorization: `Bearer ${token}` });
}

/** The same client, adding `headers` to every request (a request's own headers win). */
export function withHeaders(client: EdgecartClient, headers: HeadersOptions): EdgecartClient {
  type Send = (url: string, init?: { headers?: HeadersOptions }) => Promise<unknown>;
  const untyped = client as unknown as Record<(typeof METHODS)[number], Send> & {
    request: (method: string, url: string, init?: { headers?: HeadersOptions }) => Promise<unknown>;
  };
  const merged = (init?: { headers?: HeadersOptions }) => ({ ...init, headers: mergeHeaders(headers, init?.headers) });
  const view: Record<string, unknown> = {
    request: (method: string, url: string, init?: { headers?: HeadersOptions }) => untyped.request(method, url, merged(init)),
    use: client.use.bind(client),
    eject: client.eject.bind(client),
  };
  for (const method of METHODS) view[method] = (url: string, init?: { headers?: HeadersOptions }) => untyped[method](url, merged(init));
  return view as unknown as EdgecartClient;
}

// ---- If-Match ------------------------------------------------------------------------------------

/**
 * The `If-Match` value that makes a cart change conditional on the cart being unchanged: from the
 * cart (its `version`), a version number, or an ETag as a response carried it (`"4"`). A stale
 * one is answered 412 `version_mismatch`, with the current `version`.
 */
export function ifMatch(cart: Pick<Cart, "version"> | number | string): string {
  if (typeof cart === "string") return cart;
  const version = typeof cart === "number" ? cart : cart.version;
  if (!Number.isSafeInteger(version) || version < 0) throw new RangeError(`not a cart version: ${version}`);
  return `"${version}"`;
}

/** The cart version a response's ETag names (`"4"` or `W/"4"`), if it has one. */
export function versionOf(response: Response): number | undefined {
  const match = /^(?:W\/)?"(\d+)"$/.exec(response.headers.get("etag") ?? "");
  return match ? Number(match[1]) : undefined;
}

// ---- Idempotency-Key -----------------------------------------------------------------------------

/** A fresh, unguessable Idempotency-Key (a random UUID). */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}

/** What `idempotent` retries, and how. */
export interface RetryOptions {
  /** The key of this operation; a new one by default. Pass the stored key to resume an operation. */
  key?: string;
  /** Attempts in all, the first included (default 4). */
  attempts?: number;
  /** Longest wait between attempts, in ms (default 5000); Retry-After is honoured up to this. */
  maxDelayMs?: number;
  /** Stops retrying (the attempt in flight is the caller's fetch's to abort). */
  signal?: AbortSignal;
  /** Told before each retry (logging). */
  onRetry?: (info: { attempt: number; key: string; reason: string; delayMs: number }) => void;
}

/** One attempt's outcome as openapi-fetch gives it. */
interface Attempt {
  error?: unknown;
  response: Response;
}

/**
 * Runs one logical operation (`send`) under one Idempotency-Key and retries it, with that same
 * key, when the answer may not have been stored and a retry is safe: a network failure (the
 * request may or may not have reached the server: the key makes the second try harmless), a 5xx,
 * a 429 (after its Retry-After), or 409 `idempotency_key_in_use` (the first attempt is still
 * running). Every other answer is returned as it is, and so is the last attempt's.
 *
 * The key is chosen once, here, and handed to `send`, which puts it in the request:
 *
 *     const placed = await idempotent((key) =>
 *       cart.POST("/v1/carts/{cart_id}/checkout", { params: { path: { cart_id }, header: { "idempotency-key": key } }, body }));
 *
 * A retry is never re-keyed: doing the same thing again under a new key would do it twice. A new
 * key is for a new operation, e.g. after 409 `price_changed`, once the shopper has seen the prices.
 * The result carries the key (`idempotencyKey`) to log, or to store and pass back as `key` to
 * finish the same operation later.
 */
export async function idempotent<R extends Attempt>(
  send: (key: string) => Promise<R>,
  options: RetryOptions = {},
): Promise<R & { idempotencyKey: string }> {
  const key = options.key ?? newIdempotencyKey();
  const attempts = Math.max(1, options.attempts ?? 4);
  const maxDelayMs = options.maxDelayMs ?? 5000;
  for (let attempt = 1; ; attempt++) {
    let outcome: { result: R } | { thrown: unknown };
    try {
      outcome = { result: await send(key) };
    } catch (error) {
      if (isAbort(error) || options.signal?.aborted) throw error;
      outcome = { thrown: error };
    }
    const reason = "thrown" in outcome ? `request failed: ${describe(outcome.thrown)}` : retryReason(outcome.result);
    if (reason === undefined && "result" in outcome) return Object.assign(outcome.result, { idempotencyKey: key });
    if (attempt >= attempts || options.signal?.aborted) {
      if ("thrown" in outcome) throw outcome.thrown;
      return Object.assign(outcome.result, { idempotencyKey: key });
    }
    const retryAfter = "result" in outcome ? retryAfterMs(outcome.result.response) : undefined;
    const delayMs = Math.min(maxDelayMs, retryAfter ?? 250 * 2 ** (attempt - 1));
    options.onRetry?.({ attempt, key, reason: reason ?? "", delayMs });
    await sleep(delayMs, options.signal);
  }
}

function retryReason(result: Attempt): string | undefined {
  const status = result.response.status;
  if (status >= 500) return `${status}`;
  if (status === 429) return "429 rate_limited";
  if (status === 409 && problemCode(result.error) === "idempotency_key_in_use") return "409 idempotency_key_in_use";
  return undefined;
}

function retryAfterMs(response: Response): number | undefined {
  const value = response.headers.get("retry-after");
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value) * 1000;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", abort);
      resolve();
    }, ms);
    const abort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", abort, { once: true });
  });
}

// ---- problems ------------------------------------------------------------------------------------

/**
 * The problem of an operation's `error` that has this `code`: that code's own schema, with its
 * members (`available`, `version`, ...). (Were a document to type every problem alike, with
 * `code: string`, it would be that problem with `code` narrowed.)
 */
export type ProblemWithCode<E, C extends string> = [Extract<E, { code: C }>] extends [never]
  ? Extract<E, { code: string }> & { code: C }
  : Extract<E, { code: C }>;

/** The `code`s an operation's `error` can have. */
export type ProblemCode<E> = E extends { code: infer C extends string } ? C : never;

/**
 * Narrows an `error` from the client to the problem with this `code`, one the operation can
 * answer (a code it cannot is a compile error):
 *
 *     if (isProblem(error, "insufficient_stock")) show(error.available);
 *
 * `switch (error.code)` narrows as well.
 */
export function isProblem<E, C extends ProblemCode<E>>(error: E, code: C): error is E & ProblemWithCode<E, C> {
  return problemCode(error) === code;
}

function problemCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && typeof (error as { code?: unknown }).code === "string"
    ? (error as { code: string }).code
    : undefined;
}

/** Thrown by `unwrap`: the answer was not a success. `problem` is the body as the document types it. */
export class EdgecartError<E = Problem> extends Error {
  readonly status: number;
  /** The problem document (or, for an answer that is not one, e.g. from a proxy, its body). */
  readonly problem: E;
  /** `problem.code` when there is one. */
  readonly code: string | undefined;
  readonly response: Response;

  constructor(problem: E, response: Response) {
    const code = problemCode(problem);
    const detail =
      typeof problem === "object" && problem !== null && "detail" in problem ? String((problem as { detail: unknown }).detail) : "";
    super(`${response.status}${code ? ` ${code}` : ""}${detail ? `: ${detail}` : ""} (${response.url || "request"})`);
    this.name = "EdgecartError";
    this.status = response.status;
    this.problem = problem;
    this.code = code;
    this.response = response;
  }
}

/**
 * The data of a successful answer; otherwise throws an `EdgecartError` carrying the typed problem:
 *
 *     const cart = unwrap(await shop.POST("/v1/carts", { body: { currency: "USD" } }));
 */
export function unwrap<R extends { data?: unknown; error?: unknown; response: Response }>(result: R): NonNullable<R["data"]> {
  if (result.error !== undefined || !result.response.ok) throw new EdgecartError(result.error as NonNullable<R["error"]>, result.response);
  return result.data as NonNullable<R["data"]>;
}
