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
import type { LimitsConfig } from '@gatehouse/config';
import { ERROR_KINDS, type ErrorKind } from '../errors.ts';
import { H2_CONNECTION_SPECIFIC_SET } from '../request/hop-by-hop.ts';
import {
  equalsLower,
  isFieldValue,
  isHostValue,
  isToken,
  parseContentLength,
  TCHAR,
  trimmedEqualsLower,
} from './field-syntax.ts';

/** The slice of IncomingMessage / Http2ServerRequest the guard reads. */
export interface GuardedRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly rawHeaders: string[];
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
}
/**
 * Decides, before anything is forwarded, whether this request is refused. null: it may go on.
 * HTTP/2 requests (compat API) go to rejectH2Request: different rules, pseudo-headers.
 */
export function rejectRequest(req: GuardedRequest, limits: LimitsConfig): ErrorKind | null {
  if (req.httpVersionMajor === 2) return rejectH2Request(req, limits);
  // llhttp reads a request line without a version as HTTP/0.9 and hands it on with headers; no
  // backend should be asked to guess how such a message ends.
  if (req.httpVersionMajor !== 1) return ERROR_KINDS.httpVersion;
  const url = req.url ?? '';
  if (limits.maxUrlLength > 0 && url.length > limits.maxUrlLength) return ERROR_KINDS.urlTooLong;
  const raw = req.rawHeaders;
  if (limits.maxHeaderCount > 0 && raw.length > limits.maxHeaderCount * 2) return ERROR_KINDS.tooManyHeaders;

  let hostCount = 0;
  let host = '';
  let lengthCount = 0;
  let length = -1;
  let chunkedCount = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    if (!isToken(name)) return ERROR_KINDS.headerName;
    if (!isFieldValue(value)) return ERROR_KINDS.headerValue;
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
          if (n < 0) return ERROR_KINDS.contentLength;
          if (lengthCount > 0 && n !== length) return ERROR_KINDS.contentLengths;
          length = n;
          lengthCount++;
        }
        break;
      case 17:
        if (equalsLower(name, 'transfer-encoding')) {
          if (!trimmedEqualsLower(value, 'chunked')) return ERROR_KINDS.transferEncoding;
          chunkedCount++;
        }
        break;
    }
  }
  if (chunkedCount > 0) {
    if (chunkedCount > 1) return ERROR_KINDS.transferEncoding;
    if (lengthCount > 0) return ERROR_KINDS.lengthAndChunked;
    if (req.httpVersionMajor === 1 && req.httpVersionMinor === 0) return ERROR_KINDS.transferEncoding10;
  }
  if (hostCount > 1) return ERROR_KINDS.multipleHost;
  if (hostCount === 0) {
    if (req.httpVersionMajor === 1 && req.httpVersionMinor >= 1) return ERROR_KINDS.missingHost;
  } else if (!isHostValue(host)) {
    return ERROR_KINDS.badHost;
  }
  if (req.method === 'CONNECT') return ERROR_KINDS.connectMethod;
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
export function rejectH2Request(req: GuardedRequest, limits: LimitsConfig): ErrorKind | null {
  const raw = req.rawHeaders;
  const url = req.url ?? '';
  if (limits.maxUrlLength > 0 && url.length > limits.maxUrlLength) return ERROR_KINDS.urlTooLong;
  if (limits.maxHeaderCount > 0 && raw.length > (limits.maxHeaderCount + 4) * 2) return ERROR_KINDS.tooManyHeaders;
  let authority = '';
  let host = '';
  let hostCount = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    if (!isFieldValue(value)) return ERROR_KINDS.headerValue;
    if (name.charCodeAt(0) === 58 /* : */) {
      if (name === ':authority') authority = value;
      else if (name === ':scheme' && value !== 'https' && value !== 'http') return ERROR_KINDS.h2Scheme;
      else if (name === ':path' && !isOriginPath(value, req.method)) return ERROR_KINDS.h2Path;
      continue;
    }
    if (!isLowerToken(name)) return ERROR_KINDS.headerName;
    if (H2_CONNECTION_SPECIFIC_SET.has(name)) return ERROR_KINDS.h2ConnectionHeader;
    switch (name) {
      case 'te':
        if (!trimmedEqualsLower(value, 'trailers')) return ERROR_KINDS.h2Te;
        break;
      case 'host':
        hostCount++;
        host = value;
        break;
      case 'content-length':
        if (parseContentLength(value) < 0) return ERROR_KINDS.contentLength;
        break;
    }
  }
  if (hostCount > 1) return ERROR_KINDS.multipleHost;
  if (authority === '' && hostCount === 0) return ERROR_KINDS.missingHost;
  const effective = authority !== '' ? authority : host;
  if (!isHostValue(effective)) return ERROR_KINDS.badHost;
  if (authority !== '' && hostCount === 1 && !sameAuthority(authority, 0, authority.length, host, true)) {
    return ERROR_KINDS.h2Authority;
  }
  if (req.method === 'CONNECT') return ERROR_KINDS.connectMethod;
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

function checkTarget(url: string, host: string, hasHost: boolean): ErrorKind | null {
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
    return ERROR_KINDS.badTarget;
  }
  let end = authorityStart;
  while (end < url.length) {
    const c = url.charCodeAt(end);
    if (c === 47 || c === 63 || c === 35) break; // / ? #
    if (c === 64 /* @ userinfo */) return ERROR_KINDS.badTarget;
    end++;
  }
  if (end === authorityStart) return ERROR_KINDS.badTarget;
  if (!hasHost) return null;
  return sameAuthority(url, authorityStart, end, host, secure) ? null : ERROR_KINDS.hostMismatch;
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
