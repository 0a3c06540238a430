/**
 * The external tax service (TAX_MODE=external): one signed POST per quote, answered within a hard
 * budget, or a failure with its reason. A failure is never zero tax; the caller refuses to take
 * an order without a quote (checkout answers 503 `tax_unavailable`). docs/tax.md has the contract.
 *
 * Request: `POST TAX_SERVICE_URL`, `content-type: application/json`, the body exactly as given
 * (`taxRequest` in domain/tax.ts: canonical JSON, the same bytes for the same cart), signed per
 * Standard Webhooks, the scheme of the payment webhooks edgecart receives (src/routes/webhooks.ts):
 *
 *   webhook-id: taxq_<uuid>                 unique per request
 *   webhook-timestamp: <unix seconds>       the service should refuse more than 5 minutes off
 *   webhook-signature: v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">
 *
 * under TAX_SERVICE_SECRET (`whsec_` + base64 key). Answer: a 2xx whose body is
 * `{"lines":[{"sku":"…","tax":123}]}`, each requested SKU exactly once and no other, `tax` a
 * non-negative safe integer in minor units added to that line's amount (other members are
 * ignored). Redirects are not followed. The whole call, reading the answer included, gets at most
 * TAX_SERVICE_BUDGET_MS.
 */
import { Webhook } from "standardwebhooks";
import * as z from "zod";
import { settings } from "../config";
import { log } from "../platform/log";
import { BodyRefused, readText } from "../platform/read-body";

/** The most a quote may take, connection to last byte of the answer. */
export const TAX_SERVICE_BUDGET_MS = 2_000;
/** A larger answer is refused (`invalid_response`). */
export const TAX_ANSWER_MAX_BYTES = 1 << 20;

export type TaxServiceFailure = "not_configured" | "timeout" | "unreachable" | "rejected" | "invalid_response";

export type TaxServiceResult = { ok: true; lines: Array<{ sku: string; tax: number }> } | { ok: false; reason: TaxServiceFailure };

const RequestedLines = z.object({ lines: z.array(z.object({ sku: z.string() })) });
const Answer = z.object({ lines: z.array(z.object({ sku: z.string(), tax: z.int().nonnegative() })) });

/** The SKUs `body` asks about, in its order; throws when it is not a tax request (a bug in the caller, not a service failure). */
function requestedSkus(body: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new TypeError("quoteExternalTax: the body is not JSON (build it with taxRequest)");
  }
  const request = RequestedLines.safeParse(parsed);
  if (!request.success) throw new TypeError("quoteExternalTax: the body has no lines[].sku (build it with taxRequest)");
  const skus = request.data.lines.map((line) => line.sku);
  if (new Set(skus).size !== skus.length) throw new TypeError("quoteExternalTax: the body names a SKU twice");
  return skus;
}

/** Each requested SKU's tax, in the request's order; null unless the answer names each exactly once and nothing else. */
function matchAnswer(skus: readonly string[], answer: z.infer<typeof Answer>): Array<{ sku: string; tax: number }> | null {
  const taxes = new Map<string, number>();
  const requested = new Set(skus);
  for (const line of answer.lines) {
    if (!requested.has(line.sku) || taxes.has(line.sku)) return null;
    taxes.set(line.sku, line.tax);
  }
  if (taxes.size !== requested.size) return null;
  return skus.map((sku) => ({ sku, tax: taxes.get(sku)! }));
}

/** Standard Webhooks headers for `body`; throws when `secret` is not a base64 key. */
function signedHeaders(secret: string, body: string): Record<string, string> {
  const id = `taxq_${crypto.randomUUID()}`;
  const now = new Date();
  return {
    "content-type": "application/json",
    accept: "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
    "webhook-signature": new Webhook(secret).sign(id, now, body),
  };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "";
  }
}

/**
 * Asks the tax service for the tax of each line of `body` (the canonical JSON from `taxRequest`).
 * One attempt, no retry: within `budgetMs` (default and most TAX_SERVICE_BUDGET_MS; a caller may
 * pass less, e.g. what is left of its own deadline). Failures are logged (warn) with their reason
 * and duration, never the body:
 *   not_configured    no TAX_SERVICE_URL or TAX_SERVICE_SECRET usable (see config.ts), or TAX_MODE unknown
 *   timeout           no complete answer within the budget
 *   unreachable       no answer: connection refused, reset or lost midway
 *   rejected          an answer that is not 2xx (a 3xx included)
 *   invalid_response  a 2xx whose body is not the contract's (JSON, every SKU once, tax ≥ 0 integer)
 */
export async function quoteExternalTax(env: Env, body: string, options: { budgetMs?: number } = {}): Promise<TaxServiceResult> {
  const skus = requestedSkus(body);
  const started = Date.now();
  const budgetMs = Math.min(options.budgetMs ?? TAX_SERVICE_BUDGET_MS, TAX_SERVICE_BUDGET_MS);
  const { taxServiceUrl: url, taxServiceSecret: secret } = settings(env);
  const fail = (reason: TaxServiceFailure, fields: Record<string, unknown> = {}): TaxServiceResult => {
    log("warn", "tax service gave no quote", {
      reason,
      duration_ms: Date.now() - started,
      host: url ? hostOf(url) : undefined,
      lines: skus.length,
      ...fields,
    });
    return { ok: false, reason };
  };

  if (url === undefined || secret === undefined) {
    return fail("not_configured", {
      missing: [url === undefined && "TAX_SERVICE_URL", secret === undefined && "TAX_SERVICE_SECRET"].filter(Boolean),
    });
  }
  let headers: Record<string, string>;
  try {
    headers = signedHeaders(secret, body);
  } catch {
    return fail("not_configured", { problem: "TAX_SERVICE_SECRET is not a whsec_ base64 key" });
  }
  if (!(budgetMs > 0)) return fail("timeout", { budget_ms: budgetMs });

  const signal = AbortSignal.timeout(budgetMs);
  let response: Response;
  try {
    response = await fetch(url, { method: "POST", headers, body, signal, redirect: "manual" });
  } catch (error) {
    if (signal.aborted) return fail("timeout", { budget_ms: budgetMs });
    return fail("unreachable", { error: error instanceof Error ? error.message : String(error) });
  }
  if (response.status < 200 || response.status > 299) {
    response.body?.cancel().catch(() => {});
    return fail("rejected", { status: response.status });
  }
  let text: string;
  try {
    text = await readText(response.body, { maxBytes: TAX_ANSWER_MAX_BYTES, signal });
  } catch (error) {
    if (error instanceof BodyRefused) return fail("invalid_response", { status: response.status, problem: error.kind });
    if (signal.aborted) return fail("timeout", { budget_ms: budgetMs, status: response.status });
    return fail("unreachable", { status: response.status, error: error instanceof Error ? error.message : String(error) });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return fail("invalid_response", { status: response.status, problem: "not JSON" });
  }
  const answer = Answer.safeParse(json);
  if (!answer.success) {
    const issue = answer.error.issues[0];
    return fail("invalid_response", { status: response.status, problem: `${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}` });
  }
  const lines = matchAnswer(skus, answer.data);
  if (lines === null) {
    return fail("invalid_response", { status: response.status, problem: "the answer's SKUs are not exactly the requested ones" });
  }
  return { ok: true, lines };
}
