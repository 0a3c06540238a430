/**
 * The zod schemas at every boundary: request bodies, params and queries, responses (for the
 * OpenAPI document), KV entries and queue messages, one file per resource under contracts/.
 * Types are derived with z.infer; this module is the one import for all of them.
 */
export * from "./contracts/carts";
export * from "./contracts/catalog";
export * from "./contracts/common";
export * from "./contracts/inventory";
export * from "./contracts/orders";
export * from "./contracts/problems";
export * from "./contracts/promotions";
export * from "./contracts/reports";
export * from "./contracts/storefront-keys";
export * from "./contracts/stripe";
export * from "./contracts/webhooks";
