/**
 * Back office: promotions (discount codes and automatic promotions). Postgres is the system of
 * record; each change is published to the promotion's object (and, for automatic ones, the KV
 * list carts read) before the call returns, or by the minute cron when that publish failed
 * (`published_version` says which the edge has).
 */
import * as z from "zod";
import { PromotionId, PromotionInput, PromotionListQuery, PromotionPage, PromotionParams, PromotionView } from "../contracts";
import { withDb } from "../db/client";
import { getPromotion, listPromotions, type PromotionRecord } from "../db/promotions";
import { normalizeCode, promotionObjectName } from "../domain/promotion";
import { decodeCursor, encodeCursor } from "../http/cursor";
import { ApiError, notFound } from "../http/problem";
import { defineRoute, empty, json } from "../http/route";
import { promotionStub } from "../objects/stubs";
import { errorFields, log } from "../platform/log";
import { retirePromotion, savePromotion } from "../sync/promotions-publish";

const NO_STORE = { "cache-control": "no-store" };

/** Cursor: the last listed promotion's id. Filters may change between pages and apply from there on. */
const Cursor = z.strictObject({ a: PromotionId });

function viewOf(record: PromotionRecord): PromotionView {
  const { deleted: _deleted, ...view } = record;
  return view;
}

export const putPromotion = defineRoute({
  method: "PUT",
  path: "/v1/admin/promotions/{promotion_id}",
  operationId: "putPromotion",
  database: true,
  summary: "Create or replace a promotion (a discount code, or an automatic promotion when code is null)",
  tag: "admin",
  auth: "admin",
  params: PromotionParams,
  body: PromotionInput,
  responses: {
    200: { description: "Replaced (version + 1)", schema: PromotionView },
    201: { description: "Created (or brought back after a delete)", schema: PromotionView },
    400: { description: "Invalid promotion" },
    401: { description: "Missing or wrong admin token" },
    409: {
      description:
        "promotion_code_immutable: the body changes the promotion's code (or its having none); promotion_code_taken: another promotion has this code",
      problems: ["promotion_code_immutable", "promotion_code_taken"],
    },
  },
  async handler({ env, params, body }) {
    const outcome = await savePromotion(env, params.promotion_id, body);
    if (outcome.ok) return json(viewOf(outcome.promotion), outcome.created ? 201 : 200, NO_STORE);
    if (outcome.reason === "code_immutable") {
      const kept = outcome.code === null ? "no code (it is automatic)" : `the code ${outcome.code}`;
      throw new ApiError(
        409,
        "promotion_code_immutable",
        `Promotion ${params.promotion_id} keeps ${kept}: a code is fixed when the promotion is created.`,
        {
          promotion_code: outcome.code,
        },
      );
    }
    throw new ApiError(409, "promotion_code_taken", `The code ${outcome.code} belongs to another promotion.`, {
      promotion_code: outcome.code,
      promotion_id: outcome.holder,
    });
  },
});

export const getPromotionRoute = defineRoute({
  method: "GET",
  path: "/v1/admin/promotions/{promotion_id}",
  operationId: "getPromotion",
  database: true,
  summary: "One promotion from Postgres, with its redemptions as its object counts them",
  tag: "admin",
  auth: "admin",
  params: PromotionParams,
  responses: {
    200: { description: "The promotion", schema: PromotionView },
    401: { description: "Missing or wrong admin token" },
    404: { description: "No such promotion (or it was deleted)" },
  },
  async handler({ env, params }) {
    const record = await withDb(env, (db) => getPromotion(db, params.promotion_id));
    if (record === null) throw notFound("promotion");
    const view = viewOf(record);
    try {
      const redemptions = await promotionStub(env, promotionObjectName(record)).redemptions();
      return json({ ...view, redemptions: { held: redemptions.held, committed: redemptions.committed } }, 200, NO_STORE);
    } catch (error) {
      // The definition is Postgres's; the counts are a courtesy. Answer without them.
      log("warn", "promotion redemptions could not be read", { promotion_id: record.id, ...errorFields(error) });
      return json(view, 200, NO_STORE);
    }
  },
});

export const listPromotionsRoute = defineRoute({
  method: "GET",
  path: "/v1/admin/promotions",
  operationId: "listPromotions",
  database: true,
  summary: "Promotions by id, cursor-paginated, optionally by status or code (deleted ones are not listed)",
  tag: "admin",
  auth: "admin",
  query: PromotionListQuery,
  responses: {
    200: { description: "A page of promotions (without redemptions)", schema: PromotionPage },
    400: { description: "Invalid query or cursor" },
    401: { description: "Missing or wrong admin token" },
  },
  async handler({ env, query }) {
    const after = query.cursor === undefined ? undefined : decodeCursor(Cursor, query.cursor).a;
    const rows = await withDb(env, (db) =>
      listPromotions(db, {
        limit: query.limit + 1,
        after,
        status: query.status,
        code: query.code === undefined ? undefined : normalizeCode(query.code),
      }),
    );
    const data = rows.slice(0, query.limit).map(viewOf);
    const last = data[data.length - 1];
    const next = rows.length > query.limit && last ? encodeCursor({ a: last.id }) : null;
    return json({ data, next_cursor: next }, 200, NO_STORE);
  },
});

export const deletePromotionRoute = defineRoute({
  method: "DELETE",
  path: "/v1/admin/promotions/{promotion_id}",
  operationId: "deletePromotion",
  database: true,
  summary: "Delete a promotion: carts stop applying it, its code stays taken, and the back office no longer shows it",
  tag: "admin",
  auth: "admin",
  params: PromotionParams,
  responses: {
    204: { description: "Deleted" },
    401: { description: "Missing or wrong admin token" },
    404: { description: "No such promotion (or it was deleted)" },
  },
  async handler({ env, params }) {
    if ((await retirePromotion(env, params.promotion_id)) === null) throw notFound("promotion");
    return empty(204);
  },
});
