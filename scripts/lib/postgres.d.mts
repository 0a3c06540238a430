export function freePort(): Promise<number>;
export function startEmbeddedPostgres(options?: {
  dataDir?: string;
  port?: number;
  maxConnections?: number;
}): Promise<{ url: string; port: number; close(): Promise<void> }>;
export function createScratchDatabase(serverUrl: string, prefix?: string): Promise<{ url: string; name: string; drop(): Promise<void> }>;
export function migrate(url: string): Promise<void>;
