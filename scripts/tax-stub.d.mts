export const DEV_TAX_SERVICE_SECRET: string;
export function roundHalfEven(numerator: bigint, denominator: bigint): bigint;
export function startTaxStub(options?: {
  host?: string;
  port?: number;
  rateBp?: number;
  secret?: string;
}): Promise<{ port: number; origin: string; url: string; close(): Promise<void> }>;
