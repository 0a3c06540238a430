// The load client: one undici Pool of keep-alive connections (one per shopper in flight), and
// latency histograms (hdr-histogram-js, microseconds, 3 significant digits).
import hdr from "hdr-histogram-js";
import { Pool } from "undici";

/** An HTTP client for one origin. */
export class Client {
  /** @param {string} origin @param {{ connections?: number, adminToken?: string }} options */
  constructor(origin, { connections = 64, adminToken } = {}) {
    // Idle connections are dropped after 4 s (undici's default): a connection idle for longer (e.g.
    // during a long admin call) may have been closed by workerd, and reusing it fails ECONNRESET.
    this.pool = new Pool(origin, {
      connections,
      pipelining: 1,
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 4_000,
      headersTimeout: 120_000,
      bodyTimeout: 120_000,
    });
    this.admin = adminToken === undefined ? {} : { authorization: `Bearer ${adminToken}` };
  }

  /**
   * Sends a request; resolves to { status, body (parsed JSON or null), ms }. A network failure
   * resolves with status 0 (and `error`), so a load run counts it instead of stopping.
   */
  async request(method, path, { body, headers = {} } = {}) {
    const started = performance.now();
    try {
      const response = await this.pool.request({
        method,
        path,
        headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
        // A string is sent as it is (e.g. a signed webhook body); anything else as JSON.
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await response.body.text();
      const ms = performance.now() - started;
      let parsed = null;
      if (text) {
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
      }
      return { status: response.statusCode, body: parsed, ms };
    } catch (error) {
      return { status: 0, body: null, ms: performance.now() - started, error: error.code ?? error.message };
    }
  }

  /** An admin request that must answer `expected`; throws otherwise. */
  async adminCall(method, path, body, expected = [200, 201]) {
    let response = await this.request(method, path, { body, headers: this.admin });
    // Set-up and read-back calls are idempotent (GET, PUT): one retry on a dropped connection.
    if (response.status === 0 && (method === "GET" || method === "PUT"))
      response = await this.request(method, path, { body, headers: this.admin });
    if (!expected.includes(response.status))
      throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body ?? response.error)}`);
    return response.body;
  }

  close() {
    return this.pool.close();
  }
}

/** A latency histogram in microseconds. */
export function histogram() {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

/** Summary of a histogram in ms: count, mean, p50, p90, p99, p99.9, max (null when empty). */
export function summary(h) {
  if (h.totalCount === 0) return { count: 0, mean_ms: null, p50_ms: null, p90_ms: null, p99_ms: null, p999_ms: null, max_ms: null };
  const ms = (us) => Math.round(us) / 1000;
  return {
    count: h.totalCount,
    mean_ms: ms(h.mean),
    p50_ms: ms(h.getValueAtPercentile(50)),
    p90_ms: ms(h.getValueAtPercentile(90)),
    p99_ms: ms(h.getValueAtPercentile(99)),
    p999_ms: ms(h.getValueAtPercentile(99.9)),
    max_ms: ms(h.maxValue),
  };
}
