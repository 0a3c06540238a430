/** Stylesheets imported for their side effect: esbuild bundles them into reference.css. */
declare module "*.css";
