// Stripe-Signature verification as the Worker runs it (src/platform/stripe-webhooks.ts: the stripe
// package's webhook module, imported by path without the API client) against `Stripe.webhooks` of
// the package's public entry, on the same inputs: headers the package signs, and the ways a header
// is forged, tampered with, rolled between two secrets, malformed or late. Each case states the
// expected answer and both must give it. (The route also refuses a timestamp from the future,
// which the package lets through: test/stripe-webhook.test.ts.)
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { StripeSignatureVerificationError, stripeCryptoProvider, stripeWebhooks } from "../src/platform/stripe-webhooks";

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

type Verifier = (body: string, header: string) => Promise<unknown>;

const worker: Verifier = (body, header) =>
  stripeWebhooks.constructEventAsync(body, header, SECRET, TOLERANCE, stripeCryptoProvider, NOW * 1000);
const publicEntry: Verifier = (body, header) =>
  Stripe.webhooks.constructEventAsync(body, header, SECRET, TOLERANCE, cryptoProvider, NOW * 1000);

/** Whether `verify` accepts the header: the event, or false on a signature error (anything else is thrown). */
async function accepts(verify: Verifier, header: string, body: string, errorClass: abstract new (...args: never[]) => Error) {
  try {
    return await verify(body, header);
  } catch (error) {
    if (error instanceof errorClass) return false;
    throw error;
  }
}

interface Case {
  name: string;
  header: () => Promise<string>;
  body?: string;
  accepted: boolean;
}

const cases: Case[] = [
  { name: "a header as Stripe signs it", header: async () => `t=${NOW},v1=${await v1(BODY, NOW)}`, accepted: true },
  {
    name: "a v0 signature after it (Stripe's test-mode extra)",
    header: async () => `t=${NOW},v1=${await v1(BODY, NOW)},v0=${"0".repeat(64)}`,
    accepted: true,
  },
  {
    name: "two v1 while the secret is rolled, the matching one second",
    header: async () => `t=${NOW},v1=${await v1(BODY, NOW, OTHER_SECRET)},v1=${await v1(BODY, NOW)}`,
    accepted: true,
  },
  {
    name: "items in another order",
    header: async () => `v1=${await v1(BODY, NOW)},t=${NOW}`,
    accepted: true,
  },
  { name: "signed with another secret", header: async () => `t=${NOW},v1=${await v1(BODY, NOW, OTHER_SECRET)}`, accepted: false },
  {
    name: "a tampered body",
    header: async () => `t=${NOW},v1=${await v1(BODY, NOW)}`,
    body: BODY.replace("1999", "1998"),
    accepted: false,
  },
  {
    name: "the signature of another timestamp",
    header: async () => `t=${NOW - 1},v1=${await v1(BODY, NOW)}`,
    accepted: false,
  },
  {
    name: "the signature in upper-case hex",
    header: async () => `t=${NOW},v1=${(await v1(BODY, NOW)).toUpperCase()}`,
    accepted: false,
  },
  { name: "the signature cut short", header: async () => `t=${NOW},v1=${(await v1(BODY, NOW)).slice(0, 63)}`, accepted: false },
  { name: "a space before the v1 item", header: async () => `t=${NOW}, v1=${await v1(BODY, NOW)}`, accepted: false },
  { name: "only a v0 signature", header: async () => `t=${NOW},v0=${await v1(BODY, NOW)}`, accepted: false },
  { name: "no timestamp", header: async () => `v1=${await v1(BODY, NOW)}`, accepted: false },
  { name: "a Standard Webhooks signature", header: async () => "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=", accepted: false },
  { name: "an empty header", header: async () => "", accepted: false },
  {
    name: "signed exactly the tolerance ago",
    header: async () => `t=${NOW - TOLERANCE},v1=${await v1(BODY, NOW - TOLERANCE)}`,
    accepted: true,
  },
  {
    name: "signed one second more than the tolerance ago",
    header: async () => `t=${NOW - TOLERANCE - 1},v1=${await v1(BODY, NOW - TOLERANCE - 1)}`,
    accepted: false,
  },
];

describe("Stripe-Signature verification", () => {
  for (const testCase of cases) {
    it(`${testCase.accepted ? "accepts" : "refuses"} ${testCase.name}, as the package's public entry does`, async () => {
      const header = await testCase.header();
      const body = testCase.body ?? BODY;
      const expected = testCase.accepted ? JSON.parse(body) : false;
      expect(await accepts(worker, header, body, StripeSignatureVerificationError)).toEqual(expected);
      expect(await accepts(publicEntry, header, body, Stripe.errors.StripeSignatureVerificationError)).toEqual(expected);
    });
  }

  it("signs test headers the same way as the public entry", async () => {
    const options = { payload: BODY, secret: SECRET, timestamp: NOW };
    expect(await stripeWebhooks.generateTestHeaderStringAsync({ ...options, cryptoProvider: stripeCryptoProvider })).toBe(
      await Stripe.webhooks.generateTestHeaderStringAsync({ ...options, cryptoProvider }),
    );
  });
});
