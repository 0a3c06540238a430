/**
 * Structured JSON logs, one object per line, each carrying the request id. Workers Logs
 * (observability) indexes the fields. Never pass credentials or bodies here.
 */
export type LogFields = Record<string, unknown>;

/** Writes one structured log line at the given level. */
export function log(level: "info" | "warn" | "error", message: string, fields: LogFields = {}): void {
  const line = JSON.stringify({ level, message, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/** Turns an unknown thrown value into loggable fields (name, message, stack) for the server log only. */
export function errorFields(error: unknown): LogFields {
  if (error instanceof Error) return { error: error.name, error_message: error.message, stack: error.stack };
  return { error: String(error) };
}
