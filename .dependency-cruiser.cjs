/**
 * The layers of src/ (docs/architecture.md "Layers"), enforced in CI by `npm run lint`.
 * Imports only point down:
 *   index.ts, router.ts → routes/, http/ → sync/, db/ → objects/ → services/ → domain/ → contracts.ts → platform/
 * Every rule below is one sentence of that picture.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "No import cycles anywhere, type-only imports included.",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "platform-depends-on-nothing",
      severity: "error",
      comment: "platform/ (logging, crypto, backoff) imports nothing of ours.",
      from: { path: "^src/platform/" },
      to: { path: "^src/", pathNot: "^src/platform/" },
    },
    {
      name: "contracts-only-platform",
      severity: "error",
      comment: "contracts.ts (and the contracts/ it gathers) imports only platform/ and zod.",
      from: { path: "^src/contracts(\\.ts$|/)" },
      to: { path: "^src/", pathNot: "^src/(platform/|contracts/)" },
    },
    {
      name: "config-only-platform",
      severity: "error",
      comment: "config.ts (settings from vars) imports only platform/ and zod.",
      from: { path: "^src/config\\.ts$" },
      to: { path: "^src/", pathNot: "^src/platform/" },
    },
    {
      name: "domain-is-pure",
      severity: "error",
      comment: "domain/ holds pure rules: it imports only contracts.ts, platform/ and itself.",
      from: { path: "^src/domain/" },
      to: { path: "^src/", pathNot: "^src/(domain/|platform/|contracts\\.ts$|contracts/)" },
    },
    {
      name: "domain-no-runtime-packages",
      severity: "error",
      comment: "domain/ uses no storage, network or runtime package (zod for types at most).",
      from: { path: "^src/domain/" },
      to: { dependencyTypes: ["npm", "npm-dev", "core", "unknown"], pathNot: "node_modules/zod/" },
    },
    {
      name: "objects-below-http-and-db",
      severity: "error",
      comment: "objects/ import domain/, contracts.ts, platform/, config.ts and each other; never http/, routes/, db/ or sync/.",
      from: { path: "^src/objects/" },
      to: { path: "^src/(http|routes|db|sync)/|^src/(router|index)\\.ts$" },
    },
    {
      name: "services-below-objects",
      severity: "error",
      comment:
        "services/ (the edge's clients of outside things: settings in KV, the tax service) sit below objects and sync: they import only config, domain, contracts and platform.",
      from: { path: "^src/services/" },
      to: { path: "^src/(objects|sync|db|http|routes)/|^src/(router|index)\\.ts$" },
    },
    {
      name: "db-and-sync-below-http",
      severity: "error",
      comment: "db/ and sync/ never import http/ or routes/.",
      from: { path: "^src/(db|sync)/" },
      to: { path: "^src/(http|routes)/|^src/(router|index)\\.ts$" },
    },
    {
      name: "db-and-sync-reach-objects-by-stubs",
      severity: "error",
      comment: "db/ and sync/ reach objects only through the typed stubs, never their classes.",
      from: { path: "^src/(db|sync)/" },
      to: { path: "^src/objects/", pathNot: "^src/objects/stubs\\.ts$" },
    },
    {
      name: "db-below-sync",
      severity: "error",
      comment: "db/ is queries only: it never imports sync/ or objects/.",
      from: { path: "^src/db/" },
      to: { path: "^src/(sync|objects)/" },
    },
    {
      name: "http-reaches-no-object",
      severity: "error",
      comment: "http/ knows HTTP only; it reaches objects through interfaces the route table supplies.",
      from: { path: "^src/http/" },
      to: { path: "^src/(routes|objects|db|sync)/|^src/(router|index)\\.ts$" },
    },
    {
      name: "routes-do-not-import-routes",
      severity: "error",
      comment: "Each route file stands alone; what routes share lives in http/.",
      from: { path: "^src/routes/([^/]+)\\.ts$" },
      to: { path: "^src/routes/", pathNot: "^src/routes/$1\\.ts$" },
    },
    {
      name: "routes-reach-objects-by-stubs",
      severity: "error",
      comment: "routes/ reach objects through the typed stubs, never their classes.",
      from: { path: "^src/routes/" },
      to: { path: "^src/objects/", pathNot: "^src/objects/stubs\\.ts$" },
    },
    {
      name: "entry-is-the-top",
      severity: "error",
      comment: "Nothing imports the entry module; only the entry imports the route table.",
      from: { path: "^src/", pathNot: "^src/index\\.ts$" },
      to: { path: "^src/(index|router)\\.ts$" },
    },
    {
      name: "no-unresolvable",
      severity: "error",
      from: { path: "^src/" },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    parser: "swc",
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types", "workerd", "worker"],
    },
    builtInModules: { add: ["cloudflare:workers", "cloudflare:test", "cloudflare:sockets"] },
  },
};
