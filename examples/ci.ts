/**
 * npm run example:ci: runs the example storefront (examples/storefront.ts) against a fresh
 * `npm run dev` (e2e/dev-server.ts, as the end-to-end tests start it: a free port, fresh state),
 * seeded first with `npm run seed`, and stops the server afterwards. The server and the example
 * share a PAYMENT_WEBHOOK_SECRET made for this run. Exits with the example's code (1 when the
 * server or the seed fails); the server's log is artifacts/example/dev-server.log. CI runs this.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { startDevServer } from "../e2e/dev-server.ts";

const root = path.resolve(import.meta.dirname, "..");
const logFile = path.join(root, "artifacts", "example", "dev-server.log");

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env, stdio: "inherit" });
    child.once("error", (error) => {
      console.error(`example:ci: ${command} did not start: ${error.message}`);
      resolve(1);
    });
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const secret = `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64")}`;
console.log("example:ci: starting npm run dev (fresh state, a free port)");
const server = await startDevServer({ logFile, env: { PAYMENT_WEBHOOK_SECRET: secret } });
console.log(`example:ci: npm run dev is ready at ${server.baseUrl}`);
let stopping: Promise<void> | undefined;
const stop = () => (stopping ??= server.stop());
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void stop().then(() => process.exit(1)));
}

let status = 1;
try {
  const env = { ...process.env, PORT: String(server.port), ADMIN_TOKEN: server.adminToken, PAYMENT_WEBHOOK_SECRET: secret };
  if ((await run("npm", ["run", "--silent", "seed"], env)) !== 0) {
    console.error("example:ci: npm run seed failed");
  } else {
    status = await run(process.execPath, [path.join(root, "examples", "storefront.ts"), "--base", server.baseUrl], env);
  }
} finally {
  await stop();
}
console.log(
  `example:ci: the example storefront ${status === 0 ? "completed the purchase" : `FAILED (exit ${status}); server log: ${path.relative(root, logFile)}`}`,
);
process.exit(status);
