// The data plane's error vocabulary. Every refusal and failure the gateway answers itself is one
// frozen ErrorKind in ERROR_KINDS: the status it answers with, a stable `code` (logs, metrics and
// error bodies all use it), a message safe to show a client, and, for upstream failures, the
// `reason` label of gatehouse_upstream_errors_total. Per-request failures never construct an Error
// (capturing a stack costs more than the request): they pick a kind. The classes below are for
// what is thrown: a generation that cannot be built, a listener that cannot bind.

export type UpstreamErrorReason =
  | 'connect'
  | 'timeout'
  | 'reset'
  | 'tls_unknown_ca'
  | 'tls_expired'
  | 'tls_client_rejected'
  | 'tls_hostname';

/** What one failure answers: status, stable code, a message safe to show a client. */
export interface ErrorKind {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  /** Metric label for upstream failures; null for failures that are not the upstream's. */
  readonly metricLabel: UpstreamErrorReason | null;
}

function kind(
  status: number,
  code: string,
  message: string,
  metricLabel: UpstreamErrorReason | null = null,
): ErrorKind {
  return Object.freeze({ status, code, message, metricLabel });
}

export const ERROR_KINDS = Object.freeze({
  // ---- routing ----
  noRoute: kind(404, 'GH_NO_ROUTE', 'no route matches this host and path'),
  methodNotAllowed: kind(405, 'GH_METHOD_NOT_ALLOWED', 'method not allowed on this route'),
  noHealthyBackend: kind(503, 'GH_NO_HEALTHY_BACKEND', 'no healthy backend for this route'),
  draining: kind(503, 'GH_DRAINING', 'the gateway is shutting down'),
  internal: kind(500, 'GH_INTERNAL', 'internal gateway error'),

  // ---- the framing guard (edge/framing-guard.ts) and the parser's own refusals ----
  urlTooLong: kind(414, 'GH_REQUEST_URI_TOO_LONG', 'request target is longer than limits.maxUrlLength'),
  tooManyHeaders: kind(431, 'GH_REQUEST_TOO_MANY_HEADERS', 'more header fields than limits.maxHeaderCount'),
  headerName: kind(400, 'GH_REQUEST_HEADER_NAME', 'invalid character in a header name'),
  headerValue: kind(400, 'GH_REQUEST_HEADER_VALUE', 'invalid character (CR, LF, NUL or control) in a header value'),
  lengthAndChunked: kind(400, 'GH_REQUEST_CL_TE', 'both Content-Length and Transfer-Encoding'),
  contentLength: kind(400, 'GH_REQUEST_CONTENT_LENGTH', 'invalid Content-Length'),
  contentLengths: kind(400, 'GH_REQUEST_CONTENT_LENGTHS', 'several different Content-Length values'),
  transferEncoding: kind(400, 'GH_REQUEST_TRANSFER_ENCODING', 'Transfer-Encoding other than a single "chunked"'),
  transferEncoding10: kind(400, 'GH_REQUEST_TRANSFER_ENCODING', 'Transfer-Encoding in an HTTP/1.0 request'),
  missingHost: kind(400, 'GH_REQUEST_HOST_MISSING', 'HTTP/1.1 request without Host'),
  multipleHost: kind(400, 'GH_REQUEST_HOST_MULTIPLE', 'more than one Host header'),
  badHost: kind(400, 'GH_REQUEST_HOST_INVALID', 'Host is not a valid authority'),
  hostMismatch: kind(400, 'GH_REQUEST_HOST_MISMATCH', 'absolute-form target and Host name different hosts'),
  badTarget: kind(400, 'GH_REQUEST_TARGET', 'request target is not origin-form, absolute http(s) or "*"'),
  connectMethod: kind(405, 'GH_REQUEST_CONNECT', 'CONNECT is not supported'),
  httpVersion: kind(400, 'GH_REQUEST_HTTP_VERSION', 'request line without HTTP/1.0 or HTTP/1.1 (HTTP/0.9 style)'),
  h2ConnectionHeader: kind(400, 'GH_REQUEST_H2_CONNECTION_HEADER', 'connection-specific header in an HTTP/2 request'),
  h2Te: kind(400, 'GH_REQUEST_H2_TE', 'TE other than "trailers" in an HTTP/2 request'),
  h2Scheme: kind(400, 'GH_REQUEST_H2_SCHEME', ':scheme is not http or https'),
  h2Path: kind(400, 'GH_REQUEST_H2_PATH', ':path is not an origin-form path'),
  h2Authority: kind(400, 'GH_REQUEST_H2_AUTHORITY', ':authority and Host disagree'),
  bodyTooLarge: kind(413, 'GH_REQUEST_BODY_TOO_LARGE', 'request body is larger than the limit'),
  // ---- security.enableExploitProtection ----
  exploitBlocked: kind(403, 'GH_EXPLOIT_BLOCKED', 'request matches an exploit pattern'),
  xmlMalformed: kind(400, 'GH_XML_MALFORMED', 'request body is not well-formed XML, or declares a DOCTYPE'),
  malformed: kind(400, 'GH_REQUEST_MALFORMED', 'malformed request'),
  requestTimeout: kind(408, 'GH_REQUEST_TIMEOUT', 'request not received in time'),
  chunkExtensionsTooLarge: kind(413, 'GH_REQUEST_CHUNK_EXTENSIONS', 'chunk extensions too large'),
  targetTooLong: kind(414, 'GH_REQUEST_URI_TOO_LONG', 'request target too long'),
  headersTooLarge: kind(431, 'GH_REQUEST_HEADERS_TOO_LARGE', 'request headers too large'),

  // ---- the canonical request (request/canonical-path.ts, canonical-host.ts, client-headers.ts, header-room.ts) ----
  pathEncodedSlash: kind(400, 'GH_REQUEST_PATH_ENCODED_SLASH', 'path holds an encoded "/" or "\\" (%2F, %5C)'),
  pathEncodedNul: kind(400, 'GH_REQUEST_PATH_ENCODED_NUL', 'path holds an encoded NUL (%00)'),
  pathBackslash: kind(400, 'GH_REQUEST_PATH_BACKSLASH', 'path holds a "\\"'),
  pathBadEscape: kind(400, 'GH_REQUEST_PATH_ESCAPE', 'path holds a "%" that is not followed by two hex digits'),
  pathEncodedDot: kind(400, 'GH_REQUEST_PATH_ENCODED_DOT', 'path holds a dot segment spelled with an escape (%2E)'),
  pathDotParameter: kind(
    400,
    'GH_REQUEST_PATH_DOT_PARAMETER',
    'path holds a dot segment with a parameter (".;", "..;")',
  ),
  pathFragment: kind(400, 'GH_REQUEST_PATH_FRAGMENT', 'request target holds a fragment ("#")'),
  hostNotCanonical: kind(
    400,
    'GH_REQUEST_HOST_INVALID',
    'Host is not a canonical authority (empty label, escape, bad port or bare IPv6)',
  ),
  connectionNamesFraming: kind(
    400,
    'GH_REQUEST_CONNECTION_HEADER',
    'Connection names Content-Length, Transfer-Encoding, Host, TE or Upgrade',
  ),
  headerRoom: kind(
    431,
    'GH_REQUEST_HEADERS_UPSTREAM_TOO_LARGE',
    'request headers with what the gateway adds are larger than limits.maxHeaderBytes',
  ),

  // ---- client certificates (tls/client-auth.ts) ----
  clientCertRequired: kind(401, 'GH_CLIENT_CERT_REQUIRED', 'client certificate required'),
  clientCertNeedsTls: kind(401, 'GH_CLIENT_CERT_REQUIRED', 'client certificate required: use HTTPS'),
  clientCertExpired: kind(401, 'GH_CLIENT_CERT_INVALID', 'client certificate expired'),
  clientCertNotYetValid: kind(401, 'GH_CLIENT_CERT_INVALID', 'client certificate not yet valid'),
  clientCertUnknownCa: kind(401, 'GH_CLIENT_CERT_INVALID', 'client certificate signed by an unknown CA'),
  clientCertRevoked: kind(401, 'GH_CLIENT_CERT_INVALID', 'client certificate revoked'),
  clientCertNoCrl: kind(401, 'GH_CLIENT_CERT_INVALID', 'client certificate issuer has no CRL configured'),
  clientCertBadSignature: kind(401, 'GH_CLIENT_CERT_INVALID', 'client certificate signature invalid'),
  clientCertBadPurpose: kind(401, 'GH_CLIENT_CERT_INVALID', 'client certificate not valid for client authentication'),
  clientCertInvalid: kind(401, 'GH_CLIENT_CERT_INVALID', 'client certificate rejected'),
  clientCertSubjectNotAllowed: kind(
    403,
    'GH_CLIENT_CERT_FORBIDDEN',
    'client certificate subject not allowed on this route',
  ),
  clientCertSanNotAllowed: kind(403, 'GH_CLIENT_CERT_FORBIDDEN', 'client certificate SAN not allowed on this route'),
  misdirected: kind(
    421,
    'GH_MISDIRECTED',
    'TLS server name and Host belong to routes with different client-certificate policies',
  ),

  // ---- the backend (upstream/upstream-error.ts) ----
  upstreamConnect: kind(502, 'GH_UPSTREAM_CONNECT', 'could not connect to the backend', 'connect'),
  upstreamReset: kind(502, 'GH_UPSTREAM_RESET', 'the backend closed the connection', 'reset'),
  upstreamConnectTimeout: kind(504, 'GH_UPSTREAM_CONNECT_TIMEOUT', 'timed out connecting to the backend', 'timeout'),
  upstreamTimeout: kind(504, 'GH_UPSTREAM_TIMEOUT', 'the backend did not answer in time', 'timeout'),
  tlsExpired: kind(502, 'GH_UPSTREAM_TLS', 'upstream certificate expired', 'tls_expired'),
  tlsUnknownCa: kind(502, 'GH_UPSTREAM_TLS', 'upstream certificate from unknown CA', 'tls_unknown_ca'),
  tlsHostname: kind(502, 'GH_UPSTREAM_TLS', 'upstream certificate name mismatch', 'tls_hostname'),
  tlsClientRejected: kind(502, 'GH_UPSTREAM_TLS', 'upstream rejected client certificate', 'tls_client_rejected'),
});

/** The base of every error this package throws: a stable `code` beside the message. */
export class GatehouseDataplaneError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A snapshot could not be turned into live objects (answered as gh:failed; the old generation stays). */
export class GenerationBuildError extends GatehouseDataplaneError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('GH_GENERATION_BUILD', message, options);
  }
}

/** A listener could not bind: start-up stops with the address and the reason. */
export class ListenerBindError extends GatehouseDataplaneError {
  readonly address: string;
  readonly reason: string;
  constructor(address: string, reason: string, options?: { cause?: unknown }) {
    super('GH_LISTEN_BIND', `cannot listen on ${address}: ${reason}`, options);
    this.address = address;
    this.reason = reason;
  }
}

/** Raised on an upstream request whose response did not start within `upstreamResponse`. */
export class UpstreamResponseTimeoutError extends GatehouseDataplaneError {
  constructor() {
    super('GH_UPSTREAM_TIMEOUT', 'the backend did not answer in time');
  }
}
