/**
 * Entry of the back-office dashboard, served by the Worker at /admin/ (Workers static assets).
 */
import "uplot/dist/uPlot.min.css";
import "./styles.css";
import { html, render } from "htm/preact";
import { App } from "./app";

const root = document.getElementById("app");
if (root) {
  root.textContent = "";
  render(html`<${App} />`, root);
}
