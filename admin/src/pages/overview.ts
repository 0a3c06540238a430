/**
 * Overview: today's sales per currency, paid orders not yet archived, sales per day over a chosen
 * range, top SKUs and low stock. Every figure refreshes every few seconds while the tab is visible.
 */

import { html } from "htm/preact";
import type { VNode } from "preact";
import { useState } from "preact/hooks";
import { ApiProblem, api, query } from "../api";
import { SalesChart } from "../chart";
import { addDays, daysBetween, formatCount, formatDay, formatMoney, utcToday } from "../format";
import { href, useLoad } from "../hooks";
import type { LowStockRow, Page, SalesRow, TopSkuRow, UnarchivedOrder } from "../types";
import { Freshness, MoneyText, ProblemMessage, Table, Time } from "../ui";

/** How often the overview's figures refresh while visible. */
export const REFRESH_MS = 5000;

const MAX_DAYS = 366;

/** The unarchived-orders endpoint, or null while the server has none (answers 404 — or 400, taking "unarchived" for an order id). */
async function loadUnarchived(signal: AbortSignal): Promise<Page<UnarchivedOrder> | null> {
  try {
    return await api<Page<UnarchivedOrder>>("GET", "/v1/admin/orders/unarchived?limit=100", { signal });
  } catch (error) {
    if (
      error instanceof ApiProblem &&
      (error.status === 404 || (error.status === 400 && error.fieldErrors.some((f) => f.path === "path.order_id")))
    )
      return null;
    throw error;
  }
}

function Today(): VNode {
  const today = useLoad(
    async (signal) => {
      const day = utcToday();
      const report = await api<{ data: SalesRow[] }>("GET", `/v1/admin/reports/sales${query({ from: day, to: day })}`, { signal });
      return { day, rows: report.data };
    },
    "today",
    REFRESH_MS,
  );
  const day = today.data?.day ?? utcToday();
  return html`<section class="card" aria-labelledby="today-title">
    <h2 id="today-title">Today <span class="muted">(${formatDay(day)}, UTC)</span></h2>
    <${Freshness} updatedAt=${today.updatedAt} loading=${false} />
    <${ProblemMessage} problem=${today.error} title="Today's sales could not be loaded" />
    ${today.data && today.data.rows.length === 0 ? html`<p class="muted">No paid orders yet today.</p>` : null}
    <ul class="tiles" aria-label="Revenue and orders today, per currency">
      ${(today.data?.rows ?? []).map(
        (row) => html`<li class="tile" data-currency=${row.revenue.currency}>
          <span class="tile-value">${formatMoney(row.revenue)}</span>
          <span class="tile-label">${formatCount(row.orders)} ${row.orders === 1 ? "order" : "orders"} · ${formatCount(row.units)} units</span>
        </li>`,
      )}
    </ul>
  </section>`;
}

function Unarchived(): VNode | null {
  const pending = useLoad(loadUnarchived, "unarchived", REFRESH_MS);
  if (pending.data === null || (pending.data === undefined && !pending.error)) return null;
  const list = pending.data?.data ?? [];
  const oldest = list[0];
  const count = `${formatCount(list.length)}${pending.data?.next_cursor ? "+" : ""}`;
  return html`<section class=${`card ${list.length > 0 ? "card-warn" : ""}`} aria-labelledby="unarchived-title">
    <h2 id="unarchived-title">Paid, not yet archived</h2>
    <${ProblemMessage} problem=${pending.error} title="Could not check the archive" />
    ${
      pending.data
        ? list.length === 0
          ? html`<p>Every paid order is in the archive.</p>`
          : html`<p><strong class="tile-value">${count}</strong> paid ${list.length === 1 ? "order" : "orders"} not in Postgres yet.
            Oldest: <a href=${href(["orders", oldest!.id])}>${shortId(oldest!.id)}</a>, <${MoneyText} money=${oldest!.total} />, paid <${Time} iso=${oldest!.paid_at} relative=${true} />.</p>`
        : null
    }
  </section>`;
}

function shortId(id: string): string {
  return id.length > 16 ? `${id.slice(0, 12)}…` : id;
}

function Sales({ from, to, onRange }: { from: string; to: string; onRange: (from: string, to: string) => void }): VNode {
  const [currency, setCurrency] = useState<string | undefined>();
  const invalid =
    from > to
      ? "The first day must not be after the last."
      : daysBetween(from, to).length > MAX_DAYS
        ? `At most ${MAX_DAYS} days.`
        : undefined;
  const sales = useLoad(
    (signal) =>
      invalid
        ? Promise.resolve({ data: [] as SalesRow[] })
        : api<{ data: SalesRow[] }>("GET", `/v1/admin/reports/sales${query({ from, to })}`, { signal }),
    `${from}..${to}`,
    REFRESH_MS,
  );
  const rows = sales.data?.data ?? [];
  const currencies = [...new Set(rows.map((r) => r.revenue.currency))].sort();
  const shown = currency && currencies.includes(currency) ? currency : (currencies[0] ?? currency ?? "USD");
  const days = invalid ? [] : daysBetween(from, to);
  const byDay = new Map(rows.filter((r) => r.revenue.currency === shown).map((r) => [r.day, r]));
  const amounts = days.map((day) => byDay.get(day)?.revenue.amount ?? 0);
  const total = amounts.reduce((sum, a) => sum + a, 0);
  const preset = (n: number) => onRange(addDays(utcToday(), -(n - 1)), utcToday());

  return html`<section class="card" aria-labelledby="sales-title">
    <h2 id="sales-title">Sales per day <span class="muted">(UTC days of payment)</span></h2>
    <form class="controls" onSubmit=${(e: Event) => e.preventDefault()}>
      <div class="field"><label for="sales-from">From (UTC day)</label>
        <input id="sales-from" type="date" name="from" value=${from} max=${to} required onChange=${(e: Event) => onRange((e.target as HTMLInputElement).value || from, to)} /></div>
      <div class="field"><label for="sales-to">To (UTC day)</label>
        <input id="sales-to" type="date" name="to" value=${to} min=${from} required onChange=${(e: Event) => onRange(from, (e.target as HTMLInputElement).value || to)} /></div>
      <span class="presets" role="group" aria-label="Quick ranges">
        ${[7, 30, 90].map((n) => html`<button type="button" class="secondary" onClick=${() => preset(n)}>Last ${n} days</button>`)}
      </span>
      ${
        currencies.length > 0
          ? html`<div class="field"><label for="sales-currency">Currency</label>
            <select id="sales-currency" name="currency" value=${shown} onChange=${(e: Event) => setCurrency((e.target as HTMLSelectElement).value)}>
              ${currencies.map((c) => html`<option value=${c}>${c}</option>`)}
            </select></div>`
          : null
      }
    </form>
    ${invalid ? html`<p class="problem" role="alert">${invalid}</p>` : null}
    <${ProblemMessage} problem=${sales.error} title="Sales could not be loaded" />
    <p class="muted">${formatMoney({ amount: total, currency: shown })} in ${shown} over ${formatCount(days.length)} days.</p>
    ${
      days.length > 0
        ? html`<${SalesChart} days=${days} amounts=${amounts} currency=${shown}
          label=${`Bar chart of revenue per UTC day in ${shown} from ${formatDay(from)} to ${formatDay(to)}; total ${formatMoney({ amount: total, currency: shown })}. The same figures are in the table below.`} />`
        : null
    }
    <details>
      <summary>Sales as a table</summary>
      <${Table} caption="Paid orders per UTC day and currency" head=${["Day (UTC)", "Orders", "Units", "Revenue"]}>
        ${rows.length === 0 ? html`<tr><td colspan="4" class="muted">No paid orders in this range.</td></tr>` : null}
        ${rows.map((r) => html`<tr><td>${formatDay(r.day)}</td><td class="num">${formatCount(r.orders)}</td><td class="num">${formatCount(r.units)}</td><td class="num"><${MoneyText} money=${r.revenue} /></td></tr>`)}
      <//>
    </details>
  </section>`;
}

function TopSkus({ from, to }: { from: string; to: string }): VNode {
  const top = useLoad(
    (signal) =>
      from > to
        ? Promise.resolve({ data: [] as TopSkuRow[] })
        : api<{ data: TopSkuRow[] }>("GET", `/v1/admin/reports/top-skus${query({ from, to, limit: 10 })}`, { signal }),
    `${from}..${to}`,
    REFRESH_MS,
  );
  const rows = top.data?.data ?? [];
  return html`<section class="card" aria-labelledby="top-title">
    <h2 id="top-title">Top SKUs <span class="muted">(${formatDay(from)} – ${formatDay(to)})</span></h2>
    <${ProblemMessage} problem=${top.error} title="Top SKUs could not be loaded" />
    <${Table} label="Top SKUs by units sold" head=${["SKU", "Units", "Revenue"]}>
      ${top.data && rows.length === 0 ? html`<tr><td colspan="3" class="muted">Nothing sold in this range.</td></tr>` : null}
      ${rows.map((r) => html`<tr><td><a href=${href(["inventory", r.sku])}>${r.sku}</a></td><td class="num">${formatCount(r.units)}</td><td class="num"><${MoneyText} money=${r.revenue} /></td></tr>`)}
    <//>
  </section>`;
}

function LowStock({ threshold, onThreshold }: { threshold: number; onThreshold: (n: number) => void }): VNode {
  const low = useLoad(
    (signal) => api<{ data: LowStockRow[] }>("GET", `/v1/admin/reports/low-stock${query({ threshold })}`, { signal }),
    String(threshold),
    REFRESH_MS,
  );
  const rows = low.data?.data ?? [];
  return html`<section class="card" aria-labelledby="low-title">
    <h2 id="low-title">Low stock</h2>
    <form class="controls" onSubmit=${(e: Event) => e.preventDefault()}>
      <div class="field"><label for="low-threshold">Threshold (available at most)</label>
        <input id="low-threshold" type="number" name="threshold" min="0" step="1" inputmode="numeric" value=${threshold}
          onInput=${(e: Event) => {
            const value = (e.target as HTMLInputElement).valueAsNumber;
            if (Number.isInteger(value) && value >= 0) onThreshold(value);
          }} />
      </div>
    </form>
    <${ProblemMessage} problem=${low.error} title="Low stock could not be loaded" />
    <p class="muted">${formatCount(rows.length)} SKUs of active products with at most ${formatCount(threshold)} available.</p>
    <${Table} label="SKUs at or below the threshold" head=${["SKU", "Available", "On hand"]}>
      ${rows.map((r) => html`<tr><td><a href=${href(["inventory", r.sku])}>${r.sku}</a></td><td class="num">${formatCount(r.available)}</td><td class="num">${formatCount(r.on_hand)}</td></tr>`)}
    <//>
  </section>`;
}

/** The overview page. Range and threshold live in the URL (`#/overview?from=&to=&threshold=`). */
export function Overview({ params }: { params: URLSearchParams }): VNode {
  const day = (name: string) => {
    const value = params.get(name);
    return value !== null && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) ? value : undefined;
  };
  const to = day("to") ?? utcToday();
  const from = day("from") ?? addDays(to, -29);
  const threshold = Number(params.get("threshold") ?? "5");
  const go = (next: Record<string, string>) => {
    location.replace(href(["overview"], { from, to, threshold: String(threshold), ...next }));
  };
  return html`<div class="page">
    <div class="page-head">
      <h1 tabindex="-1">Overview</h1>
      <p class="muted">Figures refresh every ${REFRESH_MS / 1000} seconds while this page is visible.</p>
    </div>
    <div class="grid">
      <${Today} />
      <${Unarchived} />
    </div>
    <${Sales} from=${from} to=${to} onRange=${(f: string, t: string) => go({ from: f, to: t })} />
    <div class="grid">
      <${TopSkus} from=${from} to=${to} />
      <${LowStock} threshold=${Number.isInteger(threshold) && threshold >= 0 ? threshold : 5} onThreshold=${(n: number) => go({ threshold: String(n) })} />
    </div>
  </div>`;
}
