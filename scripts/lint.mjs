// npm run lint: the formatter and linter (Biome) over the whole tree, then the layer rules
// (dependency-cruiser, .dependency-cruiser.cjs) over src/. Exits non-zero when either fails.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const run = (label, args) => {
  console.log(`lint: ${label}`);
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: "inherit" });
  return result.status === 0;
};

const biome = run("biome check (format + lint)", ["node_modules/@biomejs/biome/bin/biome", "check", "--error-on-warnings", "."]);
const layers = run("dependency-cruiser (layers, no cycles)", [
  "node_modules/dependency-cruiser/bin/dependency-cruiser.mjs",
  "src",
  "--config",
  ".dependency-cruiser.cjs",
]);
process.exit(biome && layers ? 0 : 1);
