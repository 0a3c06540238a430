// CI check: the production Worker's bundle carries no bench code.
//
//   node bench/check-prod-bundle.mjs                 builds it (wrangler deploy --dry-run on
//                                                    the root wrangler.toml, into a temp folder)
//   node bench/check-prod-bundle.mjs --outdir DIR    reads a dry-run output already in DIR
//                                                    (e.g. from `npm run build`: dist/)
//
// Fails (exit 1) when any module of the bundle contains a bench route or method: the strings
// below. The bench lives in its own Worker (bench/wrangler.toml, bench/worker/).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { buildProductionBundle, bundleModules, bundleReport } from "./lib/bundle.mjs";

export const FORBIDDEN = [
  "/bench/",
  "benchHolds",
  "benchTimeHolds",
  "benchConfigure",
  "BenchInventoryObject",
  "BenchCartObject",
  "BareCartObject",
  "BareSkuObject",
  "benchRtt",
  "edgecart_bench",
  "BENCH_ROUTES",
  "BENCH_LOG",
];

const { values } = parseArgs({ options: { outdir: { type: "string" }, help: { type: "boolean", short: "h" } } });
if (values.help) {
  process.stdout.write("node bench/check-prod-bundle.mjs [--outdir DIR]\n");
  process.exit(0);
}

let outdir = values.outdir ? path.resolve(values.outdir) : null;
let temp = null;
let stdout = "";
try {
  if (outdir === null) {
    temp = fs.mkdtempSync(path.join(os.tmpdir(), "edgecart-prod-bundle-"));
    outdir = temp;
    ({ stdout } = buildProductionBundle(outdir));
  }
  const modules = bundleModules(outdir);
  if (modules.length === 0) throw new Error(`no bundle modules in ${outdir}`);
  const found = [];
  for (const name of modules) {
    const text = fs.readFileSync(path.join(outdir, name), "latin1");
    for (const needle of FORBIDDEN) {
      let at = text.indexOf(needle);
      let shown = 0;
      while (at >= 0 && shown < 3) {
        found.push(
          `${name}: "${needle}" at byte ${at}: …${text.slice(Math.max(0, at - 50), at + needle.length + 50).replace(/\s+/g, " ")}…`,
        );
        shown++;
        at = text.indexOf(needle, at + needle.length);
      }
    }
  }
  const report = bundleReport(outdir, { wranglerStdout: stdout });
  console.log(
    `production bundle: ${report.modules.join(", ")}: ${(report.bytes / 1024).toFixed(1)} KiB, gzip ${(report.gzip_bytes / 1024).toFixed(1)} KiB`,
  );
  if (found.length > 0) {
    console.error(`FAIL: the production bundle contains bench code (${FORBIDDEN.join(", ")} are forbidden):`);
    for (const line of found) console.error(`  ${line}`);
    process.exitCode = 1;
  } else {
    console.log(`ok: none of ${FORBIDDEN.join(", ")} in the production bundle`);
  }
} catch (error) {
  console.error(`check-prod-bundle: ${error.message}`);
  process.exitCode = 2;
} finally {
  if (temp) fs.rmSync(temp, { recursive: true, force: true });
}
