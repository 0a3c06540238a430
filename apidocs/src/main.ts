/**
 * The API reference at /docs/: Scalar's API reference, bundled with the project (nothing is
 * loaded from elsewhere), rendering the document the Worker serves at /v1/openapi.json.
 *
 * zod (which Scalar validates its configuration with) would otherwise probe for `new Function`
 * the first time it parses, which the page's CSP (no 'unsafe-eval') refuses and reports as a
 * violation; jitless, it validates the same way without generated code. It is set before the
 * reference's modules are even evaluated: they are imported only afterwards.
 */
import { config } from "zod";

config({ jitless: true });
await import("./reference");
