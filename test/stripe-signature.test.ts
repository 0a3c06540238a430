// The Stripe-Signature verifier (src/platform/stripe-signature.ts) against the official `stripe`
// package on the same inputs: headers the package signs, and the ways a header is forged, tampered
// with, rolled between two secrets, malformed or late. Each case states its expected answer, and
// the package's `constructEventAsync` must give the same one (the package refuses only stale
// timestamps; a timestamp from the future is refused by edgecart alone).
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { checkStripeSignature, parseStripeSignature } from "../src/platform/stripe-signature";

const SECRET = "whsec_test_0123456789abcdefghijklmnopqrstuv";
const OTHER_SECRET = "whsec_test_rolled_secret_zyxwvutsrqponmlkji";
const TOLERANCE = 300;
const NOW = 1_796_000_000; // Unix seconds, fixed so each case is the same every run
const BODY = JSON.stringify({ id: "evt_1", object: "event", type: "payment_intent.succeeded", data: { object: { amount: 1999 } } });
const cryptoProvider = Stripe.createSubtleCryptoProvider();

/** The hex `v1` signature Stripe computes for `body` at `at` under `secret`. */
async function v1(body: string, at: number, secret = SECRET): Promise<string> {
  const header = await Stripe.webhooks.generateTestHeaderStringAsync({ payload: body, secret, timestamp: at, cryptoProvider });
  const signature = header.split(",v1=")[1];
  if (signature === undefined || !/^[0-9a-f]{64}$/.test(signature)) throw new Error(`unexpected test header ${header}`);
  return signature;
}

/** Whether the package accepts the header (its own tolerance, at NOW). */
async function packageAccepts(header: string, body: string): Promise<boolean> {
  try {
    await Stripe.webhooks.constructEventAsync(body, header, SECRET, TOLERANCE, cryptoProvider, NOW * 1000);
    return true;
  } catch (error) {
    if (error instanceof Stripe.errors.StripeSignatureVerificationError) return false;
    throw error;
  }
}

interface Case {
  name: string;
  header: () => Promise<string>;
  body?: string;
  /** edgecart's answer: null (accepted) or the reason it refuses. */
  expected: Awaited<ReturnType<typeof checkStripeSignature>>;
}

const cases: Case[] = [
  { name: "a header as Stripe signs it", header: async () => `t=${NOW},v1=${await v1(BODY, NOW)}`, expected: null },
  {
    name: "a v0 signature after it (Stripe's test-mode extra)",
    header: async () => `t=${NOW},v1=${await v1(BODY, NOW)},v0=${"0".repeat(64)}`,
    expected: null,
  },
  {
    name: "two v1 while the secret is rolled, the matching one second",
    header: async () => `t=${NOW},v1=${await v1(BODY, NOW, OTHER_SECRET)},v1=${await v1(BODY, NOW)}`,
    expected: null,
  },
  {
    name: "items in another order",
    header: async () => `v1=${await v1(BODY, NOW)},t=${NOW}`,
    expected: null,
  },
  { name: "signed with another secret", header: async () => `t=${NOW},v1=${await v1(BODY, NOW, OTHER_SECRET)}`, expected: "no_match" },
  {
    name: "a tampered body",
    header: async () => `t=${NOW},v1=${await v1(BODY, NOW)}`,
    body: BODY.replace("1999", "1998"),
    expected: "no_match",
  },
  {
    name: "the signature of another timestamp",
    header: async () => `t=${NOW - 1},v1=${await v1(BODY, NOW)}`,
    expected: "no_match",
  },
  {
    name: "the signature in upper-case hex",
    header: async () => `t=${NOW},v1=${(await v1(BODY, NOW)).toUpperCase()}`,
    expected: "no_match",
  },
  { name: "the signature cut short", header: async () => `t=${NOW},v1=${(await v1(BODY, NOW)).slice(0, 63)}`, expected: "no_match" },
  { name: "a space before the v1 item", header: async () => `t=${NOW}, v1=${await v1(BODY, NOW)}`, expected: "malformed" },
  { name: "only a v0 signature", header: async () => `t=${NOW},v0=${await v1(BODY, NOW)}`, expected: "malformed" },
  { name: "no timestamp", header: async () => `v1=${await v1(BODY, NOW)}`, expected: "malformed" },
  { name: "a Standard Webhooks signature", header: async () => "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=", expected: "malformed" },
  { name: "an empty header", header: async () => "", expected: "malformed" },
  {
    name: "signed exactly the tolerance ago",
    header: async () => `t=${NOW - TOLERANCE},v1=${await v1(BODY, NOW - TOLERANCE)}`,
    expected: null,
  },
  {
    name: "signed one second more than the tolerance ago",
    header: async () => `t=${NOW - TOLERANCE - 1},v1=${await v1(BODY, NOW - TOLERANCE - 1)}`,
    expected: "too_old",
  },
];

describe("Stripe-Signature verification", () => {
  for (const testCase of cases) {
    it(`${testCase.expected === null ? "accepts" : "refuses"} ${testCase.name}, as the stripe package does`, async () => {
      const header = await testCase.header();
      const body = testCase.body ?? BODY;
      expect(await checkStripeSignature(SECRET, header, body, TOLERANCE, NOW)).toBe(testCase.expected);
      expect(await packageAccepts(header, body)).toBe(testCase.expected === null);
    });
  }

  it("refuses a timestamp more than the tolerance in the future, which the package lets through", async () => {
    const at = NOW + TOLERANCE + 1;
    const header = `t=${at},v1=${await v1(BODY, at)}`;
    expect(await checkStripeSignature(SECRET, header, BODY, TOLERANCE, NOW)).toBe("too_new");
    expect(await packageAccepts(header, BODY)).toBe(true);
    const within = `t=${NOW + TOLERANCE},v1=${await v1(BODY, NOW + TOLERANCE)}`;
    expect(await checkStripeSignature(SECRET, within, BODY, TOLERANCE, NOW)).toBeNull();
  });

  it("reads a timestamp of digits only, and refuses a header over 4 KiB", async () => {
    expect(parseStripeSignature("t=12ab,v1=00")).toBeNull();
    expect(parseStripeSignature("t=-5,v1=00")).toBeNull();
    expect(parseStripeSignature("t=,v1=00")).toBeNull();
    expect(parseStripeSignature(`t=${NOW},v1=aa,v1=bb,v0=cc`)).toEqual({ timestamp: NOW, signatures: ["aa", "bb"] });
    const signature = await v1(BODY, NOW);
    const long = `t=${NOW},v1=${signature},${"x".repeat(4096)}`;
    expect(await checkStripeSignature(SECRET, `t=${NOW},v1=${signature},${"x".repeat(64)}`, BODY, TOLERANCE, NOW)).toBeNull();
    expect(await checkStripeSignature(SECRET, long, BODY, TOLERANCE, NOW)).toBe("malformed");
  });
});
