/**
 * edgecart Worker entry: HTTP API, queue consumer and the Durable Object classes.
 */
import { handleWithSeam, requestIdFor } from "./http/dispatch";
import { route } from "./router";

export { CartObject } from "./objects/cart";
export { InventoryObject } from "./objects/inventory";

export default {
  async fetch(request, env, ctx): Promise<Response> {
    const requestId = requestIdFor(request);
    return handleWithSeam(request, requestId, () => route(request, env, ctx, requestId));
  },
} satisfies ExportedHandler<Env>;
