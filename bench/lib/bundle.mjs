// The production bundle, built as `wrangler deploy --dry-run` builds it (the root wrangler.toml), with
// esbuild's metafile: its size, gzip size and largest contributors. Shared by the bench runner and
// bench/check-prod-bundle.mjs.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { root } from "../../scripts/lib/config.mjs";

export const METAFILE = "bundle-meta.json";
const MODULE = /\.(m?js|cjs|wasm)$/;

/** Runs `wrangler deploy --dry-run --outdir <outdir> --metafile` on the production config. */
export function buildProductionBundle(outdir) {
  fs.mkdirSync(outdir, { recursive: true });
  const run = spawnSync(
    process.execPath,
    [
      path.join(root, "node_modules/wrangler/bin/wrangler.js"),
      "deploy",
      "--dry-run",
      "-c",
      path.join(root, "wrangler.toml"),
      "--outdir",
      outdir,
      "--metafile",
      path.join(outdir, METAFILE),
    ],
    {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", DO_NOT_TRACK: "1", CLOUDFLARE_CF_FETCH_ENABLED: "false", FORCE_COLOR: "0" },
    },
  );
  if (run.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${run.stdout}\n${run.stderr}`);
  return { stdout: run.stdout };
}

/** The bundle's modules (file names in `outdir`). */
export function bundleModules(outdir) {
  return fs
    .readdirSync(outdir)
    .filter((name) => MODULE.test(name))
    .sort();
}

/** Who contributed an input file: its npm package, or its folder in the repository. */
function contributor(input) {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  if (pkg) return pkg[1];
  const clean = input.replace(/^(\.\.\/)+/, "").replace(/^[^:]+:/, "");
  const dir = path.posix.dirname(clean);
  return dir === "." ? clean : `${dir}/`;
}

/**
 * Size of the bundle in `outdir`: bytes and gzip bytes of its modules (their concatenation at
 * zlib's default level, as wrangler's "Total Upload" reports it), and from the metafile the
 * largest contributors by bytes in the output.
 */
export function bundleReport(outdir, { wranglerStdout = "", top = 12 } = {}) {
  const modules = bundleModules(outdir);
  const content = Buffer.concat(modules.map((name) => fs.readFileSync(path.join(outdir, name))));
  const line = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(wranglerStdout);
  let contributors = null;
  const metaPath = path.join(outdir, METAFILE);
  if (fs.existsSync(metaPath)) {
    const meta = JSON.parse(fs.readFileSync(metaPath, "utf8"));
    const totals = new Map();
    for (const output of Object.values(meta.outputs ?? {})) {
      for (const [input, { bytesInOutput }] of Object.entries(output.inputs ?? {})) {
        const who = contributor(input);
        totals.set(who, (totals.get(who) ?? 0) + bytesInOutput);
      }
    }
    const all = [...totals.values()].reduce((a, b) => a + b, 0);
    contributors = [...totals.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, bytes]) => ({ name, bytes, share: all > 0 ? Math.round((bytes / all) * 1000) / 10 : null }));
  }
  return {
    modules,
    bytes: content.length,
    gzip_bytes: zlib.gzipSync(content).length,
    wrangler_report: line ? `${line[1]} KiB / gzip: ${line[2]} KiB` : null,
    contributors,
  };
}
