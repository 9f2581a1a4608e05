// The bytes of every answer the gateway writes itself (an ErrorKind: routing, guard, client auth,
// middleware, upstream). The body is JSON or plain text by `Accept`, names the route and the request
// id, and never carries a backend address, an internal message or a stack trace. The status line's
// reason phrase is the standard one for the status, never an error code. The constant part of every
// body is built once per error kind; a request only concatenates the route and its id.
import { type OutgoingHttpHeaders, STATUS_CODES } from 'node:http';
import type { ErrorKind } from '../errors.ts';

interface Prefixes {
  json: string;
  text: string;
}

const prefixes = new WeakMap<ErrorKind, Prefixes>();

/** The standard reason phrase of a status: what a status line says (never an error code). */
export function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

function prefixesFor(e: ErrorKind): Prefixes {
  let p = prefixes.get(e);
  if (p === undefined) {
    p = {
      json: `{"error":{"status":${e.status},"code":${JSON.stringify(e.code)},"message":${JSON.stringify(e.message)}`,
      text: `${e.status} ${reasonPhrase(e.status)}: ${e.message}`,
    };
    prefixes.set(e, p);
  }
  return p;
}

/** Characters that need no escaping inside a JSON string (printable ASCII without `"` and `\`). */
function jsonSafe(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 32 || c > 126 || c === 34 || c === 92) return false;
  }
  return true;
}

function jsonString(value: string): string {
  return jsonSafe(value) ? `"${value}"` : JSON.stringify(value);
}

/** JSON unless the client asked for text (and not for JSON): API clients and `*\/*` get JSON. */
export function wantsText(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return accept.indexOf('json') === -1 && accept.indexOf('text/') !== -1;
}

/**
 * The body for `e` in the format `accept` asks for. `route` is null when no route matched;
 * `requestId` is null when no request was parsed (a parser error).
 */
export function errorBody(e: ErrorKind, route: string | null, requestId: string | null, text: boolean): string {
  const p = prefixesFor(e);
  if (text) {
    if (requestId === null) return `${p.text}\n`;
    return route === null
      ? `${p.text} (request id ${requestId})\n`
      : `${p.text} (route ${route}, request id ${requestId})\n`;
  }
  return (
    p.json +
    ',"route":' +
    (route === null ? 'null' : jsonString(route)) +
    ',"requestId":' +
    (requestId === null ? 'null' : jsonString(requestId)) +
    '}}'
  );
}

/** The slice of a response (HTTP/1 or the HTTP/2 compatibility API) an error answer needs. */
export interface ErrorTarget {
  headersSent: boolean;
  writableEnded: boolean;
  writeHead(status: number, headers: OutgoingHttpHeaders): unknown;
  end(body: string): unknown;
  destroy(error?: Error): unknown;
}

export interface ErrorExtras {
  allow?: string;
  retryAfterSeconds?: number;
  /** Ask an HTTP/1 client to close the connection (draining, a framing error). */
  close?: boolean;
  /** More fields, lower-case names (a middleware's WWW-Authenticate, Location, Set-Cookie). */
  headers?: Readonly<Record<string, string | readonly string[]>> | null;
}

/** The header fields of an error answer; `close` only means something on HTTP/1. */
export function errorHead(
  body: string,
  text: boolean,
  requestId: string | null,
  extras: ErrorExtras | null,
  http2: boolean,
): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {
    'content-type': text ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  };
  if (requestId !== null) headers['x-request-id'] = requestId;
  if (extras !== null) {
    if (extras.allow !== undefined) headers.allow = extras.allow;
    if (extras.retryAfterSeconds !== undefined)
      (headers as Record<string, unknown>)['retry-after'] = extras.retryAfterSeconds;
    if (extras.close === true && !http2) headers.connection = 'close';
    const more = extras.headers;
    if (more) for (const name in more) headers[name] = more[name] as string | string[];
  }
  return headers;
}

/**
 * Answers `e` on a response object (HTTP/1 or the HTTP/2 compatibility API). When the response had
 * already started (a backend failed mid-body), the only honest signal left is to cut the response,
 * so the client sees a truncated message rather than a corrupted one.
 */
export function sendError(
  res: ErrorTarget,
  e: ErrorKind,
  route: string | null,
  requestId: string,
  accept: string | undefined,
  http2: boolean,
  extras: ErrorExtras | null,
): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.destroy();
    return;
  }
  const text = wantsText(accept);
  const body = errorBody(e, route, requestId, text);
  res.writeHead(e.status, errorHead(body, text, requestId, extras, http2));
  res.end(body);
}

/** How a raw head spells the fields errorHead sets (what node:http writes for the same answer). */
const RAW_NAMES: Readonly<Record<string, string>> = {
  'content-type': 'Content-Type',
  'content-length': 'Content-Length',
  'cache-control': 'Cache-Control',
  'x-request-id': 'X-Request-ID',
  allow: 'Allow',
  'retry-after': 'Retry-After',
  connection: 'Connection',
};

/**
 * The same answer as a whole HTTP/1.1 message with `Connection: close`, for a socket that has no
 * response object: a refused WebSocket upgrade, or a request the parser refused before it existed.
 */
export function rawErrorResponse(
  e: ErrorKind,
  route: string | null,
  requestId: string | null,
  accept: string | undefined,
  extras: ErrorExtras | null,
): string {
  const text = wantsText(accept);
  const body = errorBody(e, route, requestId, text);
  const headers = errorHead(body, text, requestId, extras, false);
  headers.connection = 'close';
  let head = `HTTP/1.1 ${e.status} ${reasonPhrase(e.status)}\r\n`;
  for (const name in headers) {
    const value = headers[name];
    const values = Array.isArray(value) ? value : [value];
    for (const one of values) head += `${RAW_NAMES[name] ?? name}: ${one}\r\n`;
  }
  return `${head}\r\n${body}`;
}
