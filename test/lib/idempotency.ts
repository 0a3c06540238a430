// Helpers of the Idempotency-Key tests (test/idempotency.test.ts, test/idempotency-records.test.ts).
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { StoredResponse } from "../../src/domain/idempotency";
import { canonicalJson, requestFingerprint } from "../../src/http/idempotency";
import { idempotencyStub, inventoryStub } from "../../src/objects/stubs";
import { sha256Hex } from "../../src/platform/crypto";
import { ADMIN, call, defineSku, unique } from "../helpers";
import { TEST_ADMIN_TOKEN } from "../secrets";

/** The IdempotencyObject holding `key` in `scope` (named by hashes only, as the route table's records are). */
export async function idempotencyRecord(_env: Env, scope: string, key: string) {
  return idempotencyStub(env, await sha256Hex(scope), await sha256Hex(key));
}

export const ADMIN_SCOPE = `admin:${TEST_ADMIN_TOKEN}`;
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const adjustPath = (sku: string) => `/v1/admin/inventory/${sku}/adjustments`;

export function adjust(sku: string, body: unknown, key: string): Promise<Response> {
  return call("POST", adjustPath(sku), { body, headers: { ...ADMIN, "idempotency-key": key } });
}

export async function stocked(onHand: number): Promise<string> {
  const sku = unique("SKU");
  await defineSku(sku);
  const response = await call("PUT", `/v1/admin/inventory/${sku}`, { body: { on_hand: onHand }, headers: ADMIN });
  expect(response.status).toBe(200);
  return sku;
}

export async function onHand(sku: string): Promise<number> {
  const result = await inventoryStub(env, sku).snapshot();
  if (!result.ok) throw new Error(`no stock for ${sku}`);
  return result.snapshot.on_hand;
}

/** The fingerprint dispatch computes for an adjustment request. */
export function adjustFingerprint(sku: string, body: unknown): Promise<string> {
  return requestFingerprint("POST", adjustPath(sku), canonicalJson(body));
}

/** User tables left in an object's database (SQLite-internal `_cf_*` tables excluded). */
export async function userTables(stub: DurableObjectStub): Promise<string[]> {
  return runInDurableObject(stub, (_instance, state) =>
    state.storage.sql
      .exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite_%'",
      )
      .toArray()
      .map((row) => row.name),
  );
}

/**
 * Moves the object's alarm an hour out: a late alarm, so a test can let a lease or retention run
 * out and see what the next call (or an alarm run by hand) does, before the real alarm fires.
 */
export async function delayAlarm(stub: DurableObjectStub): Promise<void> {
  await runInDurableObject(stub, (_instance, state) => state.storage.setAlarm(Date.now() + 3_600_000));
}

export function stored(status: number, text: string): StoredResponse {
  return { status, headers: { "content-type": "application/json" }, body: new TextEncoder().encode(text).buffer as ArrayBuffer };
}
