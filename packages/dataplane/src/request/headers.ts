// Header handling between client and backend: hop-by-hop removal, X-Forwarded-*, X-Real-IP,
// X-Request-ID and Host. It edits `req.headers` in place before the forwarder copies them, with
// plain property reads and writes: no regex, no per-request objects.
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { equalsLower } from '../edge/field-syntax.ts';
import { isDroppedResponseField, REQUEST_DROPPED, RESPONSE_DROPPED } from './hop-by-hop.ts';
import { clientAddress, forwardedFor, forwardedProto, isTrusted, type TrustedProxies } from './trusted-proxies.ts';

/**
 * Removes the fields named in `Connection` (other than the usual `keep-alive` / `close`, which
 * need no work) and then the fixed hop-by-hop set. `transfer-encoding: chunked` stays: Node's
 * client re-frames the body itself when it sees it.
 */
export function stripHopByHop(headers: IncomingHttpHeaders): void {
  stripFields(headers, REQUEST_DROPPED);
}

/** The response-side counterpart, applied to the backend's response headers before they are copied. */
export function stripResponseHopByHop(headers: IncomingHttpHeaders): void {
  stripFields(headers, RESPONSE_DROPPED);
}

function stripFields(headers: IncomingHttpHeaders, dropped: readonly string[]): void {
  const connection = headers.connection;
  if (connection !== undefined) removeConnectionTokens(headers, connection);
  for (let i = 0; i < dropped.length; i++) {
    const name = dropped[i]!;
    if (headers[name] !== undefined) delete headers[name];
  }
}

function removeConnectionTokens(headers: IncomingHttpHeaders, connection: string): void {
  const lower = connection.length <= 10 ? connection.toLowerCase() : '';
  if (lower === 'keep-alive' || lower === 'close' || lower === 'upgrade') return;
  for (const token of connection.split(',')) {
    const name = token.trim().toLowerCase();
    // Never let a client name an end-to-end field we rely on as hop-by-hop.
    if (name.length === 0 || name === 'host' || name.startsWith('x-forwarded-') || name === 'x-request-id') continue;
    delete headers[name];
  }
}

/** Longest X-Request-ID we pass on; longer or odd ids are replaced by a fresh one. */
export const MAX_REQUEST_ID_LENGTH = 128;

/**
 * A client's X-Request-ID if it is short and made only of `[A-Za-z0-9._:/+=@-]`; otherwise a new
 * UUID. The id lands in logs, error bodies and headers, so it must need no escaping anywhere.
 */
export function requestIdFor(incoming: string | string[] | undefined): string {
  if (typeof incoming === 'string' && isSafeRequestId(incoming)) return incoming;
  return nextRequestId();
}

/** Each half of the 48-bit counter: 24 bits, six hex digits. */
const HALF_MASK = 0xffffff;

/**
 * Fresh ids are UUID-shaped (version 4 and variant bits set): 80 random bits drawn once per process,
 * then a 48-bit counter as the last group. Unique across workers and restarts like a random UUID,
 * without drawing and formatting 122 random bits per request. The counter is kept as two 24-bit
 * halves, small integers both: per id only the low half is formatted, the high half is part of the
 * prefix text, made again when it changes (once every 16.7 million ids).
 */
export class RequestIdSequence {
  private readonly prefix: string;
  private high: number;
  private low: number;
  private highText: string;

  /** `prefix`: the first four groups and their dashes; `high`, `low`: where the counter starts. */
  constructor(prefix: string, high: number, low: number) {
    this.prefix = prefix;
    this.high = high & HALF_MASK;
    this.low = low & HALF_MASK;
    this.highText = this.prefix + hex6(this.high);
  }

  next(): string {
    this.low = (this.low + 1) & HALF_MASK;
    if (this.low === 0) {
      this.high = (this.high + 1) & HALF_MASK;
      this.highText = this.prefix + hex6(this.high);
    }
    return this.highText + hex6(this.low);
  }
}

function hex6(n: number): string {
  return n.toString(16).padStart(6, '0');
}

const requestIds = new RequestIdSequence(
  ((): string => {
    const b = randomBytes(10);
    b[6] = (b[6]! & 0x0f) | 0x40;
    b[8] = (b[8]! & 0x3f) | 0x80;
    const h = b.toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-`;
  })(),
  Math.floor(Math.random() * 2 ** 24),
  Math.floor(Math.random() * 2 ** 24),
);

function nextRequestId(): string {
  return requestIds.next();
}

export function isSafeRequestId(id: string): boolean {
  if (id.length === 0 || id.length > MAX_REQUEST_ID_LENGTH) return false;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    const ok =
      (c >= 48 && c <= 58) || // 0-9 :
      (c >= 64 && c <= 90) || // @ A-Z
      (c >= 97 && c <= 122) || // a-z
      c === 45 || // -
      c === 46 || // .
      c === 95 || // _
      c === 47 || // /
      c === 43 || // +
      c === 61; // =
    if (!ok) return false;
  }
  return true;
}

/**
 * Sets what the backend learns about the client:
 * - X-Forwarded-For: the chain a trusted proxy sent plus the peer (see trusted-proxies.ts);
 * - X-Real-IP: the client address, walking X-Forwarded-For only through trusted proxies;
 * - X-Forwarded-Proto / X-Forwarded-Host: a trusted proxy's values are kept, else ours;
 * - X-Request-ID: `requestId`;
 * - Host: kept, or `backendHost` when the route does not forward the client's Host.
 */
export function setForwardingHeaders(
  headers: IncomingHttpHeaders,
  trusted: TrustedProxies,
  peer: string | undefined,
  encrypted: boolean,
  requestId: string,
  backendHost: string | null,
): void {
  const xff = headers['x-forwarded-for'];
  headers['x-forwarded-for'] = forwardedFor(trusted, peer, xff);
  headers['x-real-ip'] = clientAddress(trusted, peer, xff);
  headers['x-forwarded-proto'] = forwardedProto(trusted, peer, headers['x-forwarded-proto'], encrypted);
  const host = headers.host ?? (headers[':authority'] as string | undefined) ?? '';
  if (headers['x-forwarded-host'] === undefined || !isTrusted(trusted, peer)) headers['x-forwarded-host'] = host;
  headers['x-request-id'] = requestId;
  if (backendHost !== null) headers.host = backendHost;
}

/** The Host header a backend is addressed by: `host` or `host:port` when the port is not the default. */
export function backendHostHeader(protocol: 'http:' | 'https:', hostname: string, port: number): string {
  const name = hostname.includes(':') ? `[${hostname}]` : hostname;
  const defaultPort = protocol === 'https:' ? 443 : 80;
  return port === defaultPort ? name : `${name}:${port}`;
}

/**
 * The backend's response head as a flat raw list for `res.writeHead(status, message, list)`, the
 * fastest path through Node's ServerResponse (no header object, no setHeader per field): the
 * backend's fields in order and case, repeated ones (Set-Cookie) as they came, without the
 * hop-by-hop ones, Server and X-Powered-By. `close`: ask the client to close (draining).
 */
export function clientResponseHeaders(raw: readonly string[], close: boolean): string[] {
  const out: string[] = [];
  let connection: string | null = null;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 10 && equalsLower(name, 'connection')) {
      connection = connection === null ? raw[i + 1]! : `${connection}, ${raw[i + 1]}`;
      continue;
    }
    if (isDroppedResponseField(name)) continue;
    out.push(name, raw[i + 1]!);
  }
  if (connection !== null && !isPlainConnection(connection)) return withoutConnectionTokens(out, connection, close);
  if (close) out.push('Connection', 'close');
  return out;
}

function isPlainConnection(value: string): boolean {
  return value.length <= 10 && (equalsLower(value, 'keep-alive') || equalsLower(value, 'close'));
}

/** Rare path: the backend named more fields in Connection; drop those too. */
function withoutConnectionTokens(list: string[], connection: string, close: boolean): string[] {
  const named = new Set<string>();
  for (const token of connection.split(',')) {
    const name = token.trim().toLowerCase();
    if (name.length > 0 && name !== 'keep-alive' && name !== 'close') named.add(name);
  }
  const out: string[] = [];
  for (let i = 0; i + 1 < list.length; i += 2) {
    if (!named.has(list[i]!.toLowerCase())) out.push(list[i]!, list[i + 1]!);
  }
  if (close) out.push('Connection', 'close');
  return out;
}
