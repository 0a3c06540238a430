/**
 * The Idempotency-Key rules (docs/api.md, Conventions): which answers are kept, what makes two
 * requests the same, and what a new attempt finds under a key. Pure; `now` is a parameter.
 */

/** A response as stored for replay; `body` null when empty. */
export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: ArrayBuffer | null;
}

/**
 * What `begin` found. `started`: the caller owns the key and must `complete` or `abandon`
 * (`takeover` when it replaced an attempt whose lease had run out). `in_flight`: another attempt
 * holds a live lease. `mismatch`: the stored response belongs to a different request.
 * `completed`: replay the stored response.
 */
export type BeginOutcome =
  | { state: "started"; takeover: boolean }
  | { state: "in_flight" }
  | { state: "mismatch" }
  | ({ state: "completed" } & StoredResponse);

/** `lease_lost`: the attempt no longer owns the key (its lease ran out and it was taken over or freed). */
export type FinishOutcome = { ok: true } | { ok: false; reason: "lease_lost" };

/** One key's record: the attempt executing under it (with a lease), or the answer it produced. */
export interface KeyRecord {
  fingerprint: string;
  attempt: string;
  state: "in_flight" | "completed";
  lease_until: number;
  expires_at: number | null;
}

/** The moment a record stops mattering: lease end while in flight, retention end once completed. */
export function recordDueAt(record: KeyRecord): number {
  return record.state === "completed" ? (record.expires_at ?? 0) : record.lease_until;
}

/**
 * Decides `begin` from the current record. A record past its due time counts as absent: an
 * expired lease means the attempt died without an answer, which frees the key exactly as an
 * abandoned (unstored) answer does, whatever the new request's body; a completed record past
 * retention is gone even if the alarm has not run yet.
 */
export function planBegin(
  record: KeyRecord | null,
  fingerprint: string,
  attempt: string,
  now: number,
): "start" | "take_over" | "resume" | "in_flight" | "mismatch" | "replay" {
  if (record === null) return "start";
  if (record.state === "completed") {
    if (recordDueAt(record) <= now) return "start";
    return record.fingerprint === fingerprint ? "replay" : "mismatch";
  }
  if (record.attempt === attempt) return "resume";
  return record.lease_until > now ? "in_flight" : "take_over";
}

/** These answers are not stored (the client fixes the request and retries with the key): 400, 401, 413, 415, 429, 5xx. */
export function isStorable(status: number): boolean {
  return !(status === 400 || status === 401 || status === 413 || status === 415 || status === 429 || status >= 500);
}

/** JSON with object keys sorted recursively and no whitespace; `undefined` (no body) is "". */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return "";
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(",")}]`;
  const entries = Object.keys(value)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
  return `{${entries.join(",")}}`;
}

/** What makes two requests "the same": method, path (with query) and canonical body, as one text to hash. */
export function fingerprintText(method: string, pathAndQuery: string, canonicalBody: string): string {
  return `${method} ${pathAndQuery}\n${canonicalBody}`;
}
