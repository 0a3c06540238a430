/** Mounts Scalar's API reference on #reference (loaded by main.ts). */
import { createApiReference } from "@scalar/api-reference";
import "@scalar/api-reference/style.css";

createApiReference("#reference", {
  url: "/v1/openapi.json",
  // Requests (examples, "Test request") go to the server that serves this page: the document's
  // own servers (npm run dev's port, a deployment) are other origins, which the CSP refuses.
  servers: [{ url: window.location.origin, description: "This server" }],
  // Every call stays on this origin (the CSP's connect-src 'self'): no web fonts, no proxy, no
  // Scalar services (agent, MCP, telemetry); "Test request" calls the API on this origin.
  withDefaultFonts: false,
  telemetry: false,
  agent: { disabled: true },
  mcp: { disabled: true },
  showDeveloperTools: "never",
  // Every tag open and every operation id shown, so each operation can be found on the page.
  defaultOpenAllTags: true,
  showOperationId: true,
  documentDownloadType: "json",
});
