// Header room: a request that fits in `limits.maxHeaderBytes` must still fit in a backend whose own
// limit is the same size after Gatehouse added X-Forwarded-*, X-Real-IP, X-Request-ID, the client
// identity and a rewritten path or Host. Otherwise the backend refuses a request that the edge
// accepted, or a backend with a larger limit is the only thing between a client and a 431.
//
// The unit is what Node's HTTP/1 parser counts against maxHeaderSize (and what most servers count
// alike): the request target plus every field name and value, without separators; a head is
// refused when that reaches the limit. The client's count comes free from the header screen's
// scan; an upper bound of what was added is a few string lengths; only when that bound reaches the
// limit are the forwarded fields counted exactly, so an ordinary request pays three additions.

/**
 * Names and values Gatehouse always writes, at their longest: X-Forwarded-For (a peer address and
 * ", " appended to a trusted chain), X-Real-IP, X-Forwarded-Proto, the X-Forwarded-Host name, and
 * X-Request-ID. The Host copied into X-Forwarded-Host, the identity header and a replaced Host
 * vary per request and are added by the caller.
 */
export const FIXED_ADDED_BYTES =
  'x-forwarded-for'.length +
  47 +
  'x-real-ip'.length +
  45 +
  'x-forwarded-proto'.length +
  5 +
  'x-forwarded-host'.length +
  'x-request-id'.length +
  128;

/** The forwarded head as Node's parser counts it: target, names and values (pseudo-headers skipped). */
export function forwardedHeadBytes(urlLength: number, headers: Readonly<Record<string, unknown>>): number {
  let bytes = urlLength;
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 /* : */) continue;
    const value = headers[name];
    if (typeof value === 'string') bytes += name.length + value.length;
    else if (Array.isArray(value)) {
      for (const item of value) bytes += name.length + String(item).length;
    } else if (typeof value === 'number') bytes += name.length + String(value).length;
  }
  return bytes;
}

/**
 * Would the forwarded head reach `limit` (0: no limit)? `urlLength`: the forwarded target's length
 * (or a bound of it). `clientFieldBytes`: the client's names and values (screenClientHeaders).
 * `addedBound`: an upper bound of what the caller added beyond FIXED_ADDED_BYTES (the Host copied
 * to X-Forwarded-Host, the identity header, a replaced Host).
 */
export function exceedsHeaderRoom(
  limit: number,
  urlLength: number,
  clientFieldBytes: number,
  addedBound: number,
  headers: Readonly<Record<string, unknown>>,
): boolean {
  if (limit <= 0) return false;
  if (urlLength + clientFieldBytes + FIXED_ADDED_BYTES + addedBound < limit) return false;
  return forwardedHeadBytes(urlLength, headers) >= limit;
}
