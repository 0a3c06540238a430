/**
 * Tax settings: how carts are taxed (TAX_MODE, read from the server), and the rate of each
 * destination country (used when the mode is `rates`): add or change one, delete one.
 */

import { html } from "htm/preact";
import type { VNode } from "preact";
import { useState } from "preact/hooks";
import { ApiProblem, api } from "../api";
import { formatPercent, parsePercent } from "../format";
import { useLoad } from "../hooks";
import type { TaxMode, TaxRate } from "../types";
import { ProblemMessage, Table, Time } from "../ui";

const MODES: Record<TaxMode, string> = {
  none: "Carts are not taxed. The rates below are kept, and used once TAX_MODE is rates.",
  rates: "Carts are taxed at the rate of their destination country, below.",
  external: "Carts are taxed by the external tax service; the rates below are not used.",
};

function Mode(): VNode {
  const loaded = useLoad((signal) => api<{ mode: TaxMode }>("GET", "/v1/admin/settings/tax", { signal }), "tax-mode");
  return html`<section class="card" aria-labelledby="mode-title">
    <h2 id="mode-title">Tax mode</h2>
    <${ProblemMessage} problem=${loaded.error} title="The tax mode could not be loaded" />
    ${
      loaded.data
        ? html`<p><code data-field="mode">${loaded.data.mode}</code> — ${MODES[loaded.data.mode]}</p>
          <p class="muted">Set by the Worker's TAX_MODE setting (none, rates or external), not here.</p>`
        : null
    }
  </section>`;
}

interface Draft {
  country: string;
  percent: string;
  inclusive: boolean;
}

const EMPTY: Draft = { country: "", percent: "", inclusive: true };

function RateForm({ draft, setDraft, onSaved }: { draft: Draft; setDraft: (d: Draft) => void; onSaved: () => void }): VNode {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<ApiProblem | undefined>();
  const [saved, setSaved] = useState<string | undefined>();
  const [invalid, setInvalid] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setSaved(undefined);
    const country = draft.country.trim().toUpperCase();
    const basisPoints = parsePercent(draft.percent);
    if (basisPoints === null) {
      setInvalid(true);
      setProblem(
        new ApiProblem(
          0,
          "invalid_rate",
          "The rate is a percentage from 0 to 100 with at most 2 decimals (e.g. 19 or 7.5). Nothing was sent.",
        ),
      );
      document.getElementById("rate-percent")?.focus();
      return;
    }
    setInvalid(false);
    setProblem(undefined);
    setBusy(true);
    try {
      const rate = await api<TaxRate>("PUT", `/v1/admin/tax-rates/${encodeURIComponent(country)}`, {
        body: { basis_points: basisPoints, inclusive: draft.inclusive },
      });
      const edge =
        rate.published_version >= rate.version
          ? "Carts use it now."
          : "It is saved; publishing it to carts failed and is retried within a minute.";
      setSaved(
        `${rate.country}: ${formatPercent(rate.basis_points)}, ${rate.inclusive ? "included in prices" : "added to prices"} (version ${rate.version}). ${edge}`,
      );
      setDraft(EMPTY);
      onSaved();
    } catch (error) {
      setProblem(error instanceof ApiProblem ? error : new ApiProblem(0, "client", String(error)));
    } finally {
      setBusy(false);
    }
  };
  const set = (field: keyof Draft) => (e: Event) => {
    const target = e.target as HTMLInputElement;
    setDraft({ ...draft, [field]: field === "inclusive" ? target.checked : target.value });
  };
  return html`<form class="card stack" onSubmit=${submit} aria-labelledby="rate-form-title">
    <h2 id="rate-form-title">Add or change a rate</h2>
    <label for="rate-country">Country <span class="muted">(ISO 3166-1 alpha-2, e.g. DE)</span></label>
    <input id="rate-country" name="country" required pattern="[A-Za-z]{2}" maxLength="2" autocomplete="off" spellcheck=${false} value=${draft.country} onInput=${set("country")} />
    <label for="rate-percent">Rate in percent <span class="muted">(up to 2 decimals)</span></label>
    <input id="rate-percent" name="percent" required inputmode="decimal" autocomplete="off" aria-invalid=${invalid ? "true" : "false"} value=${draft.percent} onInput=${set("percent")} />
    <label class="check" for="rate-inclusive"><input id="rate-inclusive" name="inclusive" type="checkbox" checked=${draft.inclusive} onChange=${set("inclusive")} /> Included in prices (as VAT usually is), rather than added</label>
    <div class="actions"><button type="submit" disabled=${busy}>Save rate</button></div>
    <div aria-live="polite">${saved ? html`<p class="success" role="status">${saved}</p>` : null}</div>
    <${ProblemMessage} problem=${problem} title="Not saved" />
  </form>`;
}

function Rates({ onEdit }: { onEdit: (rate: TaxRate) => void }): VNode {
  const [generation, setGeneration] = useState(0);
  const loaded = useLoad((signal) => api<{ data: TaxRate[] }>("GET", "/v1/admin/tax-rates", { signal }), `rates-${generation}`);
  const [confirming, setConfirming] = useState<string | undefined>();
  const [problem, setProblem] = useState<ApiProblem | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const remove = async (country: string) => {
    setProblem(undefined);
    try {
      await api<void>("DELETE", `/v1/admin/tax-rates/${encodeURIComponent(country)}`);
      setConfirming(undefined);
      setDone(`Deleted the rate of ${country}.`);
      setGeneration((g) => g + 1);
    } catch (error) {
      setProblem(error instanceof ApiProblem ? error : new ApiProblem(0, "client", String(error)));
    }
  };
  const rates = loaded.data?.data ?? [];
  return html`<section class="card" aria-labelledby="rates-title">
    <div class="page-head"><h2 id="rates-title">Rates by country</h2><button type="button" class="secondary" onClick=${loaded.reload}>Refresh</button></div>
    <${ProblemMessage} problem=${loaded.error} title="The rates could not be loaded" />
    <div aria-live="polite">${done ? html`<p class="success" role="status">${done}</p>` : null}</div>
    <${ProblemMessage} problem=${problem} title="Not deleted" />
    <${Table} label="Tax rates" head=${["Country", "Rate", "Tax is", "Edge", "Updated", ""]}>
      ${loaded.data && rates.length === 0 ? html`<tr><td colspan="6" class="muted">No rates.</td></tr>` : null}
      ${rates.map(
        (rate) => html`<tr data-country=${rate.country}>
          <td><code>${rate.country}</code></td>
          <td class="num" data-field="rate">${formatPercent(rate.basis_points)}</td>
          <td>${rate.inclusive ? "in the prices" : "added to prices"}</td>
          <td>${rate.published_version >= rate.version ? `version ${rate.version}` : html`version ${rate.version} <span class="badge badge-pending">publishing</span>`}</td>
          <td><${Time} iso=${rate.updated_at} /></td>
          <td>${
            confirming === rate.country
              ? html`<div class="confirm" role="group" aria-label=${`Confirm deleting ${rate.country}`}>
                <button type="button" class="danger" onClick=${() => remove(rate.country)}>Delete ${rate.country}</button>
                <button type="button" class="secondary" onClick=${() => setConfirming(undefined)}>Cancel</button>
              </div>`
              : html`<div class="actions">
                <button type="button" class="secondary" aria-label=${`Edit ${rate.country}`} onClick=${() => onEdit(rate)}>Edit</button>
                <button type="button" class="secondary" aria-label=${`Delete ${rate.country}…`} onClick=${() => setConfirming(rate.country)}>Delete…</button>
              </div>`
          }</td>
        </tr>`,
      )}
    <//>
  </section>`;
}

/** The tax settings page: `#/tax`. */
export function Tax(): VNode {
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [generation, setGeneration] = useState(0);
  const edit = (rate: TaxRate) => {
    setDraft({ country: rate.country, percent: formatPercent(rate.basis_points).replace(" %", ""), inclusive: rate.inclusive });
    document.getElementById("rate-percent")?.focus();
  };
  return html`<div class="page">
    <div class="page-head"><h1 tabindex="-1">Tax settings</h1></div>
    <${Mode} />
    <div class="grid">
      <${RateForm} draft=${draft} setDraft=${setDraft} onSaved=${() => setGeneration((g) => g + 1)} />
      <${Rates} onEdit=${edit} key=${generation} />
    </div>
  </div>`;
}
