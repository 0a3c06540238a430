/**
 * Back office: tax rates per destination country (used when TAX_MODE is `rates`) and the tax
 * mode itself. Postgres is the system of record; every change rewrites the edge's tax table (KV)
 * before the call returns, or by the minute cron when that write failed.
 */

import { settings } from "../config";
import { CountryParams, TaxRate, TaxRateInput, TaxRateList, TaxSettings } from "../contracts";
import { withDb } from "../db/client";
import { getTaxRate, listTaxRates } from "../db/tax-rates";
import { notFound } from "../http/problem";
import { defineRoute, empty, json } from "../http/route";
import { removeTaxRate, saveTaxRate } from "../sync/tax-publish";

const NO_STORE = { "cache-control": "no-store" };

export const putTaxRate = defineRoute({
  method: "PUT",
  path: "/v1/admin/tax-rates/{country}",
  operationId: "putTaxRate",
  database: true,
  summary: "Set the tax rate of a destination country",
  tag: "admin",
  auth: "admin",
  params: CountryParams,
  body: TaxRateInput,
  responses: {
    200: { description: "Replaced (version + 1)", schema: TaxRate },
    201: { description: "Created", schema: TaxRate },
    400: { description: "Invalid country or rate" },
    401: { description: "Missing or wrong admin token" },
  },
  async handler({ env, params, body }) {
    const saved = await saveTaxRate(env, params.country, body);
    return json(saved.rate, saved.created ? 201 : 200, NO_STORE);
  },
});

export const getTaxRateRoute = defineRoute({
  method: "GET",
  path: "/v1/admin/tax-rates/{country}",
  operationId: "getTaxRate",
  database: true,
  summary: "One country's tax rate",
  tag: "admin",
  auth: "admin",
  params: CountryParams,
  responses: {
    200: { description: "The rate", schema: TaxRate },
    401: { description: "Missing or wrong admin token" },
    404: { description: "No rate for this country" },
  },
  async handler({ env, params }) {
    const rate = await withDb(env, (db) => getTaxRate(db, params.country));
    if (rate === null) throw notFound("tax rate");
    return json(rate, 200, NO_STORE);
  },
});

export const listTaxRatesRoute = defineRoute({
  method: "GET",
  path: "/v1/admin/tax-rates",
  operationId: "listTaxRates",
  database: true,
  summary: "Every country's tax rate, by country (not paginated: at most 676)",
  tag: "admin",
  auth: "admin",
  responses: {
    200: { description: "The rates", schema: TaxRateList },
    401: { description: "Missing or wrong admin token" },
  },
  async handler({ env }) {
    return json({ data: await withDb(env, (db) => listTaxRates(db)) }, 200, NO_STORE);
  },
});

export const deleteTaxRateRoute = defineRoute({
  method: "DELETE",
  path: "/v1/admin/tax-rates/{country}",
  operationId: "deleteTaxRate",
  database: true,
  summary: "Remove a country's tax rate: the edge's tax table no longer has the country",
  tag: "admin",
  auth: "admin",
  params: CountryParams,
  responses: {
    204: { description: "Removed" },
    401: { description: "Missing or wrong admin token" },
    404: { description: "No rate for this country" },
  },
  async handler({ env, params }) {
    if (!(await removeTaxRate(env, params.country))) throw notFound("tax rate");
    return empty(204);
  },
});

export const getTaxSettings = defineRoute({
  method: "GET",
  path: "/v1/admin/settings/tax",
  operationId: "getTaxSettings",
  summary: "How carts are taxed: the TAX_MODE setting",
  tag: "admin",
  auth: "admin",
  responses: {
    200: { description: "The tax mode", schema: TaxSettings },
    401: { description: "Missing or wrong admin token" },
  },
  handler({ env }) {
    return json({ mode: settings(env).taxMode }, 200, NO_STORE);
  },
});
