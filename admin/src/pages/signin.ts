/**
 * Sign-in: the admin token is pasted once, checked with a cheap admin call, and kept in this
 * tab's sessionStorage.
 */

import { html } from "htm/preact";
import type { VNode } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiProblem, api, session } from "../api";
import { ProblemMessage } from "../ui";

/** The sign-in form; `notice` explains why the user is here again (signed out, token refused). */
export function SignIn({ notice, onSignedIn }: { notice: string | undefined; onSignedIn: () => void }): VNode {
  const [token, setToken] = useState("");
  const [checking, setChecking] = useState(false);
  const [problem, setProblem] = useState<ApiProblem | undefined>();
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);

  const submit = async (event: Event) => {
    event.preventDefault();
    const candidate = token.trim();
    if (!candidate) return;
    setChecking(true);
    setProblem(undefined);
    try {
      // The cheapest admin call: one product id from Postgres. Any 2xx proves the token.
      await api("GET", "/v1/admin/products?limit=1", { token: candidate });
      session.signIn(candidate);
      onSignedIn();
    } catch (error) {
      const refused = error instanceof ApiProblem && error.status === 401;
      setProblem(
        refused
          ? new ApiProblem(
              401,
              error.code,
              "The server refused this token. Paste the ADMIN_TOKEN this edgecart runs with (dev-admin-token under npm run dev).",
            )
          : error instanceof ApiProblem
            ? error
            : new ApiProblem(0, "client", String(error)),
      );
      input.current?.select();
    } finally {
      setChecking(false);
    }
  };

  return html`<main id="main" class="signin" tabindex="-1">
    <h1>edgecart back office</h1>
    ${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
    <form onSubmit=${submit} class="card stack" aria-describedby="token-help">
      <label for="token">Admin token</label>
      <input id="token" ref=${input} type="password" autocomplete="off" spellcheck=${false} required
        value=${token} onInput=${(e: Event) => setToken((e.target as HTMLInputElement).value)}
        aria-invalid=${problem?.status === 401 ? "true" : "false"} />
      <p id="token-help" class="muted">Kept in this tab only (sessionStorage) and sent as a bearer header; never stored in a cookie.</p>
      <button type="submit" disabled=${checking}>${checking ? "Checking…" : "Sign in"}</button>
      <${ProblemMessage} problem=${problem} title="Not signed in" />
    </form>
  </main>`;
}
