/**
 * edgecart Worker entry: the HTTP API, the queue consumers, the crons, and the Durable Object
 * classes. Queues and crons are dispatched on their exact names (sync/queues.ts); an unknown one
 * is logged as an error and throws, so a configuration mistake is loud rather than misrouted.
 */
import { preflight } from "./http/cors";
import { handleWithSeam, requestIdFor } from "./http/dispatch";
import { errorFields, log } from "./platform/log";
import { route } from "./router";
import { consumeOrders } from "./sync/archival";
import { maintainCatalog } from "./sync/catalog-publish";
import { consumeDeadLetters } from "./sync/dead-letters";
import { consumeInventoryLevels, snapshotLevels } from "./sync/levels";
import { maintainPricingSettings } from "./sync/promotions-publish";
import {
  CATALOG_OUTBOX_CRON,
  INVENTORY_QUEUE,
  LEVEL_SNAPSHOT_CRON,
  ORDERS_DLQ,
  ORDERS_QUEUE,
  WEBHOOKS_DLQ,
  WEBHOOKS_QUEUE,
} from "./sync/queues";
import { consumeWebhookDeadLetters, consumeWebhooks } from "./sync/webhooks";

export { CartObject } from "./objects/cart";
export { IdempotencyObject } from "./objects/idempotency";
export { InventoryObject } from "./objects/inventory";
export { PaidOrdersObject } from "./objects/paid-orders";
export { PromotionObject } from "./objects/promotion";

const CONSUMERS: Record<string, (batch: MessageBatch, env: Env) => Promise<void>> = {
  [ORDERS_QUEUE]: consumeOrders,
  [ORDERS_DLQ]: consumeDeadLetters,
  [INVENTORY_QUEUE]: consumeInventoryLevels,
  [WEBHOOKS_QUEUE]: consumeWebhooks,
  [WEBHOOKS_DLQ]: consumeWebhookDeadLetters,
};

/**
 * The minute's work: the catalog, and the pricing settings (promotions the edge lacks, the
 * automatic list, the tax table). Each runs even when the other fails; a failure is thrown.
 */
async function everyMinute(env: Env): Promise<Record<string, unknown>> {
  const [catalog, pricing] = await Promise.allSettled([maintainCatalog(env), maintainPricingSettings(env)]);
  if (catalog.status === "rejected") throw catalog.reason;
  if (pricing.status === "rejected") throw pricing.reason;
  return { ...catalog.value, pricing: pricing.value };
}

const CRONS: Record<string, (env: Env) => Promise<Record<string, unknown>>> = {
  [CATALOG_OUTBOX_CRON]: everyMinute,
  [LEVEL_SNAPSHOT_CRON]: snapshotLevels,
};

export default {
  async fetch(request, env, ctx): Promise<Response> {
    const requestId = requestIdFor(request);
    return handleWithSeam(request, requestId, async () => preflight(request, env) ?? route(request, env, ctx, requestId), env);
  },

  /** Queue consumers: order archival, dead letters, inventory level reports, outgoing webhooks. */
  async queue(batch, env, _ctx): Promise<void> {
    const consume = Object.hasOwn(CONSUMERS, batch.queue) ? CONSUMERS[batch.queue] : undefined;
    if (consume === undefined) {
      log("error", "message batch from an unknown queue", { queue: batch.queue, messages: batch.messages.length });
      throw new Error(`no consumer for queue ${batch.queue}`);
    }
    await consume(batch, env);
  },

  /** Crons: the catalog's outbox and KV index, and the pricing settings (every minute); snapshot SKU levels (every 15 minutes). */
  async scheduled(controller, env, _ctx): Promise<void> {
    const job = Object.hasOwn(CRONS, controller.cron) ? CRONS[controller.cron] : undefined;
    if (job === undefined) {
      log("error", "unknown cron", { cron: controller.cron });
      throw new Error(`no job for cron ${controller.cron}`);
    }
    try {
      const result = await job(env);
      log("info", "cron done", { cron: controller.cron, ...result });
    } catch (error) {
      log("error", "scheduled job failed", { cron: controller.cron, ...errorFields(error) });
      throw error;
    }
  },
} satisfies ExportedHandler<Env>;
