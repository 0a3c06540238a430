/**
 * Promotions: the list (by id, filtered by status or code), a new promotion's form, and one
 * promotion's page: what it does, its redemptions held and committed (refreshed while visible),
 * the edit form, and deleting it (carts stop applying it; its code stays taken).
 */

import { html } from "htm/preact";
import type { VNode } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiProblem, api, query } from "../api";
import { formatCount } from "../format";
import { href, navigate, useLoad } from "../hooks";
import { describeTarget, describeValue, draftOf, EMPTY_DRAFT } from "../promotion-draft";
import type { Page, PromotionView } from "../types";
import { Freshness, ProblemMessage, Status, Table, Time } from "../ui";
import { PromotionForm } from "./promotion-form";

/** How often a promotion's redemptions refresh while its page is visible. */
const REFRESH_MS = 5000;

function Window({ view }: { view: PromotionView }): VNode {
  if (view.starts_at === null && view.ends_at === null) return html`<span class="muted">always</span>`;
  return html`<span>${view.starts_at ? html`from <${Time} iso=${view.starts_at} />` : "now"}${view.ends_at ? html` until <${Time} iso=${view.ends_at} />` : ", open-ended"}</span>`;
}

function Published({ view }: { view: PromotionView }): VNode {
  return view.published_version >= view.version
    ? html`<span>version ${view.version}</span>`
    : html`<span>version ${view.version} <span class="badge badge-pending">publishing</span></span>`;
}

function PromotionList({ status, code }: { status: string; code: string }): VNode {
  const [pages, setPages] = useState<Array<string | undefined>>([undefined]);
  const loaded = useLoad(async (signal) => {
    const all: PromotionView[] = [];
    let next: string | null = null;
    for (const cursor of pages) {
      const page: Page<PromotionView> = await api<Page<PromotionView>>(
        "GET",
        `/v1/admin/promotions${query({ limit: 50, status, code, cursor })}`,
        { signal },
      );
      all.push(...page.data);
      next = page.next_cursor;
    }
    return { promotions: all, next };
  }, `${status}|${code}|${pages.length}`);
  const promotions = loaded.data?.promotions ?? [];
  return html`<section class="card" aria-labelledby="promotions-title">
    <div class="page-head">
      <h2 id="promotions-title">${code ? `Code ${code.toUpperCase()}` : status ? `${status[0]!.toUpperCase()}${status.slice(1)} promotions` : "All promotions"} <span class="muted">(by id)</span></h2>
      <button type="button" class="secondary" onClick=${loaded.reload}>Refresh</button>
    </div>
    <${ProblemMessage} problem=${loaded.error} title="Promotions could not be loaded" />
    <${Table} label="Promotions" head=${["Promotion", "Code", "Value", "Applies to", "Window", "Status", "Priority", "Edge"]}>
      ${loaded.data && promotions.length === 0 ? html`<tr><td colspan="8" class="muted">No promotions.</td></tr>` : null}
      ${promotions.map(
        (p) => html`<tr data-promotion=${p.id}>
          <td><a href=${href(["promotions", p.id])}>${p.id}</a></td>
          <td>${p.code ? html`<code>${p.code}</code>` : html`<span class="muted">automatic</span>`}</td>
          <td>${describeValue(p)}</td>
          <td>${describeTarget(p)}</td>
          <td><${Window} view=${p} /></td>
          <td><${Status} status=${p.status} /></td>
          <td class="num">${p.priority}</td>
          <td><${Published} view=${p} /></td>
        </tr>`,
      )}
    <//>
    ${loaded.data?.next ? html`<button type="button" class="secondary" onClick=${() => setPages([...pages, loaded.data!.next!])}>Load more</button>` : null}
  </section>`;
}

function CodeSearch({ code }: { code: string }): VNode {
  const [text, setText] = useState(code);
  useEffect(() => setText(code), [code]);
  return html`<form class="card controls" role="search" aria-label="Find a promotion by code" onSubmit=${(e: Event) => {
    e.preventDefault();
    navigate(href(["promotions"], { code: text.trim() }));
  }}>
    <div class="field wide"><label for="code-search">Code</label>
      <input id="code-search" name="code" type="search" autocomplete="off" spellcheck=${false} pattern="[A-Za-z0-9_\\-]{1,40}" placeholder="e.g. SUMMER10"
        value=${text} onInput=${(e: Event) => setText((e.target as HTMLInputElement).value)} /></div>
    <button type="submit">Find</button>
  </form>`;
}

function Redemptions({ view }: { view: PromotionView }): VNode {
  const r = view.redemptions;
  if (!r) return html`<p class="muted">The redemption counts could not be read just now.</p>`;
  return html`<dl class="figures" aria-label="Redemptions">
    <div><dt>Held by carts and orders</dt><dd data-field="held">${formatCount(r.held)}</dd></div>
    <div><dt>Committed (paid)</dt><dd data-field="committed">${formatCount(r.committed)}</dd></div>
    <div><dt>Left of the limit</dt><dd data-field="left">${view.usage_limit === null ? "no limit" : formatCount(Math.max(0, view.usage_limit - r.held - r.committed))}</dd></div>
  </dl>`;
}

function DeleteButton({ view }: { view: PromotionView }): VNode {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<ApiProblem | undefined>();
  const remove = async () => {
    setBusy(true);
    setProblem(undefined);
    try {
      await api<void>("DELETE", `/v1/admin/promotions/${encodeURIComponent(view.id)}`);
      navigate(href(["promotions"], { deleted: view.id }));
    } catch (error) {
      setProblem(error instanceof ApiProblem ? error : new ApiProblem(0, "client", String(error)));
    } finally {
      setBusy(false);
    }
  };
  return html`<section class="card stack" aria-label="Delete">
    ${
      confirming
        ? html`<div class="confirm" role="group" aria-label="Confirm deleting">
          <p>Delete ${view.id}? Carts stop applying it, it leaves this list${view.code ? html`, and its code <code>${view.code}</code> can never be given to another promotion` : ""}.</p>
          <button type="button" class="danger" disabled=${busy} onClick=${remove}>Delete promotion</button>
          <button type="button" class="secondary" onClick=${() => setConfirming(false)}>Cancel</button>
        </div>`
        : html`<div class="actions"><button type="button" class="danger" onClick=${() => setConfirming(true)}>Delete…</button></div>`
    }
    <${ProblemMessage} problem=${problem} title="Not deleted" />
  </section>`;
}

function PromotionDetail({ id }: { id: string }): VNode {
  const loaded = useLoad(
    (signal) => api<PromotionView>("GET", `/v1/admin/promotions/${encodeURIComponent(id)}`, { signal }),
    id,
    REFRESH_MS,
  );
  const view = loaded.data;
  return html`<div class="page">
    <p><a href="#/promotions">← All promotions</a></p>
    <div class="page-head"><h1 tabindex="-1">${id}</h1>${view ? html`<${Status} status=${view.status} />` : null}</div>
    <${ProblemMessage} problem=${loaded.error} title="The promotion could not be loaded" />
    ${
      view
        ? html`<section class="card" aria-label="Promotion">
            <div class="page-head"><h2>${view.code ? html`Code <code>${view.code}</code>` : "Automatic promotion"}</h2><${Freshness} updatedAt=${loaded.updatedAt} loading=${false} /></div>
            <dl class="details">
              <div><dt>Value</dt><dd data-field="value">${describeValue(view)}</dd></div>
              <div><dt>Applies to</dt><dd>${describeTarget(view)}</dd></div>
              <div><dt>Window</dt><dd><${Window} view=${view} /></dd></div>
              <div><dt>Usage limit</dt><dd>${view.usage_limit === null ? "none" : formatCount(view.usage_limit)}</dd></div>
              <div><dt>Priority</dt><dd>${view.priority}${view.combinable ? ", combinable" : ", applies alone"}</dd></div>
              <div><dt>Version</dt><dd data-field="version"><${Published} view=${view} /></dd></div>
              <div><dt>Updated</dt><dd><${Time} iso=${view.updated_at} /></dd></div>
            </dl>
            <h3>Redemptions</h3>
            <${Redemptions} view=${view} />
          </section>
          <${PromotionForm} initial=${draftOf(view)} creating=${false} key=${view.id} onSaved=${loaded.reload} />
          <${DeleteButton} view=${view} />`
        : null
    }
  </div>`;
}

/** The promotions page: `#/promotions?status=&code=&new=1`, or one promotion at `#/promotions/<id>`. */
export function Promotions({ id, params }: { id: string | undefined; params: URLSearchParams }): VNode {
  if (id) return html`<${PromotionDetail} id=${id} key=${id} />`;
  const status = params.get("status") ?? "";
  const code = params.get("code") ?? "";
  const deleted = params.get("deleted");
  const creating = params.get("new") === "1";
  return html`<div class="page">
    <div class="page-head"><h1 tabindex="-1">Promotions</h1>${creating ? null : html`<a class="chip" href=${href(["promotions"], { new: "1" })}>New promotion</a>`}</div>
    ${deleted ? html`<p class="success" role="status">Deleted ${deleted}: carts no longer apply it.</p>` : null}
    ${
      creating
        ? html`<${PromotionForm} initial=${EMPTY_DRAFT} creating=${true} onSaved=${(view: PromotionView) => navigate(href(["promotions", view.id]))} />`
        : null
    }
    <nav class="card controls" aria-label="Filter promotions by status">
      ${[
        ["", "All"],
        ["active", "Active"],
        ["archived", "Archived"],
      ].map(
        ([value, label]) =>
          html`<a class="chip" href=${href(["promotions"], { status: value })} aria-current=${!code && status === value ? "page" : undefined}>${label}</a>`,
      )}
    </nav>
    <${CodeSearch} code=${code} />
    <${PromotionList} status=${status} code=${code} key=${`${status}|${code}`} />
  </div>`;
}
