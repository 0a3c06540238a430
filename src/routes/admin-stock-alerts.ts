/**
 * Back office: a SKU's low-stock threshold for the `inventory.low` webhook event (docs/api.md
 * "Outgoing webhooks"). Without one of its own, a SKU uses LOW_STOCK_THRESHOLD.
 */
import { StockAlert, StockAlertBody, StockAlertParams } from "../contracts";
import { withDb } from "../db/client";
import { getStockAlert, type StockAlertRow, setStockThreshold } from "../db/webhooks";
import { defineRoute, json } from "../http/route";
import { webhookSettings } from "../sync/webhooks";

const NO_STORE = { "cache-control": "no-store" };

function view(env: Env, sku: string, row: StockAlertRow | null): StockAlert {
  const own = row?.low_threshold ?? null;
  const state = row?.state ?? null;
  return {
    sku,
    low_stock_threshold: own,
    effective_threshold: own ?? webhookSettings(env).lowStockThreshold,
    state: state === "ok" || state === "low" || state === "out" ? state : null,
  };
}

const responses = {
  200: { description: "The SKU's threshold and stock state", schema: StockAlert },
  400: { description: "Invalid SKU or body" },
  401: { description: "Missing or wrong admin token" },
};

export const getStockAlertRoute = defineRoute({
  method: "GET",
  path: "/v1/admin/stock-alerts/{sku}",
  operationId: "getStockAlert",
  summary: "A SKU's low-stock threshold (inventory.low webhook) and its last stock state",
  tag: "webhooks",
  auth: "admin",
  params: StockAlertParams,
  responses,
  async handler({ env, params }) {
    return json(view(env, params.sku, await withDb(env, (db) => getStockAlert(db, params.sku))), 200, NO_STORE);
  },
});

export const putStockAlert = defineRoute({
  method: "PUT",
  path: "/v1/admin/stock-alerts/{sku}",
  operationId: "putStockAlert",
  summary: "Set a SKU's own low-stock threshold (null: LOW_STOCK_THRESHOLD); applies from its next level report",
  tag: "webhooks",
  auth: "admin",
  params: StockAlertParams,
  body: StockAlertBody,
  responses,
  async handler({ env, params, body }) {
    return json(
      view(env, params.sku, await withDb(env, (db) => setStockThreshold(db, params.sku, body.low_stock_threshold))),
      200,
      NO_STORE,
    );
  },
});
