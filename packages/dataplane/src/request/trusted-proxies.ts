// Which peers may speak for the client. A proxy in front of Gatehouse appends the address it saw to
// X-Forwarded-For; only such a proxy is believed, and the client address is the right-most entry
// that no trusted proxy wrote, never the left-most one that the client itself can choose.
import { BlockList, isIP } from 'node:net';

export interface TrustedProxies {
  /** null: trust nobody (the default), so every check is a constant-time `false`. */
  readonly list: BlockList | null;
  readonly cidrs: readonly string[];
}

export class TrustedProxyError extends Error {
  readonly code = 'GH_TRUSTED_PROXY_CIDR';
  constructor(cidr: string, why: string) {
    super(`trusted proxy "${cidr}": ${why}`);
    this.name = 'TrustedProxyError';
  }
}

const MAPPED_PREFIX = '::ffff:';

/** Compiles the CIDRs once per snapshot. A bare address is a /32 or /128. Throws TrustedProxyError. */
export function compileTrustedProxies(cidrs: readonly string[]): TrustedProxies {
  if (cidrs.length === 0) return { list: null, cidrs: [] };
  const list = new BlockList();
  for (const raw of cidrs) {
    const text = raw.trim();
    const slash = text.indexOf('/');
    const address = unmapAddress(slash === -1 ? text : text.slice(0, slash));
    const family = isIP(address);
    if (family === 0) throw new TrustedProxyError(raw, 'not an IPv4 or IPv6 address');
    const max = family === 4 ? 32 : 128;
    let prefix = max;
    if (slash !== -1) {
      const digits = text.slice(slash + 1);
      prefix = Number(digits);
      if (digits === '' || !Number.isInteger(prefix) || prefix < 0 || prefix > max) {
        throw new TrustedProxyError(raw, `prefix length must be 0..${max}`);
      }
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    list.addSubnet(address, prefix, type);
    // `::ffff:10.0.0.0/104` style entries are written as IPv4; make the mapped form match too.
    if (family === 4) list.addSubnet(`${MAPPED_PREFIX}${address}`, 96 + prefix, 'ipv6');
  }
  return { list, cidrs: [...cidrs] };
}

/** `::ffff:127.0.0.1` → `127.0.0.1`; anything else unchanged. */
export function unmapAddress(address: string): string {
  if (address.length > MAPPED_PREFIX.length && address.charCodeAt(0) === 58 /* : */) {
    const head = address.slice(0, MAPPED_PREFIX.length).toLowerCase();
    if (head === MAPPED_PREFIX) {
      const rest = address.slice(MAPPED_PREFIX.length);
      if (isIP(rest) === 4) return rest;
    }
  }
  return address;
}

/** Is this peer address one of the trusted proxies? Invalid addresses are never trusted. */
export function isTrusted(t: TrustedProxies, address: string | undefined): boolean {
  if (t.list === null || address === undefined) return false;
  const plain = unmapAddress(address);
  const family = isIP(plain);
  if (family === 0) return false;
  return t.list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Strips what a proxy may put around an address in X-Forwarded-For: spaces, `[v6]:port`, `v4:port`.
 * Returns '' when what remains is not an IP address.
 */
export function parseForwardedAddress(entry: string): string {
  let start = 0;
  let end = entry.length;
  while (start < end && isSpace(entry.charCodeAt(start))) start++;
  while (end > start && isSpace(entry.charCodeAt(end - 1))) end--;
  let text = entry.slice(start, end);
  if (text.charCodeAt(0) === 91 /* [ */) {
    const close = text.indexOf(']');
    if (close === -1) return '';
    text = text.slice(1, close);
  } else {
    const colon = text.indexOf(':');
    // One colon: IPv4 with a port. Several: a bare IPv6 address.
    if (colon !== -1 && text.indexOf(':', colon + 1) === -1) text = text.slice(0, colon);
  }
  const plain = unmapAddress(text);
  return isIP(plain) === 0 ? '' : plain;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

/**
 * The client address: the socket peer when it is not trusted; otherwise X-Forwarded-For read from the
 * right, skipping trusted proxies, up to the first untrusted address. When every hop is trusted the
 * left-most one is the client. A malformed entry stops the walk at the trusted hop that passed it on.
 */
export function clientAddress(
  t: TrustedProxies,
  socketAddress: string | undefined,
  xff: string | string[] | undefined,
): string {
  const peer = unmapAddress(socketAddress ?? '');
  const chain = trustedChain(t, peer, xff, ',');
  return chain === null ? peer : walkRightToLeft(t, chain, peer);
}

/**
 * The X-Forwarded-For lines as one list (RFC 9110 §5.3: several lines form one list, in order), or
 * null when there are none or the peer is not a trusted proxy, so its chain is not to be believed.
 */
function trustedChain(
  t: TrustedProxies,
  peer: string,
  xff: string | string[] | undefined,
  separator: string,
): string | null {
  if (xff === undefined || !isTrusted(t, peer)) return null;
  return typeof xff === 'string' ? xff : xff.join(separator);
}

function walkRightToLeft(t: TrustedProxies, list: string, trustedHop: string): string {
  let current = trustedHop;
  let end = list.length;
  while (end > 0) {
    const comma = list.lastIndexOf(',', end - 1);
    const entry = list.slice(comma + 1, end);
    end = comma === -1 ? 0 : comma;
    const address = parseForwardedAddress(entry);
    if (address === '') {
      // Empty entries (`a,,b`) are skipped; garbage stops the walk at the hop that relayed it.
      if (isBlank(entry)) continue;
      return current;
    }
    current = address;
    if (!isTrusted(t, address)) return address;
  }
  return current;
}

function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (!isSpace(text.charCodeAt(i))) return false;
  return true;
}

/**
 * The X-Forwarded-For value to send upstream: the incoming chain plus the peer when the peer is a
 * trusted proxy, else only the peer (a client's own X-Forwarded-For is replaced, not extended).
 */
export function forwardedFor(
  t: TrustedProxies,
  socketAddress: string | undefined,
  xff: string | string[] | undefined,
): string {
  const peer = unmapAddress(socketAddress ?? '');
  const chain = trustedChain(t, peer, xff, ', ');
  return chain === null || chain === '' ? peer : `${chain}, ${peer}`;
}

/**
 * X-Forwarded-Proto to send upstream: a trusted proxy's value (first list item, `http`/`https` only)
 * is kept; otherwise it is what this connection is.
 */
export function forwardedProto(
  t: TrustedProxies,
  socketAddress: string | undefined,
  incoming: string | string[] | undefined,
  encrypted: boolean,
): 'http' | 'https' {
  const own = encrypted ? 'https' : 'http';
  if (incoming === undefined || !isTrusted(t, socketAddress)) return own;
  const first = typeof incoming === 'string' ? incoming : (incoming[0] ?? '');
  const comma = first.indexOf(',');
  const value = (comma === -1 ? first : first.slice(0, comma)).trim().toLowerCase();
  return value === 'https' ? 'https' : value === 'http' ? 'http' : own;
}
