export function startRelay(options?: {
  port?: number;
  delayMs?: number;
  serialize?: boolean;
  control?: boolean;
}): Promise<{ port: number; url: string; close(): Promise<void> }>;
