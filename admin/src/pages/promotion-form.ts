/**
 * The promotion form: create (id and code chosen here, the code fixed from then on) or edit
 * (everything but id and code). Checked in the tab first, so nothing half-valid is sent; the
 * server's refusals (a code taken, a field it refuses) are shown with their field paths.
 */

import { html } from "htm/preact";
import type { VNode } from "preact";
import { useState } from "preact/hooks";
import { ApiProblem, api } from "../api";
import { bodyOf, type PromotionDraft } from "../promotion-draft";
import type { PromotionView } from "../types";
import { ProblemMessage } from "../ui";

const ID_PATTERN = "[A-Za-z0-9._\\-]{1,64}";
const CODE_PATTERN = "[A-Za-z0-9_\\-]{1,40}";

/** The form's message after a save: what the server answered, in words. */
export function savedText(view: PromotionView, created: boolean): string {
  const edge =
    view.published_version >= view.version
      ? "Carts use it now."
      : "It is saved; publishing it to carts failed and is retried within a minute.";
  return `${created ? "Created" : "Saved"} version ${view.version} (${view.status}). ${edge}`;
}

/** Whether the admin API has a (not deleted) promotion at `path`. */
async function exists(path: string): Promise<boolean> {
  try {
    await api<PromotionView>("GET", path);
    return true;
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 404) return false;
    throw error;
  }
}

export function PromotionForm({
  initial,
  creating,
  onSaved,
}: {
  initial: PromotionDraft;
  creating: boolean;
  onSaved: (view: PromotionView, created: boolean) => void;
}): VNode {
  const [draft, setDraft] = useState<PromotionDraft>(initial);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<ApiProblem | undefined>();
  const [invalid, setInvalid] = useState<keyof PromotionDraft | undefined>();
  const [saved, setSaved] = useState<string | undefined>();

  const set = (field: keyof PromotionDraft) => (e: Event) => {
    const target = e.target as HTMLInputElement;
    setDraft({ ...draft, [field]: target.type === "checkbox" ? target.checked : target.value });
  };
  const field = (name: keyof PromotionDraft) => ({ id: `promo-${name}`, name, "aria-invalid": invalid === name ? "true" : "false" });

  const submit = async (e: Event) => {
    e.preventDefault();
    setSaved(undefined);
    const checked = bodyOf(draft);
    if ("field" in checked) {
      setInvalid(checked.field);
      setProblem(new ApiProblem(0, "invalid_input", `${checked.message} Nothing was sent.`));
      document.getElementById(`promo-${checked.field}`)?.focus();
      return;
    }
    setInvalid(undefined);
    setProblem(undefined);
    setBusy(true);
    try {
      const path = `/v1/admin/promotions/${encodeURIComponent(draft.id.trim())}`;
      // PUT replaces: a new promotion must not take the id of one that exists.
      if (creating && (await exists(path))) {
        setInvalid("id");
        setProblem(
          new ApiProblem(
            0,
            "exists",
            `A promotion with the id ${draft.id.trim()} exists already: open it to edit it, or choose another id. Nothing was sent.`,
          ),
        );
        document.getElementById("promo-id")?.focus();
        return;
      }
      const view = await api<PromotionView>("PUT", path, { body: checked.body });
      setSaved(savedText(view, creating));
      onSaved(view, creating);
    } catch (error) {
      setProblem(error instanceof ApiProblem ? error : new ApiProblem(0, "client", String(error)));
    } finally {
      setBusy(false);
    }
  };

  const lineTarget = draft.targetKind !== "order";
  return html`<form class="card stack" onSubmit=${submit} aria-labelledby="promo-form-title">
    <h2 id="promo-form-title">${creating ? "New promotion" : "Edit"}</h2>
    ${
      creating
        ? html`<label for="promo-id">Id</label>
          <input ...${field("id")} required pattern=${ID_PATTERN} autocomplete="off" spellcheck=${false} placeholder="e.g. summer-10" value=${draft.id} onInput=${set("id")} />
          <label for="promo-code">Code <span class="muted">(empty: an automatic promotion; fixed once created)</span></label>
          <input ...${field("code")} pattern=${CODE_PATTERN} autocomplete="off" spellcheck=${false} placeholder="e.g. SUMMER10" value=${draft.code} onInput=${set("code")} />`
        : html`<p class="muted">Id <code>${draft.id}</code>, ${draft.code ? html`code <code>${draft.code}</code>` : "automatic (no code)"}: fixed since it was created.</p>`
    }
    <label for="promo-status">Status</label>
    <select ...${field("status")} value=${draft.status} onChange=${set("status")}>
      <option value="active">active</option>
      <option value="archived">archived (kept, never applied)</option>
    </select>
    <fieldset>
      <legend>Value</legend>
      <label for="promo-valueKind">Kind</label>
      <select ...${field("valueKind")} value=${draft.valueKind} onChange=${set("valueKind")}>
        <option value="percent">Percentage off</option>
        <option value="fixed">Amount off</option>
      </select>
      ${
        draft.valueKind === "percent"
          ? html`<label for="promo-percent">Percent off <span class="muted">(up to 2 decimals)</span></label>
            <input ...${field("percent")} inputmode="decimal" autocomplete="off" placeholder="e.g. 10" value=${draft.percent} onInput=${set("percent")} />`
          : html`<label for="promo-amounts">Amount off per currency <span class="muted">(e.g. EUR 5.00; JPY 700 — a cart in another currency does not match)</span></label>
            <input ...${field("amounts")} autocomplete="off" spellcheck=${false} value=${draft.amounts} onInput=${set("amounts")} />`
      }
    </fieldset>
    <fieldset>
      <legend>Applies to</legend>
      <label for="promo-targetKind">Target</label>
      <select ...${field("targetKind")} value=${draft.targetKind} onChange=${set("targetKind")}>
        <option value="order">The whole order</option>
        <option value="skus">Lines of some SKUs</option>
        <option value="products">Lines of some products</option>
        <option value="categories">Lines of some categories</option>
      </select>
      ${
        lineTarget
          ? html`<label for="promo-targets">${draft.targetKind === "skus" ? "SKUs" : draft.targetKind === "products" ? "Product ids" : "Categories"} <span class="muted">(separated by spaces, commas or lines)</span></label>
            <textarea ...${field("targets")} rows="3" spellcheck=${false} value=${draft.targets} onInput=${set("targets")}></textarea>
            <label for="promo-allocation">Allocation</label>
            <select ...${field("allocation")} value=${draft.allocation} onChange=${set("allocation")}>
              <option value="across">Once, shared across the targeted lines</option>
              <option value="each">Off every targeted unit</option>
            </select>`
          : null
      }
    </fieldset>
    <fieldset>
      <legend>Conditions and limits</legend>
      <label for="promo-minSubtotal">Minimum subtotal <span class="muted">(per currency, e.g. EUR 50.00; empty: none)</span></label>
      <input ...${field("minSubtotal")} autocomplete="off" spellcheck=${false} value=${draft.minSubtotal} onInput=${set("minSubtotal")} />
      <label for="promo-minQuantity">Minimum quantity <span class="muted">(units; empty: none)</span></label>
      <input ...${field("minQuantity")} type="number" min="1" step="1" inputmode="numeric" value=${draft.minQuantity} onInput=${set("minQuantity")} />
      <label for="promo-usageLimit">Usage limit <span class="muted">(orders that may redeem it; empty: no limit)</span></label>
      <input ...${field("usageLimit")} type="number" min="1" step="1" inputmode="numeric" value=${draft.usageLimit} onInput=${set("usageLimit")} />
      <label for="promo-priority">Priority <span class="muted">(higher goes first)</span></label>
      <input ...${field("priority")} type="number" min="-1000" max="1000" step="1" value=${draft.priority} onInput=${set("priority")} />
      <label class="check" for="promo-combinable"><input ...${field("combinable")} type="checkbox" checked=${draft.combinable} onChange=${set("combinable")} /> Combinable with other promotions</label>
    </fieldset>
    <fieldset>
      <legend>Window <span class="muted">(your time zone: ${Intl.DateTimeFormat().resolvedOptions().timeZone})</span></legend>
      <label for="promo-startsAt">Starts <span class="muted">(empty: now)</span></label>
      <input ...${field("startsAt")} type="datetime-local" step="1" value=${draft.startsAt} onInput=${set("startsAt")} />
      <label for="promo-endsAt">Ends <span class="muted">(empty: open-ended)</span></label>
      <input ...${field("endsAt")} type="datetime-local" step="1" value=${draft.endsAt} onInput=${set("endsAt")} />
    </fieldset>
    <div class="actions"><button type="submit" disabled=${busy}>${creating ? "Create promotion" : "Save promotion"}</button></div>
    <div aria-live="polite">${saved ? html`<p class="success" role="status">${saved}</p>` : null}</div>
    <${ProblemMessage} problem=${problem} title="Not saved" />
  </form>`;
}
