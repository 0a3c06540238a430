export function startRelay(options?: { port?: number; delayMs?: number }): Promise<{ port: number; url: string; close(): Promise<void> }>;
