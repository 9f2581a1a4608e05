// Error answers the gateway writes itself (404, 405, 502, 503, 504, refused requests). The body is
// JSON or plain text by `Accept`, names the route and the request id, and never carries a backend
// address, an internal message or a stack trace. The constant part of every body is built once per
// error kind; a request only concatenates the route and its id.
import { STATUS_CODES } from 'node:http';

/** Anything with a status, a stable code and a client-safe message (ErrorKind, a guard Rejection...). */
export interface ErrorDescription {
  readonly status: number;
  readonly code: string;
  readonly message?: string;
  readonly reason?: string | null;
}

interface Prefixes {
  json: string;
  text: string;
}

const prefixes = new WeakMap<ErrorDescription, Prefixes>();

function prefixesFor(e: ErrorDescription): Prefixes {
  let p = prefixes.get(e);
  if (p === undefined) {
    const message = e.message ?? (typeof e.reason === 'string' ? e.reason : (STATUS_CODES[e.status] ?? 'error'));
    p = {
      json: `{"error":{"status":${e.status},"code":${JSON.stringify(e.code)},"message":${JSON.stringify(message)}`,
      text: `${e.status} ${STATUS_CODES[e.status] ?? 'Error'}: ${message}`,
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

/** The body for `e` in the format `accept` asks for. `route` is null when no route matched. */
export function errorBody(e: ErrorDescription, route: string | null, requestId: string, text: boolean): string {
  const p = prefixesFor(e);
  if (text) {
    return route === null
      ? `${p.text} (request id ${requestId})\n`
      : `${p.text} (route ${route}, request id ${requestId})\n`;
  }
  return (
    p.json +
    ',"route":' +
    (route === null ? 'null' : jsonString(route)) +
    ',"requestId":' +
    jsonString(requestId) +
    '}}'
  );
}

/** The slice of a response (HTTP/1 or the HTTP/2 compatibility API) an error answer needs. */
export interface ErrorTarget {
  headersSent: boolean;
  writableEnded: boolean;
  writeHead(status: number, headers: Record<string, string | number>): unknown;
  end(body?: string): unknown;
  destroy(error?: Error): unknown;
}

export interface ErrorExtras {
  allow?: string;
  retryAfterSeconds?: number;
  /** Ask an HTTP/1 client to close the connection (draining, a framing error). */
  close?: boolean;
}

/**
 * Answers `e`. When the response had already started (a backend failed mid-body), the only honest
 * signal left is to cut the response, so the client sees a truncated message rather than a
 * corrupted one.
 */
export function sendError(
  res: ErrorTarget,
  e: ErrorDescription,
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
  const headers: Record<string, string | number> = {
    'content-type': text ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-request-id': requestId,
  };
  if (extras !== null) {
    if (extras.allow !== undefined) headers.allow = extras.allow;
    if (extras.retryAfterSeconds !== undefined) headers['retry-after'] = extras.retryAfterSeconds;
    if (extras.close === true && !http2) headers.connection = 'close';
  }
  res.writeHead(e.status, headers);
  res.end(body);
}
