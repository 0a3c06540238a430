/**
 * The admin API client: the token from sessionStorage as `Authorization: Bearer` (never a
 * cookie), JSON bodies, and every failure as an {@link ApiProblem} carrying the problem+json
 * `detail`. A 401 signs the session out.
 */

const TOKEN_KEY = "edgecart.admin-token";

/** The admin token of this tab's session (sessionStorage: gone when the tab closes). */
export const session = {
  token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  signIn(token: string): void {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  signOut(): void {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** A failed call: HTTP status (0 when the server could not be reached), problem code and detail. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = "ApiProblem";
  }

  /** The `errors` members of a 400 (one per invalid field). */
  get fieldErrors(): Array<{ path: string; message: string }> {
    const errors = this.body.errors;
    return Array.isArray(errors) ? (errors as Array<{ path: string; message: string }>) : [];
  }
}

let unauthorized: (problem: ApiProblem) => void = () => {};

/** Called when a signed-in call answers 401 (the token was changed or revoked). */
export function onUnauthorized(handler: (problem: ApiProblem) => void): void {
  unauthorized = handler;
}

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Use this token instead of the session's, and do not sign out on 401 (sign-in's check). */
  token?: string;
}

/** The problem a non-2xx answer carries (RFC 9457), or a generic one naming the status. */
async function problemOf(response: Response): Promise<ApiProblem> {
  const type = response.headers.get("content-type") ?? "";
  if (type.includes("json")) {
    try {
      const body = (await response.json()) as Record<string, unknown>;
      const detail = typeof body.detail === "string" ? body.detail : `The server answered ${response.status}.`;
      return new ApiProblem(response.status, typeof body.code === "string" ? body.code : "error", detail, body);
    } catch {
      // Not JSON after all: fall through.
    }
  }
  return new ApiProblem(response.status, "error", `The server answered ${response.status} ${response.statusText}.`.replace(/ \.$/, "."));
}

/** Calls the API; resolves with the JSON body (undefined for 204), rejects with an {@link ApiProblem}. */
export async function api<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
  const token = options.token ?? session.token();
  const headers: Record<string, string> = { accept: "application/json", ...options.headers };
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: options.body === undefined ? null : JSON.stringify(options.body),
      signal: options.signal ?? null,
      credentials: "omit",
      cache: "no-store",
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiProblem(0, "network", "The server could not be reached. Check that it is running and try again.");
  }
  if (!response.ok) {
    const problem = await problemOf(response);
    if (response.status === 401 && options.token === undefined) unauthorized(problem);
    throw problem;
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** `?a=1&b=2` from the defined, non-empty entries. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** Whether a thrown value is an aborted fetch (a page left or a refresh superseded). */
export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === "AbortError";
}
