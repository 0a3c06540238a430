/**
 * The queues this Worker consumes and the crons it runs (wrangler.toml), by their exact names:
 * src/index.ts dispatches on these and refuses anything else.
 */

/** Paid orders, from the cart objects' outboxes to Postgres (sync/archival.ts). */
export const ORDERS_QUEUE = "edgecart-orders";
/** Archival messages that could not be archived (sync/dead-letters.ts). */
export const ORDERS_DLQ = "edgecart-orders-dlq";
/** Stock levels reported by the SKU objects (sync/levels.ts). */
export const INVENTORY_QUEUE = "edgecart-inventory";
/** Outgoing webhooks: order events, level reports and delivery attempts (sync/webhooks.ts). */
export const WEBHOOKS_QUEUE = "edgecart-webhooks";
/** Webhook deliveries that failed every attempt, and messages Queues gave up on (sync/webhooks.ts). */
export const WEBHOOKS_DLQ = "edgecart-webhooks-dlq";

/**
 * Every minute: republish catalog changes whose edge publish failed, then rebuild the KV catalog
 * index (sync/catalog-publish.ts); republish promotions the edge lacks and rewrite the automatic
 * promotions and the tax table (sync/promotions-publish.ts).
 */
export const CATALOG_OUTBOX_CRON = "* * * * *";
/** Every 15 minutes: snapshot every SKU object's levels into Postgres (sync/levels.ts). */
export const LEVEL_SNAPSHOT_CRON = "*/15 * * * *";
