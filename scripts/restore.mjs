// npm run restore [-- SKU ...] [--url URL]
// Disaster recovery: rebuilds the SKU objects' on_hand (and catalog entries) from the levels
// Postgres last saw (POST /v1/admin/maintenance/restore-inventory). Without SKUs, every SKU.
import { baseUrl, setting } from "./lib/config.mjs";

const argv = process.argv.slice(2);
const skus = argv.filter((a) => !a.startsWith("--") && !/^https?:/.test(a));
const url = baseUrl(argv);

const response = await fetch(`${url}/v1/admin/maintenance/restore-inventory`, {
  method: "POST",
  headers: { authorization: `Bearer ${setting("ADMIN_TOKEN")}`, "content-type": "application/json" },
  body: JSON.stringify(skus.length > 0 ? { skus } : {}),
}).catch((error) => {
  console.error(`restore: no edgecart at ${url} (${error.message})`);
  process.exit(1);
});
const result = await response.json();
if (!response.ok) {
  console.error(`restore: ${response.status} ${JSON.stringify(result)}`);
  process.exit(1);
}
for (const row of result.data)
  console.log(`restore: ${row.sku} on_hand=${row.on_hand} ${row.outcome}${row.reason ? ` (${row.reason})` : ""}`);
console.log(`restore: ${result.restored} restored, ${result.skipped} skipped`);
