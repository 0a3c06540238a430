/**
 * A dependency the request needs is not available right now (Postgres down, not migrated yet):
 * the client should retry later. The HTTP seam answers it 503 with Retry-After; queue consumers
 * and crons treat it as transient.
 */
export class DependencyUnavailableError extends Error {
  constructor(
    readonly dependency: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(`${dependency} is unavailable`, options);
    this.name = "DependencyUnavailableError";
  }
}
