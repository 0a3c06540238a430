/**
 * Reads an HTTP body as text within limits: at most `maxBytes`, and never past `signal` (a slow
 * body cannot outlast a deadline, whether or not the runtime aborts the stream itself). Depends on
 * nothing of ours.
 */

/** Why a body that arrived could not be taken. */
export class BodyRefused extends Error {
  constructor(readonly kind: "too_large" | "not_utf8") {
    super(kind === "too_large" ? "body over its size limit" : "body is not UTF-8");
    this.name = "BodyRefused";
  }
}

/**
 * The body as UTF-8 text. Throws `BodyRefused` when it is larger than `maxBytes` or not UTF-8,
 * `signal.reason` once `signal` aborts (the stream is cancelled), and the stream's own error when
 * the connection fails midway.
 */
export async function readText(
  body: ReadableStream<Uint8Array> | null,
  options: { maxBytes: number; signal: AbortSignal },
): Promise<string> {
  if (body === null) return "";
  const { maxBytes, signal } = options;
  const reader = body.getReader();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  // The race below may settle without it; it must never count as unhandled.
  aborted.catch(() => {});
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), aborted]);
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) throw new BodyRefused("too_large");
      chunks.push(value);
    }
  } catch (error) {
    reader.cancel().catch(() => {});
    throw error;
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new BodyRefused("not_utf8");
  }
}
