/**
 * Orders: the archived orders from Postgres, filtered by status and UTC days of creation,
 * paginated with the cursor; and one order's detail (lines, amounts, payment, status).
 */

import { html } from "htm/preact";
import type { VNode } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, query } from "../api";
import { formatCount } from "../format";
import { href, navigate, useLoad } from "../hooks";
import type { Order, Page } from "../types";
import { MoneyText, ProblemMessage, Status, Table, Time } from "../ui";

const STATUSES = ["pending_payment", "paid", "cancelled", "expired"] as const;
const ORDER_ID = "ord_[0-9a-f]{64}";

interface Filters {
  status: string;
  from: string;
  to: string;
  limit: string;
}

function filtersOf(params: URLSearchParams): Filters {
  return {
    status: params.get("status") ?? "",
    from: params.get("from") ?? "",
    to: params.get("to") ?? "",
    limit: params.get("limit") ?? "20",
  };
}

function FilterForm({ filters }: { filters: Filters }): VNode {
  const [draft, setDraft] = useState(filters);
  useEffect(() => setDraft(filters), [filters.status, filters.from, filters.to, filters.limit]);
  const set = (name: keyof Filters) => (e: Event) =>
    setDraft({ ...draft, [name]: (e.target as HTMLInputElement | HTMLSelectElement).value });
  return html`<form class="card controls" aria-label="Filter orders" onSubmit=${(e: Event) => {
    e.preventDefault();
    navigate(href(["orders"], { ...draft }));
  }}>
    <div class="field"><label for="orders-status">Status</label>
      <select id="orders-status" name="status" value=${draft.status} onChange=${set("status")}>
        <option value="">Any</option>
        ${STATUSES.map((s) => html`<option value=${s}>${s.replace("_", " ")}</option>`)}
      </select>
    </div>
    <div class="field"><label for="orders-from">Created from (UTC day)</label>
      <input id="orders-from" type="date" name="from" value=${draft.from} max=${draft.to || undefined} onChange=${set("from")} /></div>
    <div class="field"><label for="orders-to">Created to (UTC day)</label>
      <input id="orders-to" type="date" name="to" value=${draft.to} min=${draft.from || undefined} onChange=${set("to")} /></div>
    <div class="field"><label for="orders-limit">Per page</label>
      <select id="orders-limit" name="limit" value=${draft.limit} onChange=${set("limit")}>
        ${["10", "20", "50", "100"].map((n) => html`<option value=${n}>${n}</option>`)}
      </select>
    </div>
    <button type="submit">Show orders</button>
  </form>`;
}

function OpenById(): VNode {
  const [id, setId] = useState("");
  return html`<form class="card controls" role="search" aria-label="Open an order by id" onSubmit=${(e: Event) => {
    e.preventDefault();
    if (id.trim()) navigate(href(["orders", id.trim()]));
  }}>
    <div class="field wide"><label for="order-id">Order id</label>
      <input id="order-id" name="order_id" type="search" pattern=${ORDER_ID} required spellcheck=${false} autocomplete="off" placeholder="ord_…" value=${id}
        onInput=${(e: Event) => setId((e.target as HTMLInputElement).value)} /></div>
    <button type="submit" class="secondary">Open order</button>
  </form>`;
}

function OrderList({ filters }: { filters: Filters }): VNode {
  // Cursors of the pages before the current one, so "Newer" can go back.
  const [cursors, setCursors] = useState<Array<string | undefined>>([]);
  const [cursor, setCursor] = useState<string | undefined>();
  const filterKey = JSON.stringify(filters);
  const list = useLoad(
    (signal) =>
      api<Page<Order>>(
        "GET",
        `/v1/admin/orders${query({ status: filters.status, from: filters.from, to: filters.to, limit: filters.limit, cursor })}`,
        { signal },
      ),
    `${filterKey}|${cursor ?? ""}`,
  );
  const orders = list.data?.data ?? [];
  return html`<section class="card" aria-labelledby="orders-title">
    <div class="page-head">
      <h2 id="orders-title">Archived orders <span class="muted">(newest first)</span></h2>
      <button type="button" class="secondary" onClick=${list.reload}>Refresh</button>
    </div>
    <${ProblemMessage} problem=${list.error} title="Orders could not be loaded" />
    <${Table} label="Orders" head=${["Order", "Status", "Total", "Items", "Created", "Paid"]}>
      ${list.data && orders.length === 0 ? html`<tr><td colspan="6" class="muted">No orders match.</td></tr>` : null}
      ${orders.map(
        (order) => html`<tr data-order=${order.id}>
          <td><a href=${href(["orders", order.id])}><code>${order.id.slice(0, 16)}…</code></a></td>
          <td><${Status} status=${order.status} /></td>
          <td class="num"><${MoneyText} money=${order.total} /></td>
          <td class="num">${formatCount(order.lines.reduce((n, l) => n + l.quantity, 0))}</td>
          <td><${Time} iso=${order.created_at} /></td>
          <td><${Time} iso=${order.paid_at} /></td>
        </tr>`,
      )}
    <//>
    <nav class="pager" aria-label="Pages of orders">
      <button type="button" class="secondary" disabled=${cursors.length === 0} onClick=${() => {
        setCursor(cursors[cursors.length - 1]);
        setCursors(cursors.slice(0, -1));
      }}>← Newer</button>
      <span class="muted">Page ${cursors.length + 1}</span>
      <button type="button" class="secondary" disabled=${!list.data?.next_cursor} onClick=${() => {
        setCursors([...cursors, cursor]);
        setCursor(list.data?.next_cursor ?? undefined);
      }}>Older →</button>
    </nav>
  </section>`;
}

function OrderDetail({ id }: { id: string }): VNode {
  const order = useLoad((signal) => api<Order>("GET", `/v1/admin/orders/${encodeURIComponent(id)}`, { signal }), id);
  const o = order.data;
  return html`<div class="page">
    <p><a href="#/orders">← All orders</a></p>
    <div class="page-head"><h1 tabindex="-1">Order</h1><code class="wrap">${id}</code></div>
    <${ProblemMessage} problem=${order.error} title="The order could not be loaded" />
    ${
      o
        ? html`<section class="card" aria-label="Order summary">
            <dl class="details">
              <div><dt>Status</dt><dd data-field="status"><${Status} status=${o.status} /></dd></div>
              <div><dt>Total</dt><dd data-field="total"><${MoneyText} money=${o.total} /></dd></div>
              <div><dt>Email</dt><dd>${o.email}</dd></div>
              <div><dt>Created</dt><dd><${Time} iso=${o.created_at} /></dd></div>
              <div><dt>Payment</dt><dd data-field="payment">${
                o.paid_at
                  ? html`Paid <${Time} iso=${o.paid_at} />`
                  : o.status === "pending_payment"
                    ? html`Awaiting payment until <${Time} iso=${o.payment_expires_at} relative=${true} />`
                    : html`Not paid (window ended <${Time} iso=${o.payment_expires_at} />)`
              }</dd></div>
              <div><dt>Cart</dt><dd><code class="wrap">${o.cart_id}</code></dd></div>
            </dl>
          </section>
          <section class="card" aria-labelledby="lines-title">
            <h2 id="lines-title">Lines</h2>
            <${Table} label="Order lines" head=${["SKU", "Item", "Quantity", "Unit price", "Line total"]}>
              ${o.lines.map(
                (line) => html`<tr>
                  <td><a href=${href(["inventory", line.sku])}>${line.sku}</a></td>
                  <td>${line.title}</td>
                  <td class="num">${formatCount(line.quantity)}</td>
                  <td class="num"><${MoneyText} money=${line.unit_price} /></td>
                  <td class="num"><${MoneyText} money=${line.line_total} /></td>
                </tr>`,
              )}
              <tr class="total"><th scope="row" colspan="4">Total</th><td class="num"><${MoneyText} money=${o.total} /></td></tr>
            <//>
          </section>`
        : null
    }
  </div>`;
}

/** The orders page: `#/orders?status=&from=&to=&limit=`, or one order at `#/orders/<id>`. */
export function Orders({ id, params }: { id: string | undefined; params: URLSearchParams }): VNode {
  if (id) return html`<${OrderDetail} id=${id} key=${id} />`;
  const filters = filtersOf(params);
  return html`<div class="page">
    <div class="page-head"><h1 tabindex="-1">Orders</h1></div>
    <div class="grid">
      <${FilterForm} filters=${filters} />
      <${OpenById} />
    </div>
    <${OrderList} filters=${filters} key=${JSON.stringify(filters)} />
  </div>`;
}
