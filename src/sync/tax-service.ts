/**
 * The external tax service (TAX_MODE=external): one signed POST of the cart's discounted lines and
 * destination, answered with each line's tax, within a hard budget. A failure is its own answer,
 * never zero tax.
 */
import { settings } from "../config";
import { hmacSha256, toHex } from "../platform/crypto";
import { log } from "../platform/log";

/** The whole call's budget, reading the answer included. */
export const TAX_BUDGET_MS = 2000;

export type ExternalTaxResult =
  | { ok: true; lines: Array<{ sku: string; tax: number }> }
  | { ok: false; reason: "not_configured" | "timeout" | "unreachable" | "rejected" | "invalid_response" };

/** Asks the tax service for the tax of `body` (domain/tax.ts `taxRequest`). */
export async function quoteExternalTax(env: Env, body: string, options: { budgetMs?: number } = {}): Promise<ExternalTaxResult> {
  const { taxServiceUrl, taxServiceSecret } = settings(env);
  if (taxServiceUrl === "" || taxServiceSecret === "") return { ok: false, reason: "not_configured" };
  const started = Date.now();
  const timestamp = Math.floor(started / 1000);
  const signature = toHex(await hmacSha256(taxServiceSecret, `${timestamp}.${body}`));
  const fail = (reason: Exclude<ExternalTaxResult, { ok: true }>["reason"]): ExternalTaxResult => {
    log("warn", "the tax service failed", { reason, duration_ms: Date.now() - started });
    return { ok: false, reason };
  };
  try {
    const response = await fetch(taxServiceUrl, {
      method: "POST",
      headers: { "content-type": "application/json", "edgecart-signature": `t=${timestamp},v1=${signature}` },
      body,
      signal: AbortSignal.timeout(options.budgetMs ?? TAX_BUDGET_MS),
    });
    if (!response.ok) return fail("rejected");
    const answer = (await response.json()) as { lines?: unknown };
    const requested = (JSON.parse(body) as { lines: Array<{ sku: string }> }).lines.map((line) => line.sku);
    if (!Array.isArray(answer.lines)) return fail("invalid_response");
    const lines = answer.lines as Array<{ sku: unknown; tax: unknown }>;
    const valid = lines.every((line) => typeof line?.sku === "string" && Number.isSafeInteger(line.tax) && (line.tax as number) >= 0);
    const skus = new Set(lines.map((line) => line?.sku));
    if (!valid || lines.length !== requested.length || !requested.every((sku) => skus.has(sku))) return fail("invalid_response");
    return { ok: true, lines: lines as Array<{ sku: string; tax: number }> };
  } catch (error) {
    if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) return fail("timeout");
    if (error instanceof SyntaxError) return fail("invalid_response");
    return fail("unreachable");
  }
}
