/**
 * Inventory: find a SKU, watch its stock and holds (refreshed every few seconds), set on_hand or
 * adjust it with a reason. Every change shows the server's answer; a refusal is explained.
 */

import { html } from "htm/preact";
import type { VNode } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiProblem, api } from "../api";
import { loadSkuSuggestions } from "../catalog";
import { formatCount } from "../format";
import { href, navigate, useLoad } from "../hooks";
import type { Inventory as Snapshot } from "../types";
import { Freshness, ProblemMessage, Table, Time } from "../ui";

/** How often a SKU's figures refresh while visible. */
const REFRESH_MS = 3000;

const SKU_PATTERN = "[A-Za-z0-9._\\-]{1,64}";

/** The outcome of the last change: the server's answer, or its refusal. */
type Outcome = { ok: true; text: string } | { ok: false; problem: ApiProblem; requested: number | undefined };

function Finder({ sku }: { sku: string | undefined }): VNode {
  const suggestions = useLoad(loadSkuSuggestions, "suggestions");
  const [text, setText] = useState(sku ?? "");
  useEffect(() => setText(sku ?? ""), [sku]);
  return html`<form class="card controls" role="search" onSubmit=${(e: Event) => {
    e.preventDefault();
    const wanted = text.trim();
    if (wanted) navigate(href(["inventory", wanted]));
  }}>
    <div class="field wide"><label for="sku-search">SKU</label>
    <input id="sku-search" name="sku" type="search" list="sku-suggestions" autocomplete="off" spellcheck=${false} required pattern=${SKU_PATTERN}
      placeholder="e.g. APP-CLASSIC-TEE-BLACK-M" value=${text} onInput=${(e: Event) => setText((e.target as HTMLInputElement).value)}
      aria-describedby="sku-search-help" /></div>
    <datalist id="sku-suggestions">
      ${(suggestions.data ?? []).map((s) => html`<option value=${s.sku}>${s.label}</option>`)}
    </datalist>
    <button type="submit">Show stock</button>
    <p id="sku-search-help" class="muted">${suggestions.data ? `${formatCount(suggestions.data.length)} SKUs suggested from the product list.` : "Loading SKU suggestions…"}</p>
    <${ProblemMessage} problem=${suggestions.error} title="SKU suggestions could not be loaded" />
  </form>`;
}

function OutcomeMessage({ outcome }: { outcome: Outcome | undefined }): VNode | null {
  if (!outcome) return null;
  if (outcome.ok) return html`<p class="success" role="status">${outcome.text}</p>`;
  const { problem, requested } = outcome;
  if (problem.code === "below_reserved") {
    const reserved = Number(problem.body.reserved);
    const onHand = Number(problem.body.on_hand);
    return html`<div class="problem" role="alert">
      <p><strong>Refused (${problem.status} below_reserved):</strong> ${problem.detail}</p>
      <p>${formatCount(reserved)} units are reserved by open carts and unpaid orders, and on_hand can never be less than what is reserved.
        ${requested !== undefined ? ` You asked for on_hand ${formatCount(requested)}` : ""}${Number.isFinite(onHand) ? `; it stays at ${formatCount(onHand)}` : ""}.
        Set at least ${formatCount(reserved)}, or wait until holds expire or are released.</p>
    </div>`;
  }
  return html`<${ProblemMessage} problem=${problem} title="Refused" />`;
}

function describe(snapshot: Snapshot, status: string): string {
  return `${status}: on_hand ${formatCount(snapshot.on_hand)}, reserved ${formatCount(snapshot.reserved)}, available ${formatCount(snapshot.available)}.`;
}

function Changes({ sku, current, onChanged }: { sku: string; current: Snapshot | undefined; onChanged: () => void }): VNode {
  const [onHand, setOnHand] = useState("");
  const [delta, setDelta] = useState("");
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | undefined>();
  // An adjustment keeps its Idempotency-Key until the server gives a final answer, so resending
  // the same adjustment after a lost answer cannot apply it twice.
  const [pendingKey, setPendingKey] = useState<{ body: string; key: string } | undefined>();

  const change = async (call: () => Promise<Snapshot>, requested: number | undefined, what: string) => {
    setBusy(true);
    setOutcome(undefined);
    try {
      const snapshot = await call();
      setOutcome({ ok: true, text: describe(snapshot, `${what} — the server answered 200`) });
      setPendingKey(undefined);
      onChanged();
      return true;
    } catch (error) {
      const problem = error instanceof ApiProblem ? error : new ApiProblem(0, "client", String(error));
      if (problem.status > 0 && problem.status < 500) setPendingKey(undefined);
      setOutcome({ ok: false, problem, requested });
      return false;
    } finally {
      setBusy(false);
    }
  };

  const path = `/v1/admin/inventory/${encodeURIComponent(sku)}`;
  const setStock = async (e: Event) => {
    e.preventDefault();
    const value = Number(onHand);
    if (!Number.isInteger(value) || value < 0) return;
    if (await change(() => api<Snapshot>("PUT", path, { body: { on_hand: value } }), value, `Stock set to ${formatCount(value)}`))
      setOnHand("");
  };
  const adjust = async (e: Event) => {
    e.preventDefault();
    const value = Number(delta);
    if (!Number.isInteger(value) || value === 0 || !reason.trim()) return;
    const body = { delta: value, reason: reason.trim() };
    const text = JSON.stringify(body);
    const key = pendingKey?.body === text ? pendingKey.key : crypto.randomUUID();
    setPendingKey({ body: text, key });
    const requested = current ? current.on_hand + value : undefined;
    const done = await change(
      () => api<Snapshot>("POST", `${path}/adjustments`, { body, headers: { "idempotency-key": key } }),
      requested,
      `Adjusted by ${value > 0 ? "+" : ""}${formatCount(value)} (${body.reason})`,
    );
    if (done) {
      setDelta("");
      setReason("");
    }
  };

  return html`<div class="grid">
    <form class="card stack" onSubmit=${setStock} aria-labelledby="set-title">
      <h2 id="set-title">Set stock</h2>
      <label for="on-hand-input">New on hand</label>
      <input id="on-hand-input" name="on_hand" type="number" min="0" step="1" inputmode="numeric" required value=${onHand}
        onInput=${(e: Event) => setOnHand((e.target as HTMLInputElement).value)} />
      <button type="submit" disabled=${busy}>Set on hand</button>
    </form>
    <form class="card stack" onSubmit=${adjust} aria-labelledby="adjust-title">
      <h2 id="adjust-title">Adjust stock</h2>
      <label for="delta-input">Change (units, negative to remove)</label>
      <input id="delta-input" name="delta" type="number" step="1" inputmode="numeric" required value=${delta}
        onInput=${(e: Event) => setDelta((e.target as HTMLInputElement).value)} />
      <label for="reason-input">Reason</label>
      <input id="reason-input" name="reason" maxLength="200" required placeholder="e.g. damaged, recount, delivery" value=${reason}
        onInput=${(e: Event) => setReason((e.target as HTMLInputElement).value)} />
      <button type="submit" disabled=${busy}>Adjust</button>
    </form>
    <div class="outcome" aria-live="polite"><${OutcomeMessage} outcome=${outcome} /></div>
  </div>`;
}

function Stock({ sku }: { sku: string }): VNode {
  const stock = useLoad((signal) => api<Snapshot>("GET", `/v1/admin/inventory/${encodeURIComponent(sku)}`, { signal }), sku, REFRESH_MS);
  const snapshot = stock.data;
  return html`<section class="page" aria-labelledby="stock-title">
    <div class="card">
      <div class="page-head">
        <h2 id="stock-title">${sku}</h2>
        <${Freshness} updatedAt=${stock.updatedAt} loading=${false} />
      </div>
      <${ProblemMessage} problem=${stock.error} title=${`No stock for ${sku}`} />
      ${
        snapshot
          ? html`<dl class="figures" aria-label=${`Stock of ${sku}`}>
            <div><dt>On hand</dt><dd data-field="on_hand">${formatCount(snapshot.on_hand)}</dd></div>
            <div><dt>Reserved</dt><dd data-field="reserved">${formatCount(snapshot.reserved)}</dd></div>
            <div><dt>Available</dt><dd data-field="available">${formatCount(snapshot.available)}</dd></div>
          </dl>
          <h3>Active holds (${formatCount(snapshot.holds.length)})</h3>
          <${Table} label=${`Active holds on ${sku}`} head=${["Hold", "Held by", "Quantity", "Expires"]}>
            ${snapshot.holds.length === 0 ? html`<tr><td colspan="4" class="muted">No active holds.</td></tr>` : null}
            ${snapshot.holds.map(
              (hold) => html`<tr>
                <td><code title=${hold.hold_id}>${hold.hold_id.slice(0, 12)}…</code></td>
                <td><code title=${hold.owner_id}>${hold.owner_id.slice(0, 12)}…</code></td>
                <td class="num">${formatCount(hold.quantity)}</td>
                <td><${Time} iso=${hold.expires_at} relative=${true} /></td>
              </tr>`,
            )}
          <//>`
          : null
      }
    </div>
    ${snapshot || stock.error?.status === 404 ? html`<${Changes} sku=${sku} current=${snapshot} onChanged=${stock.reload} />` : null}
  </section>`;
}

/** The inventory page; `#/inventory/<sku>` shows that SKU. */
export function Inventory({ sku }: { sku: string | undefined }): VNode {
  return html`<div class="page">
    <div class="page-head"><h1 tabindex="-1">Inventory</h1></div>
    <${Finder} sku=${sku} />
    ${sku ? html`<${Stock} sku=${sku} key=${sku} />` : html`<p class="muted">Find a SKU to see its stock and holds.</p>`}
  </div>`;
}
