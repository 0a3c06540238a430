/**
 * Postgres schema (drizzle). Postgres is the system of record for the catalog and the archive of
 * paid orders for back-office reporting. `npm run db:generate` writes migrations/ from this file
 * (drizzle.config.ts), which gathers the tables of src/db/schema/*.ts.
 * Money columns are integer minor units (bigint) beside an ISO 4217 currency.
 */
export * from "./schema/catalog";
export * from "./schema/inventory";
export * from "./schema/orders";
export * from "./schema/pricing";
export * from "./schema/storefront-keys";
export * from "./schema/webhooks";
