// Builds the API reference page (apidocs/) into build/assets/docs, beside the dashboard: /docs/ is
// apidocs/index.html, and reference.js (with its chunks/) and reference.css are Scalar's API
// reference (@scalar/api-reference, Vue) bundled by esbuild from node_modules, so the page needs
// no other origin; it renders the document the Worker serves at /v1/openapi.json. The bundled
// packages' licences go to licenses.txt; apidocs/_headers (the page's CSP) is added to the
// assets' _headers file by build-admin.mjs, which calls buildDocs() after building the dashboard
// (so npm run build:admin, and with it dev, test, build and deploy, build both).
// The bundle is large (Scalar, Vue, CodeMirror, ...) and takes seconds to build, so it is kept in
// node_modules/.cache keyed by its inputs (apidocs/, this file, package-lock.json) and copied
// from there while they are unchanged; build/assets/docs itself is left alone while it holds the
// current build (build/.docs-build names it), so a running `npm run dev` keeps serving it while
// another build (npm test's) runs. The output is generated and git-ignored.
//   node scripts/build-docs.mjs     one build into build/assets/docs (npm run build:docs)
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const source = path.join(root, "apidocs");
const assetsDir = path.join(root, "build", "assets");
const outDir = path.join(assetsDir, "docs");
const cacheRoot = path.join(root, "node_modules", ".cache", "edgecart-docs");
/** The page's response headers (CSP), appended to build/assets/_headers by build-admin.mjs. */
export const docsHeadersFile = path.join(source, "_headers");

/** What the build depends on: the page's sources, this script and the installed packages. */
function inputsKey() {
  const hash = createHash("sha256");
  const files = [fileURLToPath(import.meta.url), path.join(root, "package-lock.json")];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else files.push(full);
    }
  };
  walk(source);
  for (const file of files) {
    hash.update(path.relative(root, file));
    hash.update("\0");
    hash.update(fs.readFileSync(file));
    hash.update("\0");
  }
  return hash.digest("hex").slice(0, 16);
}

const options = (outdir) => ({
  absWorkingDir: root,
  entryPoints: { reference: path.join(source, "src", "main.ts") },
  outdir,
  bundle: true,
  // Scalar loads its rarely used parts (the API client, code editors, icons) on demand: chunks.
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  format: "esm",
  platform: "browser",
  target: ["es2022", "chrome111", "firefox111", "safari16.4"],
  minify: true,
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
  // Vue's production build, as its bundler guide asks.
  define: {
    "process.env.NODE_ENV": '"production"',
    __VUE_OPTIONS_API__: "true",
    __VUE_PROD_DEVTOOLS__: "false",
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: "false",
  },
});

/** The licences of the packages in the bundle (the metafile's node_modules inputs). */
function licenses(metafile) {
  const packages = new Map();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) packages.set(match[1], `${input.slice(0, match.index)}node_modules/${match[1]}`);
  }
  const sections = [...packages]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, rel]) => {
      const dir = path.join(root, rel);
      const { version, license } = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
      const file = fs.readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
      const text = file ? fs.readFileSync(path.join(dir, file), "utf8").trim() : `(${license})`;
      return `${name} ${version} (${license})\n\n${text}\n`;
    });
  return `Third-party software in the API reference (reference.js, chunks/, reference.css)\n\n${sections.join(`\n${"-".repeat(72)}\n\n`)}`;
}

/** Total bytes of a folder's files, raw and gzipped, and of the files the page loads first. */
async function sizes(dir) {
  const { gzipSync } = await import("node:zlib");
  let raw = 0;
  let gzip = 0;
  const walk = (d) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.(js|css)$/.test(entry.name)) {
        const bytes = fs.readFileSync(full);
        raw += bytes.length;
        gzip += gzipSync(bytes).length;
      }
    }
  };
  walk(dir);
  const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
  return `${kib(raw)} of JS and CSS (${kib(gzip)} gzip)`;
}

/** Builds (or copies from the cache) build/assets/docs. */
export async function buildDocs({ log = console.log } = {}) {
  const started = performance.now();
  const key = inputsKey();
  const cached = path.join(cacheRoot, key);
  let how = "copied from the cache";
  if (!fs.existsSync(path.join(cached, "reference.js"))) {
    how = "built";
    const partial = `${cacheRoot}.partial-${process.pid}`;
    fs.rmSync(partial, { recursive: true, force: true });
    const result = await esbuild.build(options(partial));
    fs.copyFileSync(path.join(source, "index.html"), path.join(partial, "index.html"));
    fs.writeFileSync(path.join(partial, "licenses.txt"), licenses(result.metafile));
    fs.mkdirSync(cacheRoot, { recursive: true });
    // Older builds go: only this one is kept.
    for (const old of fs.readdirSync(cacheRoot)) fs.rmSync(path.join(cacheRoot, old), { recursive: true, force: true });
    fs.renameSync(partial, cached);
  }
  // build/assets/docs is replaced only when it holds another build (keyed outside the assets).
  const marker = path.join(root, "build", ".docs-build");
  const current = fs.existsSync(marker) && fs.existsSync(path.join(outDir, "reference.js")) ? fs.readFileSync(marker, "utf8") : "";
  if (current !== key) {
    fs.rmSync(marker, { force: true });
    fs.rmSync(outDir, { recursive: true, force: true });
    fs.cpSync(cached, outDir, { recursive: true });
    fs.writeFileSync(marker, key);
  } else if (how !== "built") how = "unchanged";
  log(`[docs] build/assets/docs ${how} in ${Math.round(performance.now() - started)} ms: ${await sizes(outDir)}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildDocs().catch((error) => {
    console.error(`[docs] build failed: ${error?.message ?? error}`);
    process.exit(1);
  });
}
