/**
 * Small shared pieces of the pages: problem messages, money, times, tables.
 */

import { html } from "htm/preact";
import type { ComponentChildren, VNode } from "preact";
import type { ApiProblem } from "./api";
import { formatDateTime, formatMoney, formatRelative } from "./format";
import type { Money } from "./types";

/** A failed call: the server's problem detail, its code and status, and any field errors. */
export function ProblemMessage({ problem, title }: { problem: ApiProblem | undefined; title?: string }): VNode | null {
  if (!problem) return null;
  const fields = problem.fieldErrors;
  return html`<div class="problem" role="alert">
    <p><strong>${title ?? "Something went wrong"}:</strong> ${problem.detail}${" "}
      ${problem.status > 0 ? html`<span class="muted">(${problem.status} ${problem.code})</span>` : null}</p>
    ${fields.length > 0 ? html`<ul>${fields.map((f) => html`<li><code>${f.path}</code>: ${f.message}</li>`)}</ul>` : null}
  </div>`;
}

/** Money in its currency's format. */
export function MoneyText({ money }: { money: Money }): VNode {
  return html`<span class="money">${formatMoney(money)}</span>`;
}

/** A timestamp in the browser's time zone, with the exact UTC instant as its machine value. */
export function Time({ iso, relative = false }: { iso: string | null | undefined; relative?: boolean }): VNode {
  if (!iso) return html`<span class="muted">—</span>`;
  return html`<time datetime=${iso} title=${iso}>${formatDateTime(iso)}${relative ? html` <span class="muted">(${formatRelative(iso)})</span>` : null}</time>`;
}

/** A table that scrolls sideways on a narrow screen instead of overflowing the page. */
export function Table({
  caption,
  head,
  children,
  label,
}: {
  caption?: string;
  label?: string;
  head: string[];
  children: ComponentChildren;
}): VNode {
  return html`<div class="table-wrap" role="region" aria-label=${label ?? caption ?? "Table"} tabindex="0">
    <table>
      ${caption ? html`<caption>${caption}</caption>` : null}
      <thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
      <tbody>${children}</tbody>
    </table>
  </div>`;
}

/** "Updated 10:42:07" (and "refreshing…" while a refresh runs). */
export function Freshness({ updatedAt, loading }: { updatedAt: Date | undefined; loading: boolean }): VNode {
  return html`<span class="freshness muted">${updatedAt ? `Updated ${updatedAt.toLocaleTimeString()}` : ""}${loading ? " · refreshing…" : ""}</span>`;
}

/** Order and product status as a small badge. */
export function Status({ status }: { status: string }): VNode {
  return html`<span class=${`badge badge-${status}`}>${status.replace("_", " ")}</span>`;
}
