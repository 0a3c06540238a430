/**
 * Inventory: public availability (strongly consistent, answered by the SKU's object) and the
 * back-office stock endpoints.
 */
import { z } from "zod";
import { AdjustmentBody, Availability, InventorySnapshot, SetOnHandBody, Sku, SkuParams } from "../contracts";
import type { InventoryRefusal, InventorySnapshot as Snapshot } from "../domain/inventory";
import { sha256Hex } from "../http/auth";
import { ApiError, notFound } from "../http/problem";
import { defineRoute, json } from "../http/route";
import { restoreLevels } from "../inventory/sync";
import { inventoryStub } from "../objects/stubs";

const NO_STORE = { "cache-control": "no-store" };

/** Maps an inventory refusal to its HTTP problem (exhaustive over the reasons). */
export function inventoryProblem(refusal: InventoryRefusal, sku: string): ApiError {
  switch (refusal.reason) {
    case "insufficient_stock":
      return new ApiError(409, "insufficient_stock", `Only ${refusal.available} of ${sku} can be held.`, { available: refusal.available });
    case "below_reserved":
      return new ApiError(409, "below_reserved", `on_hand of ${sku} cannot go below the ${refusal.reserved} units reserved.`, {
        reserved: refusal.reserved,
        on_hand: refusal.on_hand,
      });
    case "unknown_sku":
    case "hold_not_found":
      return notFound("SKU");
    case "quantity_limit_exceeded":
      return new ApiError(422, "quantity_limit_exceeded", `At most ${refusal.limit} of ${sku} fit in one line.`, { limit: refusal.limit });
    case "currency_mismatch":
      return new ApiError(409, "currency_mismatch", `${sku} is priced in ${refusal.currency}, not in the cart's currency.`, { currency: refusal.currency });
    case "hold_owner_mismatch":
    case "hold_committed":
      return new ApiError(409, "hold_conflict", `The hold on ${sku} belongs to a finished order.`);
  }
}

/** The problem for a refusal about one line of a cart or order: the inventory problem, naming the SKU. */
export function lineProblem(refusal: InventoryRefusal & { sku: string }): ApiError {
  const problem = inventoryProblem(refusal, refusal.sku);
  return new ApiError(problem.status, problem.code, problem.detail, { ...problem.extras, sku: refusal.sku });
}

async function snapshotOf(env: Env, sku: string): Promise<Snapshot> {
  const result = await inventoryStub(env, sku).snapshot();
  if (!result.ok) throw inventoryProblem(result, sku);
  return result.snapshot;
}

export const getAvailability = defineRoute({
  method: "GET",
  path: "/v1/skus/{sku}/availability",
  operationId: "getAvailability",
  summary: "Units of a SKU available now (strongly consistent, from the SKU's object)",
  tag: "catalog",
  auth: "none",
  params: SkuParams,
  responses: {
    200: { description: "Availability", schema: Availability },
    400: { description: "Invalid SKU" },
    404: { description: "SKU never stocked or defined" },
  },
  async handler({ env, params }) {
    const snapshot = await snapshotOf(env, params.sku);
    return json({ sku: snapshot.sku, available: snapshot.available }, 200, NO_STORE);
  },
});

export const getInventory = defineRoute({
  method: "GET",
  path: "/v1/admin/inventory/{sku}",
  operationId: "getInventory",
  summary: "Stock, reservations and live holds of a SKU",
  tag: "admin",
  auth: "admin",
  params: SkuParams,
  responses: {
    200: { description: "Inventory snapshot", schema: InventorySnapshot },
    401: { description: "Missing or wrong admin token" },
    404: { description: "SKU never stocked" },
  },
  async handler({ env, params }) {
    return json(await snapshotOf(env, params.sku), 200, NO_STORE);
  },
});

/** What setting or adjusting on_hand answers. */
const STOCK_CHANGE_RESPONSES = {
  200: { description: "Inventory snapshot after the change", schema: InventorySnapshot },
  400: { description: "Invalid body" },
  401: { description: "Missing or wrong admin token" },
  404: { description: "SKU in no product" },
  409: { description: "below_reserved" },
};

export const putInventory = defineRoute({
  method: "PUT",
  path: "/v1/admin/inventory/{sku}",
  operationId: "setInventory",
  summary: "Set on_hand of a SKU (refused below what is reserved)",
  tag: "admin",
  auth: "admin",
  params: SkuParams,
  body: SetOnHandBody,
  responses: STOCK_CHANGE_RESPONSES,
  async handler({ env, params, body }) {
    const result = await inventoryStub(env, params.sku).setOnHand(body.on_hand);
    if (!result.ok) throw inventoryProblem(result, params.sku);
    return json(await snapshotOf(env, params.sku), 200, NO_STORE);
  },
});

export const postAdjustment = defineRoute({
  method: "POST",
  path: "/v1/admin/inventory/{sku}/adjustments",
  operationId: "adjustInventory",
  summary: "Change on_hand by a signed delta with a reason (refused below what is reserved)",
  tag: "admin",
  auth: "admin",
  params: SkuParams,
  body: AdjustmentBody,
  responses: STOCK_CHANGE_RESPONSES,
  async handler({ env, params, body, idempotencyKey }) {
    // With a key, the operation id covers the key and the body: a retry (even one that outlives
    // the 24 h replay window, or takes over a crashed attempt) is a no-op, a new body is not.
    const operationId = idempotencyKey === undefined ? crypto.randomUUID() : await sha256Hex(`${idempotencyKey}\n${JSON.stringify(body)}`);
    const result = await inventoryStub(env, params.sku).adjust(body.delta, body.reason, `adjust:${operationId}`);
    if (!result.ok) throw inventoryProblem(result, params.sku);
    return json(await snapshotOf(env, params.sku), 200, NO_STORE);
  },
});

const RestoreBody = z
  .strictObject({ skus: z.array(Sku).min(1).max(1000).optional().describe("Only these SKUs (default: every SKU Postgres has levels for)") })
  .optional()
  .transform((body) => body ?? {});

const RestoreResult = z.object({
  restored: z.number().int(),
  skipped: z.number().int(),
  data: z.array(z.object({ sku: Sku, on_hand: z.number().int(), outcome: z.enum(["restored", "skipped"]), reason: z.string().optional() })),
});

export const postRestore = defineRoute({
  method: "POST",
  path: "/v1/admin/maintenance/restore-inventory",
  operationId: "restoreInventory",
  summary: "Disaster recovery: rebuild SKU objects' on_hand (and catalog entry) from the levels saved in Postgres",
  tag: "admin",
  auth: "admin",
  body: RestoreBody,
  responses: {
    200: { description: "What was restored and what was skipped (and why)", schema: RestoreResult },
    400: { description: "Invalid body" },
    401: { description: "Missing or wrong admin token" },
  },
  async handler({ env, body }) {
    const outcomes = await restoreLevels(env, body.skus);
    const restored = outcomes.filter((o) => o.outcome === "restored").length;
    return json({ restored, skipped: outcomes.length - restored, data: outcomes });
  },
});
