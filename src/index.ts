/**
 * edgecart Worker entry: HTTP API, queue consumer and the Durable Object classes.
 */
import { drainPublishQueue } from "./catalog/publish";
import { preflight } from "./http/cors";
import { handleWithSeam, requestIdFor } from "./http/dispatch";
import { errorFields, log } from "./http/log";
import { LEVEL_SNAPSHOT_CRON, snapshotLevels } from "./inventory/sync";
import { consumeDeadLetters, consumeInventoryLevels, consumeOrders, INVENTORY_QUEUE, ORDERS_DLQ } from "./queue";
import { route } from "./router";

export { CartObject } from "./objects/cart";
export { IdempotencyObject } from "./objects/idempotency";
export { InventoryObject } from "./objects/inventory";

export default {
  async fetch(request, env, ctx): Promise<Response> {
    const requestId = requestIdFor(request);
    return handleWithSeam(request, requestId, async () => preflight(request, env) ?? route(request, env, ctx, requestId), env);
  },

  /** Queue consumers: order archival into Postgres, and the dead-letter recorder. */
  async queue(batch, env, _ctx): Promise<void> {
    if (batch.queue === ORDERS_DLQ) await consumeDeadLetters(batch, env);
    else if (batch.queue === INVENTORY_QUEUE) await consumeInventoryLevels(batch, env);
    else await consumeOrders(batch, env);
  },

  /**
   * Crons: every minute, republish catalog changes left in the publish outbox; every 15 minutes,
   * snapshot every SKU object's levels into Postgres (reconciliation).
   */
  async scheduled(controller, env, _ctx): Promise<void> {
    try {
      if (controller.cron === LEVEL_SNAPSHOT_CRON) {
        log("info", "inventory levels snapshot", { cron: controller.cron, ...(await snapshotLevels(env)) });
      } else {
        const result = await drainPublishQueue(env);
        if (result.published + result.failed > 0) log("info", "catalog outbox drained", { cron: controller.cron, ...result });
      }
    } catch (error) {
      log("error", "scheduled job failed", { cron: controller.cron, ...errorFields(error) });
      throw error;
    }
  },
} satisfies ExportedHandler<Env>;
