/**
 * The dashboard shell: sign-in gate, navigation and the hash routes
 * (#/overview, #/inventory/<sku>, #/orders/<id>, #/products/<id>, #/promotions/<id>, #/tax).
 */

import { html } from "htm/preact";
import type { VNode } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { onUnauthorized, session } from "./api";
import { useRoute } from "./hooks";
import { Inventory } from "./pages/inventory";
import { Orders } from "./pages/orders";
import { Overview } from "./pages/overview";
import { Products } from "./pages/products";
import { Promotions } from "./pages/promotions";
import { SignIn } from "./pages/signin";
import { Tax } from "./pages/tax";

const SECTIONS = [
  ["overview", "Overview"],
  ["inventory", "Inventory"],
  ["orders", "Orders"],
  ["products", "Products"],
  ["promotions", "Promotions"],
  ["tax", "Tax"],
] as const;

export function App(): VNode {
  const [signedIn, setSignedIn] = useState(() => session.token() !== null);
  const [notice, setNotice] = useState<string | undefined>();
  const route = useRoute();
  const main = useRef<HTMLElement>(null);

  useEffect(() => {
    onUnauthorized(() => {
      session.signOut();
      setNotice("The server no longer accepts this tab's token. Sign in again.");
      setSignedIn(false);
    });
  }, []);

  const section = SECTIONS.some(([name]) => name === route.segments[0]) ? route.segments[0]! : "overview";
  const detail = route.segments[1];

  // On navigation, move focus to the new page's heading so keyboard and screen-reader users land there.
  const path = route.segments.join("/");
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.querySelector<HTMLElement>("h1")?.focus();
  }, [path]);

  useEffect(() => {
    const name = SECTIONS.find(([n]) => n === section)?.[1] ?? "Overview";
    document.title = signedIn ? `${name} · edgecart back office` : "Sign in · edgecart back office";
  }, [section, signedIn]);

  if (!signedIn) {
    return html`<${SignIn} notice=${notice} onSignedIn=${() => {
      setNotice(undefined);
      setSignedIn(true);
    }} />`;
  }

  const signOut = () => {
    session.signOut();
    setNotice("Signed out. The token was removed from this tab.");
    setSignedIn(false);
  };

  let page: VNode;
  switch (section) {
    case "inventory":
      page = html`<${Inventory} sku=${detail} />`;
      break;
    case "orders":
      page = html`<${Orders} id=${detail} params=${route.params} />`;
      break;
    case "products":
      page = html`<${Products} id=${detail} params=${route.params} />`;
      break;
    case "promotions":
      page = html`<${Promotions} id=${detail} params=${route.params} />`;
      break;
    case "tax":
      page = html`<${Tax} />`;
      break;
    default:
      page = html`<${Overview} params=${route.params} />`;
  }

  return html`<div class="shell">
    <a class="skip" href="#main-content" onClick=${(e: Event) => {
      e.preventDefault();
      main.current?.focus();
    }}>Skip to content</a>
    <header class="top">
      <a class="brand" href="#/overview">edgecart <span>back office</span></a>
      <nav aria-label="Sections">
        <ul>
          ${SECTIONS.map(([name, label]) => html`<li><a href=${`#/${name}`} aria-current=${section === name ? "page" : undefined}>${label}</a></li>`)}
        </ul>
      </nav>
      <button type="button" class="secondary signout" onClick=${signOut}>Sign out</button>
    </header>
    <main id="main-content" ref=${main} tabindex="-1">${page}</main>
  </div>`;
}
