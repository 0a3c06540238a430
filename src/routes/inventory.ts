/**
 * Inventory: public availability (strongly consistent, answered by the SKU's object) and the
 * back-office stock endpoints.
 */
import * as z from "zod";
import { AdjustmentBody, Availability, InventorySnapshot, SetOnHandBody, Sku, SkuParams } from "../contracts";
import { inventoryProblem } from "../http/outcomes";
import { enforceRateLimit } from "../http/rate-limit";
import { defineRoute, json, type ResponseSpec } from "../http/route";
import { inventoryStub } from "../objects/stubs";
import { sha256Hex } from "../platform/crypto";
import { restoreLevels } from "../sync/levels";

const NO_STORE = { "cache-control": "no-store" };

async function snapshotOf(env: Env, sku: string): Promise<InventorySnapshot> {
  const result = await inventoryStub(env, sku).snapshot();
  if (!result.ok) throw inventoryProblem(result, sku);
  return result.snapshot;
}

export const getAvailability = defineRoute({
  method: "GET",
  path: "/v1/skus/{sku}/availability",
  operationId: "getAvailability",
  summary: "Units of a SKU available now (strongly consistent, from the SKU's object); rate-limited per client IP",
  tag: "catalog",
  auth: "none",
  params: SkuParams,
  responses: {
    200: { description: "Availability", schema: Availability },
    400: { description: "Invalid SKU" },
    404: { description: "SKU never stocked or defined" },
    429: { description: "Too many availability requests from this client", headers: { "retry-after": "Seconds to wait" } },
  },
  async handler({ env, request, params }) {
    await enforceRateLimit(env, request, "availability");
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
const STOCK_CHANGE_RESPONSES: Record<number, ResponseSpec> = {
  200: { description: "Inventory snapshot after the change", schema: InventorySnapshot },
  400: { description: "Invalid body" },
  401: { description: "Missing or wrong admin token" },
  404: { description: "SKU in no product" },
  409: { description: "below_reserved", problems: ["below_reserved"] },
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
  database: true,
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
