/**
 * Products: every product from Postgres (active and archived), and an editor for a product's
 * title, status and variant prices (PUT with the whole product) or its archiving (DELETE).
 * The storefront follows through the publish path the API runs on every change.
 */

import { html } from "htm/preact";
import type { VNode } from "preact";
import { useState } from "preact/hooks";
import { ApiProblem, api, query } from "../api";
import { formatCount, formatMoney, minorDigits, parseMajor, toMajor } from "../format";
import { href, useLoad } from "../hooks";
import type { Page, Product, ProductInput } from "../types";
import { MoneyText, ProblemMessage, Status, Table, Time } from "../ui";

function priceRange(product: Product): string {
  const byCurrency = new Map<string, number[]>();
  for (const v of product.variants) byCurrency.set(v.price.currency, [...(byCurrency.get(v.price.currency) ?? []), v.price.amount]);
  return [...byCurrency]
    .map(([currency, amounts]) => {
      const low = Math.min(...amounts);
      const high = Math.max(...amounts);
      return low === high
        ? formatMoney({ amount: low, currency })
        : `${formatMoney({ amount: low, currency })} – ${formatMoney({ amount: high, currency })}`;
    })
    .join(", ");
}

function ProductList({ status }: { status: string }): VNode {
  const [pages, setPages] = useState<Array<string | undefined>>([undefined]);
  const loaded = useLoad(async (signal) => {
    const all: Product[] = [];
    let next: string | null = null;
    for (const cursor of pages) {
      const page: Page<Product> = await api<Page<Product>>("GET", `/v1/admin/products${query({ limit: 50, status, cursor })}`, { signal });
      all.push(...page.data);
      next = page.next_cursor;
    }
    return { products: all, next };
  }, `${status}|${pages.length}`);
  const products = loaded.data?.products ?? [];
  return html`<section class="card" aria-labelledby="products-title">
    <div class="page-head">
      <h2 id="products-title">${status ? `${status[0]!.toUpperCase()}${status.slice(1)} products` : "All products"} <span class="muted">(by id)</span></h2>
      <button type="button" class="secondary" onClick=${loaded.reload}>Refresh</button>
    </div>
    <${ProblemMessage} problem=${loaded.error} title="Products could not be loaded" />
    <${Table} label="Products" head=${["Product", "Title", "Status", "Variants", "Prices", "Updated"]}>
      ${loaded.data && products.length === 0 ? html`<tr><td colspan="6" class="muted">No products.</td></tr>` : null}
      ${products.map(
        (p) => html`<tr data-product=${p.id}>
          <td><a href=${href(["products", p.id])}>${p.id}</a></td>
          <td>${p.title}</td>
          <td><${Status} status=${p.status} /></td>
          <td class="num">${formatCount(p.variants.length)}</td>
          <td>${priceRange(p)}</td>
          <td><${Time} iso=${p.updated_at} /></td>
        </tr>`,
      )}
    <//>
    ${loaded.data?.next ? html`<button type="button" class="secondary" onClick=${() => setPages([...pages, loaded.data!.next!])}>Load more</button>` : null}
  </section>`;
}

/** The editor's working copy: prices as typed, in major units. */
interface Draft {
  title: string;
  status: "active" | "archived";
  prices: string[];
}

function draftOf(product: Product): Draft {
  return { title: product.title, status: product.status, prices: product.variants.map((v) => toMajor(v.price.amount, v.price.currency)) };
}

/** The whole product body PUT needs, with the draft's title, status and prices; or the index of a price that is not valid. */
function bodyOf(product: Product, draft: Draft): { body: ProductInput } | { invalid: number } {
  const variants: ProductInput["variants"] = [];
  for (const [i, v] of product.variants.entries()) {
    const amount = parseMajor(draft.prices[i] ?? "", v.price.currency);
    if (amount === null) return { invalid: i };
    variants.push({
      sku: v.sku,
      title: v.title,
      price: { amount, currency: v.price.currency },
      ...(v.max_line_quantity !== undefined ? { max_line_quantity: v.max_line_quantity } : {}),
    });
  }
  return {
    body: {
      title: draft.title.trim(),
      status: draft.status,
      variants,
      ...(product.description !== null ? { description: product.description } : {}),
      ...(product.category !== null ? { category: product.category } : {}),
    },
  };
}

function Editor({ product, onSaved }: { product: Product; onSaved: (p: Product) => void }): VNode {
  const [draft, setDraft] = useState<Draft>(() => draftOf(product));
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<ApiProblem | undefined>();
  const [saved, setSaved] = useState<string | undefined>();
  const [confirming, setConfirming] = useState(false);
  const [invalid, setInvalid] = useState<number | undefined>();
  const path = `/v1/admin/products/${encodeURIComponent(product.id)}`;

  const run = async (call: () => Promise<string>) => {
    setBusy(true);
    setProblem(undefined);
    setSaved(undefined);
    try {
      setSaved(await call());
    } catch (error) {
      setProblem(error instanceof ApiProblem ? error : new ApiProblem(0, "client", String(error)));
    } finally {
      setBusy(false);
    }
  };

  const save = (e: Event) => {
    e.preventDefault();
    const checked = bodyOf(product, draft);
    if ("invalid" in checked) {
      const variant = product.variants[checked.invalid]!;
      const digits = minorDigits(variant.price.currency);
      setInvalid(checked.invalid);
      setSaved(undefined);
      setProblem(
        new ApiProblem(
          0,
          "invalid_price",
          `The price of ${variant.title} (${variant.sku}) is not a valid amount in ${variant.price.currency}: ${digits === 0 ? "whole units only, e.g. 1500" : `at most ${digits} decimals, e.g. ${toMajor(1999, variant.price.currency)}`}. Nothing was sent.`,
        ),
      );
      document.getElementById(`price-${checked.invalid}`)?.focus();
      return;
    }
    setInvalid(undefined);
    void run(async () => {
      const answer = await api<Product>("PUT", path, { body: checked.body });
      onSaved(answer);
      setDraft(draftOf(answer));
      return `Saved version ${answer.version} (${answer.status}). Checkout charges the new prices now; the storefront's catalog follows through its cache.`;
    });
  };

  const archive = () =>
    void run(async () => {
      await api<void>("DELETE", path);
      setConfirming(false);
      const fresh = await api<Product>("GET", path);
      onSaved(fresh);
      setDraft(draftOf(fresh));
      return "Archived: it is no longer listed and its SKUs can no longer be added to carts.";
    });

  return html`<form class="card stack" onSubmit=${save} aria-labelledby="edit-title">
    <h2 id="edit-title">Edit</h2>
    <label for="product-title">Title</label>
    <input id="product-title" name="title" required maxLength="200" value=${draft.title} onInput=${(e: Event) => setDraft({ ...draft, title: (e.target as HTMLInputElement).value })} />
    <label for="product-status">Status</label>
    <select id="product-status" name="status" value=${draft.status} onChange=${(e: Event) => setDraft({ ...draft, status: (e.target as HTMLSelectElement).value as Draft["status"] })}>
      <option value="active">active</option>
      <option value="archived">archived</option>
    </select>
    <fieldset>
      <legend>Variant prices</legend>
      ${product.variants.map((v, i) => {
        const digits = minorDigits(v.price.currency);
        return html`<div class="variant">
          <label for=${`price-${i}`}>${v.title} <code>${v.sku}</code> <span class="muted">(${v.price.currency}${digits === 0 ? ", no decimals" : `, up to ${digits} decimals`})</span></label>
          <input id=${`price-${i}`} name=${`price-${v.sku}`} inputmode=${digits === 0 ? "numeric" : "decimal"} required autocomplete="off"
            aria-invalid=${invalid === i ? "true" : "false"} value=${draft.prices[i] ?? ""}
            onInput=${(e: Event) => setDraft({ ...draft, prices: draft.prices.map((p, j) => (j === i ? (e.target as HTMLInputElement).value : p)) })} />
        </div>`;
      })}
    </fieldset>
    <div class="actions">
      <button type="submit" disabled=${busy}>Save product</button>
      ${product.status === "active" && !confirming ? html`<button type="button" class="danger" disabled=${busy} onClick=${() => setConfirming(true)}>Archive…</button>` : null}
    </div>
    ${
      confirming
        ? html`<div class="confirm" role="group" aria-label="Confirm archiving">
          <p>Archive “${product.title}”? It leaves the storefront and its SKUs can no longer be added to carts.</p>
          <button type="button" class="danger" disabled=${busy} onClick=${archive}>Archive product</button>
          <button type="button" class="secondary" onClick=${() => setConfirming(false)}>Cancel</button>
        </div>`
        : null
    }
    <div aria-live="polite">${saved ? html`<p class="success" role="status">${saved}</p>` : null}</div>
    <${ProblemMessage} problem=${problem} title="Not saved" />
  </form>`;
}

function ProductDetail({ id }: { id: string }): VNode {
  const loaded = useLoad((signal) => api<Product>("GET", `/v1/admin/products/${encodeURIComponent(id)}`, { signal }), id);
  const [current, setCurrent] = useState<Product | undefined>();
  const product = current ?? loaded.data;
  return html`<div class="page">
    <p><a href="#/products">← All products</a></p>
    <div class="page-head"><h1 tabindex="-1">${product?.title ?? id}</h1>${product ? html`<${Status} status=${product.status} />` : null}</div>
    <${ProblemMessage} problem=${loaded.error} title="The product could not be loaded" />
    ${
      product
        ? html`<section class="card" aria-label="Product">
            <dl class="details">
              <div><dt>Id</dt><dd><code>${product.id}</code></dd></div>
              <div><dt>Category</dt><dd>${product.category ?? "—"}</dd></div>
              <div><dt>Version</dt><dd data-field="version">${product.version}</dd></div>
              <div><dt>Updated</dt><dd><${Time} iso=${product.updated_at} /></dd></div>
            </dl>
            <${Table} label="Variants" head=${["SKU", "Variant", "Price", "Per-line limit"]}>
              ${product.variants.map(
                (v) => html`<tr>
                  <td><a href=${href(["inventory", v.sku])}>${v.sku}</a></td>
                  <td>${v.title}</td>
                  <td class="num" data-price=${v.sku}><${MoneyText} money=${v.price} /></td>
                  <td class="num">${v.max_line_quantity ?? "default"}</td>
                </tr>`,
              )}
            <//>
          </section>
          <${Editor} product=${product} key=${product.id} onSaved=${setCurrent} />`
        : null
    }
  </div>`;
}

/** The products page: `#/products?status=`, or one product at `#/products/<id>`. */
export function Products({ id, params }: { id: string | undefined; params: URLSearchParams }): VNode {
  if (id) return html`<${ProductDetail} id=${id} key=${id} />`;
  const status = params.get("status") ?? "";
  return html`<div class="page">
    <div class="page-head"><h1 tabindex="-1">Products</h1></div>
    <nav class="card controls" aria-label="Filter products by status">
      ${[
        ["", "All"],
        ["active", "Active"],
        ["archived", "Archived"],
      ].map(
        ([value, label]) =>
          html`<a class="chip" href=${href(["products"], { status: value })} aria-current=${status === value ? "page" : undefined}>${label}</a>`,
      )}
    </nav>
    <${ProductList} status=${status} key=${status} />
  </div>`;
}
