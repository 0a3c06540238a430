/**
 * Outgoing webhooks, the rules (pure; ids and `now` are parameters):
 * - which URLs may receive events (SSRF: the host is checked literally, as `fetch` will parse it),
 * - the retry schedule (at least 24 hours of attempts, each delay within Queues' 12-hour cap),
 * - when a SKU's levels cross the low-stock threshold or run out (one event per crossing),
 * - the events an order emits.
 */
import type { OrderStatus, WebhookEventPayload, WebhookEventType } from "../contracts";
import type { StoredLine } from "./lines";
import { archivalMessage, type OrderState, orderView, type refundDueMessage } from "./order";

// ---- URLs ----------------------------------------------------------------------------------------

export type UrlCheck = { ok: true; url: string } | { ok: false; reason: string };

/** Host names that always mean this machine or a private network, whatever DNS says. */
const PRIVATE_NAME = /(^|\.)(localhost|local|internal|intranet|lan|home\.arpa|localdomain)$/;

/** IPv4 ranges that are not the public internet: [first octets as a 32-bit network, prefix]. */
const PRIVATE_V4: ReadonlyArray<[string, number]> = [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // CGNAT
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local (cloud metadata lives here)
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // TEST-NET-1
  ["192.88.99.0", 24], // 6to4 relay anycast
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // TEST-NET-2
  ["203.0.113.0", 24], // TEST-NET-3
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
];

function v4ToInt(address: string): number | null {
  const parts = address.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

function v4InRange(value: number, network: string, prefix: number): boolean {
  const size = 2 ** (32 - prefix);
  const start = v4ToInt(network)!;
  return value >= start && value < start + size;
}

/** Why an IPv4 address is not public, or null when it is. */
function privateV4(address: string): string | null {
  const value = v4ToInt(address);
  if (value === null) return "an invalid IPv4 address";
  if (v4InRange(value, "127.0.0.0", 8)) return "a loopback address";
  for (const [network, prefix] of PRIVATE_V4) if (v4InRange(value, network, prefix)) return `a non-public address (${network}/${prefix})`;
  return null;
}

/** The 8 16-bit groups of an IPv6 address as the URL parser writes it (hex groups, `::` compressed, lowercase). */
function v6Groups(address: string): number[] | null {
  const halves = address.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string) =>
    part === "" ? [] : part.split(":").map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? Number.parseInt(g, 16) : Number.NaN));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - head.length - rest.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return null;
  const groups = [...head, ...Array<number>(missing).fill(0), ...rest];
  return groups.every((g) => Number.isInteger(g)) ? groups : null;
}

/** Why an IPv6 address is not public, or null when it is. Embedded IPv4 forms are checked as IPv4. */
function privateV6(address: string): string | null {
  const g = v6Groups(address);
  if (g === null) return "an invalid IPv6 address";
  const embedded = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  const zeros = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeros(7) && g[7] === 1) return "a loopback address";
  if (zeros(8)) return "the unspecified address";
  if (zeros(5) && g[5] === 0xffff) return privateV4(embedded(g[6]!, g[7]!)) ?? null; // ::ffff:a.b.c.d (IPv4-mapped)
  if (zeros(6)) return "an IPv4-compatible address"; // ::a.b.c.d (deprecated)
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return privateV4(embedded(g[6]!, g[7]!)); // NAT64
  if (g[0] === 0x2002) return privateV4(embedded(g[1]!, g[2]!)) ?? null; // 6to4 carries its IPv4
  if ((g[0]! & 0xfe00) === 0xfc00) return "a unique local address (fc00::/7)";
  if ((g[0]! & 0xffc0) === 0xfe80) return "a link-local address (fe80::/10)";
  if ((g[0]! & 0xffc0) === 0xfec0) return "a site-local address (fec0::/10)";
  if ((g[0]! & 0xff00) === 0xff00) return "a multicast address";
  if (g[0] === 0x2001 && g[1] === 0x0db8) return "a documentation address (2001:db8::/32)";
  if (g[0] === 0x2001 && g[1] === 0) return "a Teredo address (2001::/32)";
  if (g[0] === 0x0100 && g.slice(1, 4).every((x) => x === 0)) return "a discard address (100::/64)";
  return null;
}

/** Whether `hostname` (as `URL` gives it) is this machine: 127.0.0.0/8, ::1 or localhost. */
function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/\.$/, "");
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (host.startsWith("[")) {
    const g = v6Groups(host.slice(1, -1));
    if (g === null) return false;
    const mapped = g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff && g[6]! >> 8 === 127;
    return (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) || mapped;
  }
  const value = v4ToInt(host);
  return value !== null && v4InRange(value, "127.0.0.0", 8);
}

/**
 * Whether events may be sent to `raw`. The URL is parsed as `fetch` parses it (WHATWG), so every
 * spelling of an IP literal (`0x7f.1`, `2130706433`, `127.1`, `[::ffff:127.0.0.1]`) is seen in its
 * normal form and checked by range: https only, no credentials, no private, loopback, link-local,
 * CGNAT, multicast or reserved address, no `localhost` or private-use name. With `allowLoopback`
 * (local development and tests) a loopback host is accepted, over http too; nothing else is.
 * A public name that resolves to a private address (DNS rebinding) cannot be caught here.
 */
export function checkWebhookUrl(raw: string, options: { allowLoopback: boolean }): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "not an absolute URL" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return { ok: false, reason: "only https URLs may receive events" };
  if (url.username !== "" || url.password !== "") return { ok: false, reason: "credentials in the URL are not allowed" };
  const host = url.hostname.toLowerCase();
  if (host === "") return { ok: false, reason: "the URL has no host" };
  if (options.allowLoopback && isLoopback(host)) return { ok: true, url: url.href };
  if (url.protocol !== "https:") return { ok: false, reason: "only https URLs may receive events" };
  const bare = host.replace(/\.$/, "");
  if (PRIVATE_NAME.test(bare)) return { ok: false, reason: `${bare} names a private or loopback host` };
  if (bare.startsWith("[")) {
    const why = privateV6(bare.slice(1, -1));
    if (why !== null) return { ok: false, reason: `the host is ${why}` };
  } else if (/^[\d.]+$/.test(bare)) {
    const why = privateV4(bare);
    if (why !== null) return { ok: false, reason: `the host is ${why}` };
  } else if (!bare.includes(".")) {
    return { ok: false, reason: "a single-label host name is not a public name" };
  }
  return { ok: true, url: url.href };
}

// ---- retries -------------------------------------------------------------------------------------

/**
 * Seconds to wait after failed attempt n (index n − 1) before attempt n + 1: 5 s, 5 min, 30 min,
 * 2 h, 5 h, 10 h, 10 h. Eight attempts over 27 h 35 min (Queues caps one delay at 12 h); after the
 * eighth the delivery is dead-lettered.
 */
export const WEBHOOK_RETRY_DELAYS_SECONDS: readonly number[] = [5, 300, 1800, 7200, 18_000, 36_000, 36_000];
export const WEBHOOK_MAX_ATTEMPTS = WEBHOOK_RETRY_DELAYS_SECONDS.length + 1;
/** How long one attempt may take before it counts as failed. */
export const WEBHOOK_TIMEOUT_MS = 10_000;

/** The delay before the next attempt after failed attempt `attempt` (1-based), or null when none is left. */
export function webhookRetryDelay(attempt: number): number | null {
  return attempt >= 1 && attempt < WEBHOOK_MAX_ATTEMPTS ? WEBHOOK_RETRY_DELAYS_SECONDS[Math.floor(attempt) - 1]! : null;
}

/** Whether a receiver's answer means "delivered". */
export function delivered(status: number): boolean {
  return status >= 200 && status < 300;
}

// ---- stock crossings -----------------------------------------------------------------------------

export type StockState = "ok" | "low" | "out";

/** A SKU's stock state for `available` units under `threshold`. */
export function stockState(available: number, threshold: number): StockState {
  if (available <= 0) return "out";
  return available <= threshold ? "low" : "ok";
}

/**
 * The events a move from `before` (null: never seen, counted as ok) to `after` emits: one
 * `inventory.low` when it drops to or below the threshold, one `inventory.out_of_stock` when it
 * runs out (both, in that order, when it falls straight from ok to out). Moving up re-arms them;
 * staying where it is emits nothing, however many reports say so.
 */
export function stockCrossings(before: StockState | null, after: StockState): Array<"inventory.low" | "inventory.out_of_stock"> {
  const from = before ?? "ok";
  const events: Array<"inventory.low" | "inventory.out_of_stock"> = [];
  if (from === "ok" && after !== "ok") events.push("inventory.low");
  if (from !== "out" && after === "out") events.push("inventory.out_of_stock");
  return events;
}

// ---- order events --------------------------------------------------------------------------------

/** What an endpoint subscribed to `types` receives. */
export function endpointWants(endpoint: { enabled: boolean; event_types: readonly string[] }, type: WebhookEventType): boolean {
  return endpoint.enabled && endpoint.event_types.includes(type);
}

/** The event of an order settling as paid (its data is the archived order, amounts and all). */
export function orderPaidEvent(id: string, order: OrderState, lines: readonly StoredLine[]): WebhookEventPayload {
  const archived = archivalMessage(order, lines).order;
  return { id, type: "order.paid", timestamp: archived.paid_at, data: archived };
}

/** The event of a pending order closing: cancelled or expired. */
export function orderClosedEvent(
  id: string,
  order: OrderState,
  lines: readonly StoredLine[],
  status: Extract<OrderStatus, "cancelled" | "expired">,
  now: number,
): WebhookEventPayload {
  const view = { ...orderView(order, lines), status };
  return { id, type: status === "cancelled" ? "order.cancelled" : "order.expired", timestamp: new Date(now).toISOString(), data: view };
}

/** The event of a payment that must be given back (late, second, or of an unfulfillable order). */
export function refundDueEvent(id: string, refund: ReturnType<typeof refundDueMessage>): WebhookEventPayload {
  return { id, type: "order.refund_due", timestamp: refund.refund.recorded_at, data: refund.refund };
}
