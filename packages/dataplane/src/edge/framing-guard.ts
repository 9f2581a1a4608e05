// The edge's framing guard. Node's llhttp parser is strict, but an edge proxy must be stricter: a
// request whose framing or target two servers could read differently never reaches a backend.
//
// Which layer catches what (verified against Node 24's llhttp, see test/edge/framing-guard.test.ts):
//   caught by llhttp → `clientError` → onClientError() answers 400/431/408 and closes:
//     Content-Length together with Transfer-Encoding; duplicate Content-Length (same or different
//     value); a Content-Length list or sign; Transfer-Encoding `chunked, gzip` (chunked not final);
//     two Transfer-Encoding headers; obs-fold; bare CR, bare LF or NUL/CTL in a header; a space or
//     tab before the colon; LF-only line endings; invalid chunk sizes (in the body, after dispatch:
//     the request emits 'error' and the forwarder aborts the upstream request); header overflow (431);
//     header/request timeout (408).
//   reach the request handler and are refused here by rejectRequest():
//     Transfer-Encoding that is not exactly `chunked` (`gzip`, `identity`, `gzip, chunked`), a
//     Transfer-Encoding on HTTP/1.0, two Host headers, a Host with characters no authority has, an
//     absolute-form target whose authority differs from Host, a target that is neither origin-form,
//     absolute http(s) nor `*`, CONNECT, too many headers (431), too long a URL (414). The CTL,
//     token and framing checks are repeated here so that the guard does not depend on parser
//     leniency flags (and `insecureHTTPParser` must never be set).
//   caught by Node's http server before the handler: a missing Host in HTTP/1.1 (`requireHostHeader`,
//     default true, answers 400); rejectRequest() checks it again.
// Everything runs over `req.rawHeaders` with char-code loops: no regex, no allocation on success.
import type { Duplex } from 'node:stream';
import type { LimitsConfig } from '@gatehouse/config';

export interface Rejection {
  readonly status: number;
  readonly code: string;
  readonly reason: string;
}

/** The slice of IncomingMessage / Http2ServerRequest the guard reads. */
export interface GuardedRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly rawHeaders: string[];
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
}

function rejection(status: number, code: string, reason: string): Rejection {
  return Object.freeze({ status, code, reason });
}

export const REJECT = {
  urlTooLong: rejection(414, 'GH_REQUEST_URI_TOO_LONG', 'request target is longer than limits.maxUrlLength'),
  tooManyHeaders: rejection(431, 'GH_REQUEST_TOO_MANY_HEADERS', 'more header fields than limits.maxHeaderCount'),
  headerName: rejection(400, 'GH_REQUEST_HEADER_NAME', 'invalid character in a header name'),
  headerValue: rejection(
    400,
    'GH_REQUEST_HEADER_VALUE',
    'invalid character (CR, LF, NUL or control) in a header value',
  ),
  lengthAndChunked: rejection(400, 'GH_REQUEST_CL_TE', 'both Content-Length and Transfer-Encoding'),
  contentLength: rejection(400, 'GH_REQUEST_CONTENT_LENGTH', 'invalid Content-Length'),
  contentLengths: rejection(400, 'GH_REQUEST_CONTENT_LENGTHS', 'several different Content-Length values'),
  transferEncoding: rejection(400, 'GH_REQUEST_TRANSFER_ENCODING', 'Transfer-Encoding other than a single "chunked"'),
  transferEncoding10: rejection(400, 'GH_REQUEST_TRANSFER_ENCODING', 'Transfer-Encoding in an HTTP/1.0 request'),
  missingHost: rejection(400, 'GH_REQUEST_HOST_MISSING', 'HTTP/1.1 request without Host'),
  multipleHost: rejection(400, 'GH_REQUEST_HOST_MULTIPLE', 'more than one Host header'),
  badHost: rejection(400, 'GH_REQUEST_HOST_INVALID', 'Host is not a valid authority'),
  hostMismatch: rejection(400, 'GH_REQUEST_HOST_MISMATCH', 'absolute-form target and Host name different hosts'),
  badTarget: rejection(400, 'GH_REQUEST_TARGET', 'request target is not origin-form, absolute http(s) or "*"'),
  connect: rejection(405, 'GH_REQUEST_CONNECT', 'CONNECT is not supported'),
  httpVersion: rejection(400, 'GH_REQUEST_HTTP_VERSION', 'request line without HTTP/1.0 or HTTP/1.1 (HTTP/0.9 style)'),
  h2ConnectionHeader: rejection(
    400,
    'GH_REQUEST_H2_CONNECTION_HEADER',
    'connection-specific header in an HTTP/2 request',
  ),
  h2Te: rejection(400, 'GH_REQUEST_H2_TE', 'TE other than "trailers" in an HTTP/2 request'),
  h2Scheme: rejection(400, 'GH_REQUEST_H2_SCHEME', ':scheme is not http or https'),
  h2Path: rejection(400, 'GH_REQUEST_H2_PATH', ':path is not an origin-form path'),
  h2Authority: rejection(400, 'GH_REQUEST_H2_AUTHORITY', ':authority and Host disagree'),
  bodyTooLarge: rejection(413, 'GH_REQUEST_BODY_TOO_LARGE', 'request body is larger than the limit'),
} as const;

// RFC 9110 tchar: ! # $ % & ' * + - . ^ _ ` | ~ DIGIT ALPHA
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TCHAR[c] = 1;
for (let c = 65; c <= 90; c++) TCHAR[c] = 1;
for (let c = 97; c <= 122; c++) TCHAR[c] = 1;

// Characters of a Host value: reg-name / IP-literal, and a port (RFC 3986 authority without userinfo).
const HOSTCHAR = new Uint8Array(128);
for (const c of "-._~!$&'()*+,;=:[]%") HOSTCHAR[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) HOSTCHAR[c] = 1;
for (let c = 65; c <= 90; c++) HOSTCHAR[c] = 1;
for (let c = 97; c <= 122; c++) HOSTCHAR[c] = 1;

export function isToken(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0) return false;
  }
  return true;
}

/** field-value: VCHAR, obs-text, SP and HTAB; no CR, LF, NUL or other control character. */
export function isFieldValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127) return false;
  }
  return true;
}

function isHostValue(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 128 || HOSTCHAR[c] === 0) return false;
  }
  return true;
}

/** ASCII case-insensitive equality against a lower-case literal, without allocating. */
export function equalsLower(value: string, lower: string): boolean {
  if (value.length !== lower.length) return false;
  for (let i = 0; i < value.length; i++) {
    let c = value.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Value without leading/trailing SP/HTAB equals `lower`, ASCII case-insensitively. */
function trimmedEqualsLower(value: string, lower: string): boolean {
  let start = 0;
  let end = value.length;
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    let c = value.charCodeAt(start + i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

function isOws(c: number): boolean {
  return c === 32 || c === 9;
}

/** 1*DIGIT, optionally surrounded by OWS; -1 when it is anything else (a list, a sign, empty). */
export function parseContentLength(value: string): number {
  let start = 0;
  let end = value.length;
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  if (start === end || end - start > 15) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    n = n * 10 + (c - 48);
  }
  return n;
}

/**
 * Decides, before anything is forwarded, whether this request is refused. null: it may go on.
 * HTTP/2 requests (compat API) go to rejectH2Request: different rules, pseudo-headers.
 */
export function rejectRequest(req: GuardedRequest, limits: LimitsConfig): Rejection | null {
  if (req.httpVersionMajor === 2) return rejectH2Request(req, limits);
  // llhttp reads a request line without a version as HTTP/0.9 and hands it on with headers; no
  // backend should be asked to guess how such a message ends.
  if (req.httpVersionMajor !== 1) return REJECT.httpVersion;
  const url = req.url ?? '';
  if (limits.maxUrlLength > 0 && url.length > limits.maxUrlLength) return REJECT.urlTooLong;
  const raw = req.rawHeaders;
  if (limits.maxHeaderCount > 0 && raw.length > limits.maxHeaderCount * 2) return REJECT.tooManyHeaders;

  let hostCount = 0;
  let host = '';
  let lengthCount = 0;
  let length = -1;
  let chunkedCount = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    if (!isToken(name)) return REJECT.headerName;
    if (!isFieldValue(value)) return REJECT.headerValue;
    switch (name.length) {
      case 4:
        if (equalsLower(name, 'host')) {
          hostCount++;
          host = value;
        }
        break;
      case 14:
        if (equalsLower(name, 'content-length')) {
          const n = parseContentLength(value);
          if (n < 0) return REJECT.contentLength;
          if (lengthCount > 0 && n !== length) return REJECT.contentLengths;
          length = n;
          lengthCount++;
        }
        break;
      case 17:
        if (equalsLower(name, 'transfer-encoding')) {
          if (!trimmedEqualsLower(value, 'chunked')) return REJECT.transferEncoding;
          chunkedCount++;
        }
        break;
    }
  }
  if (chunkedCount > 0) {
    if (chunkedCount > 1) return REJECT.transferEncoding;
    if (lengthCount > 0) return REJECT.lengthAndChunked;
    if (req.httpVersionMajor === 1 && req.httpVersionMinor === 0) return REJECT.transferEncoding10;
  }
  if (hostCount > 1) return REJECT.multipleHost;
  if (hostCount === 0) {
    if (req.httpVersionMajor === 1 && req.httpVersionMinor >= 1) return REJECT.missingHost;
  } else if (!isHostValue(host)) {
    return REJECT.badHost;
  }
  if (req.method === 'CONNECT') return REJECT.connect;
  return checkTarget(url, host, hostCount > 0);
}

/**
 * HTTP/2 → HTTP/1.1. nghttp2 already resets (PROTOCOL_ERROR) streams with uppercase names,
 * connection-specific headers, TE other than trailers, a missing or relative :path, duplicated
 * pseudo-headers, and silently drops fields whose name or value holds CR, LF, NUL or other
 * forbidden bytes (they never reach the handler, so never the backend). What nghttp2 lets through
 * and an HTTP/1.1 backend must not see is refused here: a `#` or non-origin :path, a :scheme other
 * than http(s), a Host that disagrees with :authority. The field checks are repeated so that the
 * HTTP/1 client in the forwarder can never throw on a value.
 */
export function rejectH2Request(req: GuardedRequest, limits: LimitsConfig): Rejection | null {
  const raw = req.rawHeaders;
  const url = req.url ?? '';
  if (limits.maxUrlLength > 0 && url.length > limits.maxUrlLength) return REJECT.urlTooLong;
  if (limits.maxHeaderCount > 0 && raw.length > (limits.maxHeaderCount + 4) * 2) return REJECT.tooManyHeaders;
  let authority = '';
  let host = '';
  let hostCount = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    if (!isFieldValue(value)) return REJECT.headerValue;
    if (name.charCodeAt(0) === 58 /* : */) {
      if (name === ':authority') authority = value;
      else if (name === ':scheme' && value !== 'https' && value !== 'http') return REJECT.h2Scheme;
      else if (name === ':path' && !isOriginPath(value, req.method)) return REJECT.h2Path;
      continue;
    }
    if (!isLowerToken(name)) return REJECT.headerName;
    switch (name) {
      case 'connection':
      case 'keep-alive':
      case 'proxy-connection':
      case 'transfer-encoding':
      case 'upgrade':
        return REJECT.h2ConnectionHeader;
      case 'te':
        if (!trimmedEqualsLower(value, 'trailers')) return REJECT.h2Te;
        break;
      case 'host':
        hostCount++;
        host = value;
        break;
      case 'content-length':
        if (parseContentLength(value) < 0) return REJECT.contentLength;
        break;
    }
  }
  if (hostCount > 1) return REJECT.multipleHost;
  if (authority === '' && hostCount === 0) return REJECT.missingHost;
  const effective = authority !== '' ? authority : host;
  if (!isHostValue(effective)) return REJECT.badHost;
  if (authority !== '' && hostCount === 1 && !sameAuthority(authority, 0, authority.length, host, true)) {
    return REJECT.h2Authority;
  }
  if (req.method === 'CONNECT') return REJECT.connect;
  return null;
}

function isLowerToken(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0 || (c >= 65 && c <= 90)) return false;
  }
  return true;
}

function isOriginPath(path: string, method: string | undefined): boolean {
  if (path === '*') return method === 'OPTIONS';
  if (path.charCodeAt(0) !== 47 /* / */) return false;
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c <= 32 || c === 35 /* # */ || c >= 127) return false;
  }
  return true;
}

function checkTarget(url: string, host: string, hasHost: boolean): Rejection | null {
  const first = url.charCodeAt(0);
  if (first === 47 /* / */) return null;
  if (url === '*') return null;
  let authorityStart: number;
  let secure: boolean;
  if (startsWithLower(url, 'http://')) {
    authorityStart = 7;
    secure = false;
  } else if (startsWithLower(url, 'https://')) {
    authorityStart = 8;
    secure = true;
  } else {
    return REJECT.badTarget;
  }
  let end = authorityStart;
  while (end < url.length) {
    const c = url.charCodeAt(end);
    if (c === 47 || c === 63 || c === 35) break; // / ? #
    if (c === 64 /* @ userinfo */) return REJECT.badTarget;
    end++;
  }
  if (end === authorityStart) return REJECT.badTarget;
  if (!hasHost) return null;
  return sameAuthority(url, authorityStart, end, host, secure) ? null : REJECT.hostMismatch;
}

function startsWithLower(value: string, lower: string): boolean {
  if (value.length < lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    let c = value.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** `url[start,end)` and `host` name the same authority, ASCII case-insensitively, default port implied. */
function sameAuthority(url: string, start: number, end: number, host: string, secure: boolean): boolean {
  const a = withoutDefaultPort(url, start, end, secure);
  const b = withoutDefaultPort(host, 0, host.length, secure);
  if (a - start !== b) return false;
  for (let i = 0; i < b; i++) {
    let x = url.charCodeAt(start + i);
    let y = host.charCodeAt(i);
    if (x >= 65 && x <= 90) x += 32;
    if (y >= 65 && y <= 90) y += 32;
    if (x !== y) return false;
  }
  return true;
}

function withoutDefaultPort(text: string, start: number, end: number, secure: boolean): number {
  const port = secure ? ':443' : ':80';
  if (end - start > port.length && text.endsWith(port, end)) return end - port.length;
  return end;
}

/** The origin-form path of a request target (absolute-form is allowed by RFC 9112 §3.2.2). */
export function originForm(url: string): string {
  if (url.charCodeAt(0) === 47 || url === '*') return url;
  const scheme = url.indexOf('://');
  if (scheme === -1) return url;
  const slash = url.indexOf('/', scheme + 3);
  const query = url.indexOf('?', scheme + 3);
  if (slash === -1 || (query !== -1 && query < slash)) return query === -1 ? '/' : `/${url.slice(query)}`;
  return url.slice(slash);
}

// ---- clientError: what llhttp refused, or a timeout, before a request object existed ----

interface HttpSocketState {
  _httpMessage?: { headersSent?: boolean } | null;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Content Too Large',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
};

function rawResponse(status: number, reason: string): Buffer {
  const body = `${status} ${STATUS_TEXT[status] ?? 'Bad Request'}: ${reason}\n`;
  return Buffer.from(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Bad Request'}\r\n` +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

const CLIENT_ERROR_RESPONSES = {
  400: rawResponse(400, 'malformed request'),
  408: rawResponse(408, 'request not received in time'),
  413: rawResponse(413, 'chunk extensions too large'),
  414: rawResponse(414, 'request target too long'),
  431: rawResponse(431, 'request headers too large'),
} as const;

/** The status a parser or timeout error maps to; 0 means the peer is gone and nothing is written. */
export function clientErrorStatus(err: Error & { code?: string }): 0 | 400 | 408 | 413 | 414 | 431 {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return 431;
    case 'HPE_URI_TOO_LONG':
      return 414;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'HPE_HEADERS_TIMEOUT':
      return 408;
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return 413;
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
      return 0;
    default:
      return 400;
  }
}

const LINGER_MS = 2_000;

/**
 * Handler for the server's `clientError` event: a fixed response with `Connection: close`, never a
 * stack trace or the parser's message, then the socket is closed (destroyed after a short linger if
 * the client does not read). Returns the status written (0: none), for the caller's counters.
 */
export function onClientError(err: Error & { code?: string }, socket: Duplex): number {
  const status = clientErrorStatus(err);
  const state = socket as unknown as HttpSocketState;
  const responding = state._httpMessage?.headersSent === true;
  if (status === 0 || !socket.writable || responding) {
    socket.destroy();
    return 0;
  }
  socket.end(CLIENT_ERROR_RESPONSES[status]);
  setTimeout(destroySocket, LINGER_MS, socket).unref();
  return status;
}

function destroySocket(socket: Duplex): void {
  if (!socket.destroyed) socket.destroy();
}

// ---- request body size, enforced while streaming ----

/** The slice of a request and response the body limiter touches (works for HTTP/1 and h2 compat). */
interface LimitedRequest {
  headers: Record<string, string | string[] | undefined>;
  httpVersionMajor: number;
  on(event: 'data', listener: (this: LimitedRequest, chunk: Buffer) => void): unknown;
  off(event: 'data', listener: (this: LimitedRequest, chunk: Buffer) => void): unknown;
  unpipe(): unknown;
  pause(): unknown;
}
interface LimitedResponse {
  headersSent: boolean;
  writeHead(status: number, headers: Record<string, string | number>): unknown;
  end(body: string): unknown;
}
interface Destroyable {
  destroy(): unknown;
}

const kLimit = Symbol('gatehouse.bodyLimit');
interface BodyLimitState {
  max: number;
  seen: number;
  exceeded: boolean;
  res: LimitedResponse;
  upstream: Destroyable | null;
}
type WithLimit = { [kLimit]?: BodyLimitState };

const BODY_TOO_LARGE_TEXT = '413 Content Too Large: request body is larger than the limit\n';

/**
 * Starts enforcing `maxBytes` (0 = unlimited) on the request body. Returns REJECT.bodyTooLarge when
 * the declared Content-Length is already over the limit (answer it and do not forward); otherwise
 * counts bytes as they stream. Going over mid-stream stops feeding the upstream request, answers 413
 * (HTTP/1: with `Connection: close`) if nothing was sent yet, and destroys the upstream request
 * given to `bindUpstreamRequest`. The listener is one shared function: nothing is allocated per
 * request beyond the small state record.
 */
export function limitRequestBody(req: LimitedRequest, res: LimitedResponse, maxBytes: number): Rejection | null {
  if (maxBytes <= 0) return null;
  const declared = req.headers['content-length'];
  if (typeof declared === 'string') {
    const n = parseContentLength(declared);
    if (n > maxBytes) return REJECT.bodyTooLarge;
  }
  (req as WithLimit)[kLimit] = { max: maxBytes, seen: 0, exceeded: false, res, upstream: null };
  req.on('data', countBody);
  return null;
}

/**
 * Tells the limiter which upstream request carries this body (call it from http-proxy-3's
 * `proxyReq` event). If the limit was already exceeded the upstream request is destroyed at once.
 */
export function bindUpstreamRequest(req: object, upstream: Destroyable): void {
  const state = (req as WithLimit)[kLimit];
  if (state === undefined) return;
  state.upstream = upstream;
  if (state.exceeded) upstream.destroy();
}

/** True once the body went over its limit (the forwarder's error handler should then stay silent). */
export function bodyLimitExceeded(req: object): boolean {
  return (req as WithLimit)[kLimit]?.exceeded === true;
}

function countBody(this: LimitedRequest, chunk: Buffer): void {
  const state = (this as WithLimit)[kLimit];
  if (state === undefined || state.exceeded) return;
  state.seen += chunk.length;
  if (state.seen <= state.max) return;
  state.exceeded = true;
  this.off('data', countBody);
  this.unpipe();
  this.pause();
  const res = state.res;
  if (!res.headersSent) {
    const headers: Record<string, string | number> = {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(BODY_TOO_LARGE_TEXT),
    };
    if (this.httpVersionMajor < 2) headers.connection = 'close';
    res.writeHead(413, headers);
    res.end(BODY_TOO_LARGE_TEXT);
  }
  state.upstream?.destroy();
}
