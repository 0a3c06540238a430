// Starts `npm run dev` for the end-to-end tests (e2e/dev-server.ts: a free port, fresh Worker and
// Postgres state, rate limits off, an admin token of its own) and stops it afterwards.
import fs from "node:fs";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { startDevServer } from "./dev-server.ts";

declare module "vitest" {
  interface ProvidedContext {
    baseUrl: string;
    adminToken: string;
    port: number;
  }
}

const root = path.resolve(import.meta.dirname, "..");
export const artifactsDir = path.join(root, "artifacts", "e2e");

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Screenshots and the server log of this run only.
  fs.rmSync(artifactsDir, { recursive: true, force: true });
  fs.mkdirSync(artifactsDir, { recursive: true });
  const server = await startDevServer({ logFile: path.join(artifactsDir, "dev-server.log") });
  project.provide("baseUrl", server.baseUrl);
  project.provide("adminToken", server.adminToken);
  project.provide("port", server.port);
  return server.stop;
}
