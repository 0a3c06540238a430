export const root: string;
export function readVars(file: string): Record<string, string>;
export function setting(name: string, fallback?: string): string | undefined;
export function flag(argv: string[], name: string): string | undefined;
export function baseUrl(argv?: string[]): string;
