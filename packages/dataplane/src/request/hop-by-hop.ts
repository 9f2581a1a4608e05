// Connection-specific header fields: what one hop says to the next and must not travel further
// (RFC 9110 §7.6.1), plus the de-facto `keep-alive` and `proxy-connection`. This is the one table;
// each direction and protocol takes from it what applies, and says why it differs.
import { FieldNameSet } from '../edge/field-name-set.ts';

export const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
] as const;

/**
 * Dropped from a request before it is forwarded: all of them but `transfer-encoding` (Node's client
 * re-frames a chunked body itself when it sees it), and `expect`: Node's server has already
 * answered `100-continue`, so the body comes anyway and the backend has nothing to wait for.
 */
export const REQUEST_DROPPED: readonly string[] = [...HOP_BY_HOP.filter((n) => n !== 'transfer-encoding'), 'expect'];

/**
 * Dropped from a backend's response: all of them but `trailer`, which announces the trailers that
 * are relayed (Node re-frames the body: `transfer-encoding` goes). `server` and `x-powered-by` are
 * not hop-by-hop but name the backend's software and version: an edge does not leak them (nginx
 * hides them too).
 */
export const RESPONSE_DROPPED: readonly string[] = [
  ...HOP_BY_HOP.filter((n) => n !== 'trailer'),
  'server',
  'x-powered-by',
];

/**
 * The connection-specific fields HTTP/2 forbids in either direction (RFC 9113 §8.2.2): a request
 * carrying one is malformed; a response must lose them, and `http2-settings` (the h2c upgrade's),
 * before Node's compat response writes it. `te` has its own rule (only "trailers", requests only).
 */
export const H2_CONNECTION_SPECIFIC: readonly string[] = HOP_BY_HOP.filter(
  (n) =>
    n === 'connection' ||
    n === 'keep-alive' ||
    n === 'proxy-connection' ||
    n === 'transfer-encoding' ||
    n === 'upgrade',
);
export const H2_CONNECTION_SPECIFIC_SET: ReadonlySet<string> = new Set(H2_CONNECTION_SPECIFIC);
export const H2_DROPPED_RESPONSE: readonly string[] = [...H2_CONNECTION_SPECIFIC, 'te', 'http2-settings'];

const RESPONSE_DROPPED_NAMES = new FieldNameSet(RESPONSE_DROPPED);

/** `name` (any case) is dropped from responses. `connection` is among them; callers read it first. */
export function isDroppedResponseField(name: string): boolean {
  return RESPONSE_DROPPED_NAMES.has(name);
}
