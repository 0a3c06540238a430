/**
 * Opaque pagination cursors: base64url JSON validated with a schema on the way back in, so a
 * tampered cursor is a 400, never a crash.
 */
import type * as z from "zod";
import { ApiError } from "./problem";

function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): string {
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

/** Encodes a cursor value. */
export function encodeCursor(value: unknown): string {
  return toBase64Url(JSON.stringify(value));
}

/** Decodes a cursor with `schema`; anything else is 400 `invalid_request` on `query.cursor`. */
export function decodeCursor<S extends z.ZodType>(schema: S, cursor: string): z.output<S> {
  try {
    const parsed = schema.safeParse(JSON.parse(fromBase64Url(cursor)));
    if (parsed.success) return parsed.data;
  } catch {
    // fall through to the 400 below
  }
  throw new ApiError(400, "invalid_request", "The cursor is not one this API issued.", {
    errors: [{ path: "query.cursor", message: "invalid cursor" }],
  });
}
