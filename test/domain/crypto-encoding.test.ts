import { describe, expect, it } from "vitest";
import { base64UrlDecode, base64UrlEncode, fromHex, toHex } from "../../src/platform/crypto";

/** The textbook encoding: btoa, then the URL-safe alphabet and no padding. */
const reference = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");

describe("base64url and hex", () => {
  it("encodes every length and every byte value as btoa does, without padding, and decodes back", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    for (let length = 0; length <= 40; length++) {
      const bytes = crypto.getRandomValues(new Uint8Array(length));
      const text = base64UrlEncode(bytes);
      expect(text).toBe(reference(bytes));
      expect(text).toMatch(/^[A-Za-z0-9_-]*$/);
      expect(base64UrlDecode(text)).toEqual(bytes);
    }
    expect(base64UrlEncode(all)).toBe(reference(all));
    expect(base64UrlEncode(Uint8Array.of(0xfb, 0xff))).toBe("-_8");
  });

  it("reads hex back into the bytes it came from, either case", () => {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    expect(fromHex(toHex(bytes))).toEqual(bytes);
    expect(fromHex(toHex(bytes).toUpperCase())).toEqual(bytes);
    expect(fromHex("00ff10")).toEqual(Uint8Array.of(0, 255, 16));
    expect(fromHex("")).toEqual(new Uint8Array(0));
  });
});
