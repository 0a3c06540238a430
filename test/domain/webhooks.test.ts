import { describe, expect, it } from "vitest";
import {
  checkWebhookUrl,
  stockCrossings,
  stockState,
  WEBHOOK_MAX_ATTEMPTS,
  WEBHOOK_RETRY_DELAYS_SECONDS,
  webhookRetryDelay,
} from "../../src/domain/webhooks";

const production = { allowLoopback: false };
const dev = { allowLoopback: true };

describe("webhook URLs (SSRF)", () => {
  it("accepts https URLs of public hosts", () => {
    for (const url of [
      "https://hooks.example.com/edgecart",
      "https://93.184.216.34/x",
      "https://[2606:4700::1111]/x",
      "https://example.com:8443/a?b=c",
    ]) {
      expect(checkWebhookUrl(url, production), url).toMatchObject({ ok: true });
    }
  });

  it("refuses every private, loopback, link-local, CGNAT and reserved host, however the address is spelled", () => {
    const refused = [
      "http://hooks.example.com/x", // not https
      "ftp://example.com/x",
      "https://user:pass@example.com/x",
      "https://localhost/x",
      "https://LOCALHOST./x",
      "https://api.localhost/x",
      "https://printer.local/x",
      "https://metadata.google.internal/x",
      "https://intranet/x", // single label
      "https://127.0.0.1/x",
      "https://127.1/x", // short form
      "https://0x7f.0.0.1/x", // hex
      "https://2130706433/x", // decimal
      "https://0177.0.0.1/x", // octal
      "https://0.0.0.0/x",
      "https://10.1.2.3/x",
      "https://172.16.0.1/x",
      "https://172.31.255.255/x",
      "https://192.168.1.1/x",
      "https://169.254.169.254/latest/meta-data",
      "https://100.64.0.1/x", // CGNAT
      "https://100.127.255.254/x",
      "https://198.18.0.1/x",
      "https://224.0.0.1/x",
      "https://255.255.255.255/x",
      "https://[::1]/x",
      "https://[::]/x",
      "https://[::ffff:127.0.0.1]/x", // IPv4-mapped
      "https://[::ffff:10.0.0.1]/x",
      "https://[::ffff:169.254.169.254]/x",
      "https://[64:ff9b::a00:1]/x", // NAT64 of 10.0.0.1
      "https://[2002:a00:1::]/x", // 6to4 of 10.0.0.1
      "https://[fc00::1]/x",
      "https://[fd12:3456::1]/x",
      "https://[fe80::1]/x",
      "https://[ff02::1]/x",
      "https://[2001:db8::1]/x",
      "not a url",
    ];
    for (const url of refused) expect(checkWebhookUrl(url, production), url).toMatchObject({ ok: false });
  });

  it("lets loopback through, over http too, only when allowed; other private hosts stay refused", () => {
    for (const url of [
      "http://127.0.0.1:9999/hook",
      "http://localhost:8080/x",
      "http://[::1]:3000/x",
      "https://127.0.0.1/x",
      "http://0x7f.1:80/x",
    ]) {
      expect(checkWebhookUrl(url, dev), url).toMatchObject({ ok: true });
      expect(checkWebhookUrl(url, production), url).toMatchObject({ ok: false });
    }
    for (const url of ["http://10.0.0.1/x", "http://192.168.0.10/x", "http://169.254.169.254/x", "http://example.com/x"]) {
      expect(checkWebhookUrl(url, dev), url).toMatchObject({ ok: false });
    }
  });
});

describe("webhook retries", () => {
  it("span more than 24 hours, no delay over Queues' 12-hour cap, then stop", () => {
    const total = WEBHOOK_RETRY_DELAYS_SECONDS.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(24 * 3600);
    expect(Math.max(...WEBHOOK_RETRY_DELAYS_SECONDS)).toBeLessThanOrEqual(12 * 3600);
    expect(WEBHOOK_MAX_ATTEMPTS).toBe(8);
    expect([1, 2, 3, 7].map(webhookRetryDelay)).toEqual([5, 300, 1800, 36_000]);
    expect(webhookRetryDelay(8)).toBeNull();
  });
});

describe("stock crossings", () => {
  it("emits one inventory.low per crossing and one out_of_stock per running out", () => {
    expect(stockState(10, 5)).toBe("ok");
    expect(stockState(5, 5)).toBe("low");
    expect(stockState(0, 5)).toBe("out");
    expect(stockCrossings(null, "ok")).toEqual([]);
    expect(stockCrossings("ok", "low")).toEqual(["inventory.low"]);
    expect(stockCrossings("low", "low")).toEqual([]);
    expect(stockCrossings("low", "out")).toEqual(["inventory.out_of_stock"]);
    expect(stockCrossings("ok", "out")).toEqual(["inventory.low", "inventory.out_of_stock"]);
    expect(stockCrossings("out", "low")).toEqual([]);
    expect(stockCrossings("out", "ok")).toEqual([]);
    expect(stockCrossings(null, "low")).toEqual(["inventory.low"]);
  });
});
