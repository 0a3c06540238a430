/**
 * Route definitions: one object per endpoint holds its method, path, zod schemas and handler.
 * The router (src/router.ts) and the OpenAPI document (src/http/openapi.ts) are both built from
 * these objects, so what is validated and what is documented cannot drift apart.
 */
import type * as z from "zod";
import type { ProblemCode } from "../contracts";
import type { CartAccess } from "../domain/cart-access";

/** Who may call a route (docs/api.md "Who may call what"). */
export type RouteAuth = "none" | "admin" | "cart" | "webhook";

/** A response a route documents: its status, description and (for JSON bodies) schema. */
export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  headers?: Record<string, string>;
  /**
   * For an error status: the problem codes it carries (contracts/problems.ts). Optional where the
   * status has one obvious code (400 invalid_request, 404 not_found, 412, 413, 415, 429, 503).
   */
  problems?: ProblemCode[];
}

/** What a handler receives: the validated inputs plus the request's environment. */
export interface RouteContext<P, Q, B> {
  request: Request;
  env: Env;
  ctx: ExecutionContext;
  requestId: string;
  params: P;
  query: Q;
  body: B;
  /** The raw body bytes as text, for routes that verify signatures over them. */
  rawBody: string | undefined;
  /** The bearer token presented, for routes whose handler checks it against a resource. */
  bearer: string | undefined;
  /** The validated Idempotency-Key of a POST, when one was sent. */
  idempotencyKey: string | undefined;
  /** On cart routes: what the bearer token proves about the cart the route names (checked before anything else). */
  access: CartAccess | undefined;
}

type Shape = z.ZodObject<z.ZodRawShape>;
type Input<S> = S extends z.ZodType ? z.output<S> : undefined;

/** One endpoint. `path` uses OpenAPI syntax (`/v1/skus/{sku}`). */
export interface RouteSpec<
  PS extends Shape | undefined = Shape | undefined,
  QS extends Shape | undefined = Shape | undefined,
  BS extends z.ZodType | undefined = z.ZodType | undefined,
> {
  method: "GET" | "PUT" | "POST" | "DELETE";
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  auth: RouteAuth;
  /** For `webhook` routes: whose signature scheme the document names (default: Standard Webhooks). */
  signature?: "standard" | "stripe";
  params?: PS;
  query?: QS;
  /** A JSON body validated with this schema. */
  body?: BS;
  /** Keep the body as raw text (signature checks); the handler parses it. */
  rawBody?: boolean;
  /** For a raw-body route: the body's shape, for the OpenAPI document only (the handler parses it). */
  rawBodySchema?: z.ZodType;
  /**
   * Idempotency-Key handling for POST routes (src/http/idempotency.ts): "optional" (the default)
   * or "required" (a missing key is 400 `idempotency_key_required`). Ignored on other methods and
   * on webhook routes, which deduplicate by `webhook-id`. "off" for a POST whose answer must
   * never be stored (it holds a secret); such a route refuses the header itself
   * ({@link refuseIdempotencyKey} in src/http/idempotency.ts).
   */
  idempotency?: "optional" | "required" | "off";
  /**
   * On cart routes: the cart (and what to call it in a 404) the request's token must open, from the
   * validated params. Dispatch checks the token before the Idempotency-Key is claimed, so a request
   * that was never authorised stores nothing.
   */
  cartOf?: (params: Input<PS>) => { cartId: string; what: "cart" | "order" } | null;
  /** Where the request's data must live, from its validated body (cart routes take it from the cart's token). */
  regionOf?: (body: Input<BS>) => "eu" | null;
  /** Whether the route reads or writes Postgres (it may then answer 503 `database_unavailable`). */
  database?: boolean;
  /** Headers the route reads (documented as parameters). */
  headers?: Record<string, { description: string; required?: boolean; schema?: z.ZodType }>;
  responses: Record<number, ResponseSpec>;
  handler(context: RouteContext<Input<PS>, Input<QS>, Input<BS>>): Promise<Response> | Response;
}

/** Declares a route with full type inference from its schemas. */
export function defineRoute<
  PS extends Shape | undefined = undefined,
  QS extends Shape | undefined = undefined,
  BS extends z.ZodType | undefined = undefined,
>(spec: RouteSpec<PS, QS, BS>): RouteSpec {
  return spec as unknown as RouteSpec;
}

/** A JSON response with the given status and extra headers. */
export function json(data: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(data), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** An empty response (204 by default). */
export function empty(status = 204, headers: Record<string, string> = {}): Response {
  return new Response(null, { status, headers });
}
