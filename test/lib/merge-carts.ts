/** Helpers for cart merge tests: carts with lines, the merge request, stock and ledger checks. */
import { env } from "cloudflare:test";
import { expect } from "vitest";
import type { Cart } from "../../src/contracts";
import { inventoryStub } from "../../src/objects/stubs";
import { call, newCart } from "../helpers";
import { putLine } from "./promotions";

export type CartHandle = Awaited<ReturnType<typeof newCart>>;
export type MergedJson = Cart & {
  merge_report: Array<{ sku: string; outcome: string; requested: number; quantity: number; reason?: string }>;
};

/** A cart with these lines (SKU → quantity), in `currency`. */
export async function cartWith(lines: Record<string, number>, currency = "USD"): Promise<CartHandle> {
  const cart = await newCart({ currency });
  for (const [sku, quantity] of Object.entries(lines)) await putLine(cart, sku, quantity);
  return cart;
}

export function merge(target: CartHandle, source: CartHandle, mode: "merge" | "replace" = "merge", key: string = crypto.randomUUID()) {
  return call("POST", `/v1/carts/${target.id}/merge`, {
    body: { source_token: source.token, mode },
    headers: { ...target.headers, "idempotency-key": key },
  });
}

export async function view(cart: CartHandle): Promise<Cart> {
  const response = await call("GET", `/v1/carts/${cart.id}`, { headers: cart.headers });
  expect(response.status).toBe(200);
  return (await response.json()) as Cart;
}

export const linesOf = (cart: Cart) => Object.fromEntries(cart.items.map((line) => [line.sku, line.quantity]));

export async function available(skus: readonly string[]): Promise<Record<string, number>> {
  const entries = await Promise.all(
    skus.map(async (sku) => {
      const snapshot = await inventoryStub(env, sku).snapshot();
      if (!snapshot.ok) throw new Error(snapshot.reason);
      return [sku, snapshot.snapshot.available] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/** Every SKU object's ledger agrees with its state. */
export async function expectLedgers(skus: readonly string[]): Promise<void> {
  for (const sku of skus) expect(await inventoryStub(env, sku).verify(), sku).toMatchObject({ ok: true });
}

/** The merge rule, written out independently: what the target's lines must be. */
export function expectedLines(
  target: Record<string, number>,
  source: Record<string, number>,
  mode: "merge" | "replace",
): Record<string, number> {
  if (mode === "replace") return { ...source };
  const out: Record<string, number> = { ...target };
  for (const [sku, quantity] of Object.entries(source)) out[sku] = Math.max(out[sku] ?? 0, quantity);
  return out;
}
