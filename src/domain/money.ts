/**
 * Money arithmetic in integer minor units. Every result is a safe integer or a thrown
 * RangeError: a total is never silently wrong.
 */

/** `amount × quantity`, refusing results beyond safe integers. */
export function multiply(amount: number, quantity: number): number {
  const total = amount * quantity;
  if (!Number.isSafeInteger(total)) throw new RangeError("money overflow");
  return total;
}

/** The sum of amounts, refusing results beyond safe integers. */
export function sum(amounts: readonly number[]): number {
  let total = 0;
  for (const amount of amounts) total += amount;
  if (!Number.isSafeInteger(total)) throw new RangeError("money overflow");
  return total;
}
