// Postgres wire protocol pieces of the bench's db proxies (bench/lib/db-proxy.mjs,
// bench/lib/pool-proxy.mjs): startup request codes, splitting a stream into messages, building
// messages.

export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;

/** Splits a stream of type-tagged Postgres messages (1 byte type, int32 length) into messages. */
export function messageSplitter(onMessage) {
  let buffer = Buffer.alloc(0);
  return (chunk) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    while (buffer.length >= 5) {
      const length = buffer.readInt32BE(1);
      if (buffer.length < 1 + length) return;
      onMessage(buffer[0], buffer.subarray(0, 1 + length));
      buffer = buffer.subarray(1 + length);
    }
  };
}

export function message(type, payload = Buffer.alloc(0)) {
  const out = Buffer.alloc(5 + payload.length);
  out[0] = type.charCodeAt(0);
  out.writeInt32BE(4 + payload.length, 1);
  payload.copy(out, 5);
  return out;
}

export function startupMessage(params) {
  const body = Buffer.concat([
    ...Object.entries(params).flatMap(([k, v]) => [Buffer.from(`${k}\0`), Buffer.from(`${v}\0`)]),
    Buffer.from([0]),
  ]);
  const out = Buffer.alloc(8 + body.length);
  out.writeInt32BE(8 + body.length, 0);
  out.writeInt32BE(196608, 4); // protocol 3.0
  body.copy(out, 8);
  return out;
}
