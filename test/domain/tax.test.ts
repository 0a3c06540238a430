// The tax rules (src/domain/tax.ts), on their own: exact rounding, inclusive and exclusive tax,
// the external service's request and its cache key.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { exclusiveTax, inclusiveTax, roundHalfEven, type TaxableCart, taxCacheKey, taxRequest } from "../../src/domain/tax";

/** Runs a property at least `numRuns` times and prints how many it did. */
function assertProperty<T>(name: string, arbitrary: fc.Arbitrary<T>, predicate: (value: T) => void, numRuns = 1000): void {
  let runs = 0;
  fc.assert(
    fc.property(arbitrary, (value) => {
      runs += 1;
      predicate(value);
    }),
    { numRuns },
  );
  console.log(`property "${name}": ${runs} runs`);
  expect(runs).toBeGreaterThanOrEqual(numRuns);
}

/**
 * Whether `result` is numerator / denominator rounded half-even, checked on the exact rational
 * without dividing: |result − n/d| ≤ 1/2, and at exactly 1/2 the result is even.
 */
function isHalfEvenOf(result: bigint, numerator: bigint, denominator: bigint): boolean {
  const twiceError = 2n * (result * denominator - numerator);
  const distance = twiceError < 0n ? -twiceError : twiceError;
  if (distance > denominator) return false;
  return distance < denominator || result % 2n === 0n;
}

const gross = fc.oneof(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));

describe("roundHalfEven", () => {
  it("rounds to the nearest integer, a tie to the even one, in both directions", () => {
    const cases: Array<[bigint, bigint, bigint]> = [
      [0n, 7n, 0n],
      [1n, 3n, 0n],
      [2n, 3n, 1n],
      [1n, 2n, 0n],
      [3n, 2n, 2n],
      [5n, 2n, 2n],
      [7n, 2n, 4n],
      [-1n, 2n, 0n],
      [-3n, 2n, -2n],
      [-5n, 2n, -2n],
      [-2n, 3n, -1n],
      [10n, 5n, 2n],
    ];
    for (const [numerator, denominator, expected] of cases) expect(roundHalfEven(numerator, denominator)).toBe(expected);
  });

  it("refuses a denominator that is not positive", () => {
    expect(() => roundHalfEven(1n, 0n)).toThrow(RangeError);
    expect(() => roundHalfEven(1n, -2n)).toThrow(RangeError);
  });

  it("is the half-even rounding of the exact quotient, for any integers", () => {
    assertProperty(
      "roundHalfEven matches the exact rational",
      fc.tuple(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.bigInt({ min: 1n, max: 10n ** 20n })),
      ([numerator, denominator]) => {
        expect(isHalfEvenOf(roundHalfEven(numerator, denominator), numerator, denominator)).toBe(true);
      },
      5000,
    );
  });
});

describe("inclusiveTax", () => {
  it("is the tax contained in a gross amount", () => {
    expect(inclusiveTax(12_000, 2000)).toBe(2000); // 120.00 with 20 % VAT holds 20.00
    expect(inclusiveTax(119, 1900)).toBe(19);
    expect(inclusiveTax(1000, 700)).toBe(65); // 65.42… → 65
    expect(inclusiveTax(1, 10_000)).toBe(0); // 0.5 → 0 (even)
    expect(inclusiveTax(3, 10_000)).toBe(2); // 1.5 → 2 (even)
    expect(inclusiveTax(0, 2000)).toBe(0);
    expect(inclusiveTax(5000, 0)).toBe(0);
  });

  it("holds gross × bp / (10000 + bp), rounded half-even, for every rate 0–10000 bp and every gross amount", () => {
    assertProperty(
      "inclusiveTax matches the exact rational",
      fc.tuple(gross, fc.integer({ min: 0, max: 10_000 })),
      ([amount, bp]) => {
        const tax = inclusiveTax(amount, bp);
        expect(Number.isSafeInteger(tax)).toBe(true);
        expect(tax).toBeLessThanOrEqual(amount);
        expect(isHalfEvenOf(BigInt(tax), BigInt(amount) * BigInt(bp), 10_000n + BigInt(bp))).toBe(true);
      },
      10_000,
    );
  });

  it("holds for each of the 10001 rates exhaustively, at amounts that hit ties and the safe-integer edge", () => {
    const amounts = [1, 3, 9999, 10_001, 20_000, 123_456_789, Number.MAX_SAFE_INTEGER];
    for (let bp = 0; bp <= 10_000; bp++) {
      for (const amount of amounts) {
        const tax = inclusiveTax(amount, bp);
        if (!isHalfEvenOf(BigInt(tax), BigInt(amount) * BigInt(bp), 10_000n + BigInt(bp)))
          throw new Error(`inclusiveTax(${amount}, ${bp}) = ${tax}`);
      }
    }
  });

  it("refuses amounts and rates that are not non-negative safe integers", () => {
    expect(() => inclusiveTax(Number.MAX_SAFE_INTEGER + 1, 2000)).toThrow(RangeError);
    expect(() => inclusiveTax(-1, 2000)).toThrow(RangeError);
    expect(() => inclusiveTax(100, 19.5)).toThrow(RangeError);
    expect(() => inclusiveTax(0.5, 2000)).toThrow(RangeError);
  });
});

describe("exclusiveTax", () => {
  it("is net × bp / 10000, rounded half-even", () => {
    expect(exclusiveTax(1000, 825)).toBe(82); // 82.5 → 82
    expect(exclusiveTax(1200, 825)).toBe(99);
    expect(exclusiveTax(1010, 825)).toBe(83); // 83.325 → 83
    expect(exclusiveTax(1_000_000, 10_000)).toBe(1_000_000);
    expect(exclusiveTax(7, 0)).toBe(0);
  });

  it("matches the exact rational for every rate and amount", () => {
    assertProperty(
      "exclusiveTax matches the exact rational",
      fc.tuple(fc.integer({ min: 0, max: Math.floor(Number.MAX_SAFE_INTEGER / 2) }), fc.integer({ min: 0, max: 10_000 })),
      ([amount, bp]) => {
        expect(isHalfEvenOf(BigInt(exclusiveTax(amount, bp)), BigInt(amount) * BigInt(bp), 10_000n)).toBe(true);
      },
      5000,
    );
  });

  it("refuses a tax beyond safe integers", () => {
    expect(() => exclusiveTax(Number.MAX_SAFE_INTEGER, 20_000)).toThrow(RangeError);
  });
});

describe("the external tax service's request", () => {
  const cart: TaxableCart = {
    currency: "EUR",
    lines: [
      { sku: "SKU-B", product_id: "p2", category: null, quantity: 1, taxable: 500 },
      { sku: "SKU-A", product_id: "p1", category: "books", quantity: 2, taxable: 1800 },
    ],
  };
  const destination = { country: "de", region: null, postal_code: " 10115 " };

  it("is canonical JSON: versioned, sorted keys, lines in SKU order, destination normalized", () => {
    expect(taxRequest(cart, destination)).toBe(
      '{"currency":"EUR","destination":{"country":"DE","postal_code":"10115","region":null},"lines":[' +
        '{"amount":1800,"category":"books","product_id":"p1","quantity":2,"sku":"SKU-A"},' +
        '{"amount":500,"category":null,"product_id":"p2","quantity":1,"sku":"SKU-B"}],"version":1}',
    );
  });

  it("does not depend on the lines' order or the destination's spelling", () => {
    const reordered = { ...cart, lines: [...cart.lines].reverse() };
    expect(taxRequest(reordered, { country: "DE", region: "  ", postal_code: "10115" })).toBe(taxRequest(cart, destination));
  });

  it("is cached under the cart version and a hash of the exact body", async () => {
    const key = await taxCacheKey(3, destination, cart);
    expect(key).toMatch(/^tax:v1:3:[0-9a-f]{64}$/);
    expect(await taxCacheKey(3, { country: "DE", region: null, postal_code: "10115" }, { ...cart, lines: [...cart.lines].reverse() })).toBe(
      key,
    );
    expect(await taxCacheKey(4, destination, cart)).not.toBe(key);
    expect(await taxCacheKey(3, { ...destination, country: "AT" }, cart)).not.toBe(key);
    expect(await taxCacheKey(3, destination, { ...cart, currency: "USD" })).not.toBe(key);
    const discounted = { ...cart, lines: cart.lines.map((line) => (line.sku === "SKU-A" ? { ...line, taxable: 1700 } : line)) };
    expect(await taxCacheKey(3, destination, discounted)).not.toBe(key);
  });
});
