// npm run openapi [-- --check]: writes docs/openapi.json, the OpenAPI 3.1 document of the API,
// built from the route table exactly as the Worker builds what GET /v1/openapi.json serves (the
// route table's modules reach no Durable Object class, so they bundle and run in Node).
// It then writes client/src/schema.d.ts, the typed client's types, from it (client/scripts/generate.mjs).
// --check: fails (exit 1) when docs/openapi.json differs from what the code produces (CI).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const target = path.join(root, "docs", "openapi.json");

/** The document as the code produces it, pretty-printed with a final newline. */
export async function produce() {
  const out = path.join(root, "node_modules", ".cache", "edgecart-openapi.mjs");
  await build({
    stdin: {
      contents: 'export { routes } from "./src/router.ts"; export { buildOpenApi } from "./src/http/openapi.ts";',
      resolveDir: root,
      loader: "ts",
    },
    bundle: true,
    format: "esm",
    platform: "node",
    outfile: out,
    logLevel: "error",
    external: ["cloudflare:*"],
  });
  const { routes, buildOpenApi } = await import(`${pathToFileURL(out).href}?t=${Date.now()}`);
  return `${JSON.stringify(buildOpenApi(routes), null, 2)}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const document = await produce();
  if (process.argv.includes("--check")) {
    const committed = fs.existsSync(target) ? fs.readFileSync(target, "utf8") : "";
    if (committed !== document) {
      console.error("docs/openapi.json differs from what the code produces: run `npm run openapi` and commit it");
      process.exit(1);
    }
  } else {
    fs.writeFileSync(target, document);
    console.log(`wrote ${path.relative(root, target)} (${document.length} bytes)`);
    // The typed client's types follow the document (npm run client:generate; CI checks both).
    const { write } = await import("../client/scripts/generate.mjs");
    const client = await write();
    console.log(`wrote ${path.relative(root, client.path)} (${client.bytes} bytes)`);
  }
}
