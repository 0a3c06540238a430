// Builds the back-office dashboard (admin/) into build/assets, the Worker's static assets
// (wrangler.toml [assets]): /admin/ is admin/index.html, app.js and app.css are bundled by esbuild
// from admin/src with Preact, htm and uPlot from node_modules (nothing is loaded from elsewhere),
// their licences go to licenses.txt, and admin/_headers becomes the assets' _headers file (with
// apidocs/_headers after it). It then builds the API reference page, /docs/ (scripts/build-docs.mjs).
// The output is generated and git-ignored.
//   node scripts/build-admin.mjs            one build (npm run build:admin; run before dev, test, build, deploy)
//   import { buildAdmin } from "./build-admin.mjs"   (scripts/dev.mjs: build, then rebuild on change)
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { buildDocs, docsHeadersFile } from "./build-docs.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const source = path.join(root, "admin");
/** wrangler.toml [assets] directory. */
export const assetsDir = path.join(root, "build", "assets");
const outDir = path.join(assetsDir, "admin");

/** Files copied as they are: [from admin/, to build/assets/]. */
const STATIC = [
  ["index.html", "admin/index.html"],
  ["favicon.svg", "admin/favicon.svg"],
  ["_headers", "_headers"],
];

function copyStatic() {
  for (const [from, to] of STATIC) {
    fs.mkdirSync(path.dirname(path.join(assetsDir, to)), { recursive: true });
    fs.copyFileSync(path.join(source, from), path.join(assetsDir, to));
  }
  // One _headers file serves all the assets: the API reference's rules follow the dashboard's.
  fs.appendFileSync(path.join(assetsDir, "_headers"), `\n${fs.readFileSync(docsHeadersFile, "utf8")}`);
}

const options = {
  absWorkingDir: root,
  entryPoints: { app: path.join(source, "src", "main.ts") },
  outdir: outDir,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022", "chrome111", "firefox111", "safari16.4"],
  minify: true,
  // The bundled libraries' licences go to licenses.txt (writeLicenses) instead.
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
};

/**
 * Writes the licences of the packages bundled into the dashboard (the metafile's node_modules
 * inputs) to build/assets/admin/licenses.txt: the minified bundle keeps no notices of its own.
 */
function writeLicenses(metafile) {
  const packages = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) packages.add(match[1]);
  }
  const sections = [...packages].sort().map((name) => {
    const dir = path.join(root, "node_modules", name);
    const { version, license } = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
    const file = fs.readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
    const text = file ? fs.readFileSync(path.join(dir, file), "utf8").trim() : `(${license})`;
    return `${name} ${version} (${license})\n\n${text}\n`;
  });
  fs.writeFileSync(
    path.join(outDir, "licenses.txt"),
    `Third-party software in app.js and app.css\n\n${sections.join(`\n${"-".repeat(72)}\n\n`)}`,
  );
}

/** Byte sizes of the built files, raw and gzipped, for the log. */
async function sizes() {
  const { gzipSync } = await import("node:zlib");
  return ["app.js", "app.css"].map((name) => {
    const bytes = fs.readFileSync(path.join(outDir, name));
    return `${name} ${(bytes.length / 1024).toFixed(1)} KiB (${(gzipSync(bytes).length / 1024).toFixed(1)} KiB gzip)`;
  });
}

/**
 * Builds the dashboard once into build/assets (replacing what was there). With `watch`, keeps
 * rebuilding on changes under admin/ and returns a function that stops watching.
 */
export async function buildAdmin({ watch = false, log = console.log } = {}) {
  const started = performance.now();
  // Everything but docs/, which buildDocs() replaces only when its build changed (a running
  // wrangler dev keeps serving it while another build, e.g. npm test's, runs).
  for (const entry of fs.existsSync(assetsDir) ? fs.readdirSync(assetsDir) : []) {
    if (entry !== "docs") fs.rmSync(path.join(assetsDir, entry), { recursive: true, force: true });
  }
  copyStatic();
  if (!watch) {
    writeLicenses((await esbuild.build(options)).metafile);
    log(`[admin] built build/assets/admin in ${Math.round(performance.now() - started)} ms: ${(await sizes()).join(", ")}`);
    await buildDocs({ log });
    return async () => {};
  }
  // watch() runs the first build itself; wait for it before returning, so the assets exist.
  let firstBuild;
  const first = new Promise((resolve, reject) => (firstBuild = { resolve, reject }));
  const context = await esbuild.context({
    ...options,
    plugins: [
      {
        name: "static-files",
        setup(build) {
          build.onEnd((result) => {
            if (result.errors.length === 0) writeLicenses(result.metafile);
            if (firstBuild) {
              const done = firstBuild;
              firstBuild = undefined;
              if (result.errors.length > 0) done.reject(new Error(`the dashboard did not build (${result.errors.length} errors)`));
              else done.resolve();
              return;
            }
            if (result.errors.length > 0) return;
            copyStatic();
            log("[admin] rebuilt build/assets/admin");
          });
        },
      },
    ],
  });
  await context.watch();
  try {
    await first;
  } catch (error) {
    await context.dispose();
    throw error;
  }
  log(
    `[admin] built build/assets/admin in ${Math.round(performance.now() - started)} ms (rebuilt on changes): ${(await sizes()).join(", ")}`,
  );
  try {
    await buildDocs({ log });
  } catch (error) {
    await context.dispose();
    throw error;
  }
  const watcher = fs.watch(source, (_event, name) => {
    if (STATIC.some(([from]) => from === name)) copyStatic();
  });
  return async () => {
    watcher.close();
    // Let a rebuild in flight finish first: disposing under it leaves esbuild's service waiting on us.
    await context.cancel();
    await context.dispose();
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildAdmin().catch((error) => {
    console.error(`[admin] build failed: ${error?.message ?? error}`);
    process.exit(1);
  });
}
