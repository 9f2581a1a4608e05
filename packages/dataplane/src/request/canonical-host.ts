// The one spelling of the request's host that the router, the client-auth policy, the 421 check,
// X-Forwarded-Host and the backend all see. `API.test.` and `api.test` name the same server in DNS;
// if the router read one and a policy the other, the trailing dot would move a request from its
// route to a catch-all with a weaker policy. So the Host (or :authority) is rewritten once:
// ASCII lower case, one trailing dot of the name removed, an empty port dropped. Refused (400),
// because no route can be proven to be the one meant: an empty label (`a..b`, `.a`, `a..`), a `%`
// escape (a backend that decodes it sees another name), a port that is not 1-65535 digits, and a
// bare IPv6 address without brackets. The common case, already canonical, costs one scan and
// returns the same string.

import { ERROR_KINDS, type ErrorKind } from '../errors.ts';

export const HOST_REFUSAL = ERROR_KINDS.hostNotCanonical;

const DOT = 46;
const COLON = 58;
const PERCENT = 37;
const OPEN = 91; // [

/** Index of the `:` that starts the port, -1 without a port, -2 when the authority is malformed. */
function portColon(host: string): number {
  if (host.charCodeAt(0) === OPEN) {
    const close = host.indexOf(']');
    if (close === -1) return -2;
    if (close + 1 === host.length) return -1;
    return host.charCodeAt(close + 1) === COLON ? close + 1 : -2;
  }
  const colon = host.indexOf(':');
  if (colon === -1) return -1;
  return host.indexOf(':', colon + 1) === -1 ? colon : -2;
}

function isValidPort(host: string, from: number): boolean {
  const length = host.length - from;
  if (length > 5) return false;
  let n = 0;
  for (let i = from; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c < 48 || c > 57) return false;
    n = n * 10 + (c - 48);
  }
  return n >= 1 && n <= 65_535;
}

/**
 * The canonical form of a Host header or :authority value (`name` or `name:port`), or why it is
 * refused. Characters outside an authority are the framing guard's business (it runs first).
 */
export function canonicalHost(host: string): string | ErrorKind {
  const colon = portColon(host);
  if (colon === -2) return HOST_REFUSAL;
  let nameEnd = colon === -1 ? host.length : colon;
  // `host:` has an empty port (RFC 3986 allows it): it means the default, so it goes.
  const emptyPort = colon !== -1 && colon + 1 === host.length;
  if (colon !== -1 && !emptyPort && !isValidPort(host, colon + 1)) return HOST_REFUSAL;
  let upper = false;
  if (host.charCodeAt(0) === OPEN) {
    for (let i = 1; i < nameEnd - 1; i++) {
      const c = host.charCodeAt(i);
      if (c === PERCENT) return HOST_REFUSAL;
      if (c >= 65 && c <= 90) upper = true;
    }
  } else {
    if (nameEnd === 0) return HOST_REFUSAL;
    const trailingDot = host.charCodeAt(nameEnd - 1) === DOT;
    if (trailingDot) nameEnd--;
    let previous = DOT;
    for (let i = 0; i < nameEnd; i++) {
      const c = host.charCodeAt(i);
      if (c === DOT && previous === DOT) return HOST_REFUSAL;
      if (c === PERCENT) return HOST_REFUSAL;
      if (c >= 65 && c <= 90) upper = true;
      previous = c;
    }
    if (nameEnd === 0 || previous === DOT) return HOST_REFUSAL;
    if (!upper && !trailingDot && !emptyPort) return host;
    const name = upper ? host.slice(0, nameEnd).toLowerCase() : host.slice(0, nameEnd);
    return colon === -1 || emptyPort ? name : name + host.slice(colon);
  }
  if (!upper && !emptyPort) return host;
  const name = host.slice(0, nameEnd).toLowerCase();
  return colon === -1 || emptyPort ? name : name + host.slice(colon);
}
