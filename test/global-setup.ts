// Starts the Postgres the tests use and the WebSocket relay the Neon driver reaches it through, and
// a tax service stub (scripts/tax-stub.mjs) on loopback whose /tax URL is provided as
// `taxServiceUrl` (vitest.config.ts binds it as TAX_SERVICE_URL). Each project runs this once, so
// each has its own database, relay and stub.
// Default: embedded PGlite (nothing to install). With TEST_DATABASE_URL (a server, e.g.
// postgres://postgres@127.0.0.1:5432/postgres) a fresh database is created for this run and
// dropped afterwards.
import type { TestProject } from "vitest/node";
import { createScratchDatabase, migrate, startEmbeddedPostgres } from "../scripts/lib/postgres.mjs";
import { startRelay } from "../scripts/lib/relay.mjs";
import { startTaxStub } from "../scripts/tax-stub.mjs";
import { startWebhookReceiver } from "./lib/webhook-receiver";
import { TEST_TAX_RATE_BP, TEST_TAX_SERVICE_SECRET } from "./secrets.ts";

declare module "vitest" {
  interface ProvidedContext {
    databaseUrl: string;
    databaseWsProxy: string;
    databaseKind: "embedded" | "server";
    taxServiceUrl: string;
    /** A real HTTP receiver for outgoing webhooks on loopback (test/lib/webhook-receiver.ts). */
    webhookReceiver: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  const database = serverUrl ? await createScratchDatabase(serverUrl) : await startEmbeddedPostgres();
  await migrate(database.url);
  // PGlite has one backend shared by every connection: the relay must hand it out one at a time.
  const relay = await startRelay({ serialize: !serverUrl, control: true });
  project.provide("databaseUrl", database.url);
  project.provide("databaseWsProxy", relay.url);
  project.provide("databaseKind", serverUrl ? "server" : "embedded");
  const taxStub = await startTaxStub({ rateBp: TEST_TAX_RATE_BP, secret: TEST_TAX_SERVICE_SECRET });
  project.provide("taxServiceUrl", taxStub.url);
  const receiver = await startWebhookReceiver();
  project.provide("webhookReceiver", receiver.url);
  return async () => {
    await receiver.close();
    await taxStub.close();
    await relay.close();
    if ("drop" in database) await database.drop();
    else await database.close();
  };
}
