/**
 * edgecart Worker entry: HTTP API, queue consumer and the Durable Object classes.
 */
import { drainPublishQueue } from "./catalog/publish";
import { handleWithSeam, requestIdFor } from "./http/dispatch";
import { errorFields, log } from "./http/log";
import { consumeDeadLetters, consumeOrders, ORDERS_DLQ } from "./queue";
import { route } from "./router";

export { CartObject } from "./objects/cart";
export { IdempotencyObject } from "./objects/idempotency";
export { InventoryObject } from "./objects/inventory";

export default {
  async fetch(request, env, ctx): Promise<Response> {
    const requestId = requestIdFor(request);
    return handleWithSeam(request, requestId, () => route(request, env, ctx, requestId));
  },

  /** Queue consumers: order archival into Postgres, and the dead-letter recorder. */
  async queue(batch, env): Promise<void> {
    if (batch.queue === ORDERS_DLQ) await consumeDeadLetters(batch, env);
    else await consumeOrders(batch, env);
  },

  /** Cron: republishes catalog changes a failed or interrupted publish left in the outbox. */
  async scheduled(controller, env, _ctx): Promise<void> {
    try {
      const result = await drainPublishQueue(env);
      if (result.published + result.failed > 0) log("info", "catalog outbox drained", { cron: controller.cron, ...result });
    } catch (error) {
      log("error", "scheduled catalog drain failed", { cron: controller.cron, ...errorFields(error) });
      throw error;
    }
  },
} satisfies ExportedHandler<Env>;
