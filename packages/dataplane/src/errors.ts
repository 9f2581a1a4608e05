// The data plane's error family, in undici's style: one class per failure with a fixed `code`, a
// default message, the HTTP status it answers with and the `reason` label of
// gatehouse_upstream_errors_total. Logs, metrics and error bodies all use `code`.
//
// Per-request failures do not construct these (capturing a stack costs more than the request):
// the forwarder classifies an upstream error into one of the frozen `ERROR_KINDS` below. The
// classes are for errors that are thrown: a generation that cannot be built, a listener that
// cannot bind.

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
  readonly reason: UpstreamErrorReason | null;
}

function kind(status: number, code: string, message: string, reason: UpstreamErrorReason | null = null): ErrorKind {
  return Object.freeze({ status, code, message, reason });
}

export const ERROR_KINDS = Object.freeze({
  noRoute: kind(404, 'GH_NO_ROUTE', 'no route matches this host and path'),
  methodNotAllowed: kind(405, 'GH_METHOD_NOT_ALLOWED', 'method not allowed on this route'),
  noHealthyBackend: kind(503, 'GH_NO_HEALTHY_BACKEND', 'no healthy backend for this route'),
  upstreamConnect: kind(502, 'GH_UPSTREAM_CONNECT', 'could not connect to the backend', 'connect'),
  upstreamReset: kind(502, 'GH_UPSTREAM_RESET', 'the backend closed the connection', 'reset'),
  upstreamConnectTimeout: kind(504, 'GH_UPSTREAM_CONNECT_TIMEOUT', 'timed out connecting to the backend', 'timeout'),
  upstreamTimeout: kind(504, 'GH_UPSTREAM_TIMEOUT', 'the backend did not answer in time', 'timeout'),
  tlsExpired: kind(502, 'GH_UPSTREAM_TLS', 'upstream certificate expired', 'tls_expired'),
  tlsUnknownCa: kind(502, 'GH_UPSTREAM_TLS', 'upstream certificate from unknown CA', 'tls_unknown_ca'),
  tlsHostname: kind(502, 'GH_UPSTREAM_TLS', 'upstream certificate name mismatch', 'tls_hostname'),
  tlsClientRejected: kind(502, 'GH_UPSTREAM_TLS', 'upstream rejected client certificate', 'tls_client_rejected'),
  draining: kind(503, 'GH_DRAINING', 'the gateway is shutting down'),
  internal: kind(500, 'GH_INTERNAL', 'internal gateway error'),
});

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

/** A message from the primary that does not follow the protocol (wrong generation, no prepare). */
export class ProtocolError extends GatehouseDataplaneError {
  constructor(message: string) {
    super('GH_WORKER_PROTOCOL', message);
  }
}

/** Raised on an upstream request whose response did not start within `upstreamResponse`. */
export class UpstreamResponseTimeoutError extends GatehouseDataplaneError {
  constructor() {
    super('GH_UPSTREAM_TIMEOUT', 'the backend did not answer in time');
  }
}

interface SystemErrorLike {
  code?: string;
  message?: string;
}

/**
 * Maps an upstream failure (socket, TLS or our own timeout code) to what the client is told.
 * `clientCert`: the route presents a client certificate, so a reset during the handshake means the
 * backend refused it. `handshakeDone`: the TLS handshake (if any) had completed on that socket.
 */
export function classifyUpstreamError(err: SystemErrorLike, clientCert: boolean, handshakeDone: boolean): ErrorKind {
  switch (err.code) {
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EADDRNOTAVAIL':
      return ERROR_KINDS.upstreamConnect;
    case 'ECONNECT_TIMEOUT':
    case 'GH_UPSTREAM_CONNECT_TIMEOUT':
      return ERROR_KINDS.upstreamConnectTimeout;
    case 'GH_UPSTREAM_TIMEOUT':
    case 'ETIMEDOUT':
      return ERROR_KINDS.upstreamTimeout;
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
      return ERROR_KINDS.tlsExpired;
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'CERT_SIGNATURE_FAILURE':
    case 'CERT_UNTRUSTED':
    case 'CERT_REVOKED':
      return ERROR_KINDS.tlsUnknownCa;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return ERROR_KINDS.tlsHostname;
    case 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED':
    case 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE':
    case 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE':
    case 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA':
    case 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN':
    case 'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED':
    case 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED':
    case 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED':
    case 'ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR':
      return ERROR_KINDS.tlsClientRejected;
    case 'ECONNRESET':
    case 'EPIPE':
      // A backend that wants a client certificate and gets none (or a bad one) often just resets
      // during the handshake, before any alert reaches us.
      if (clientCert && !handshakeDone) return ERROR_KINDS.tlsClientRejected;
      return ERROR_KINDS.upstreamReset;
    default:
      if (typeof err.code === 'string' && err.code.startsWith('ERR_SSL_')) {
        return clientCert && !handshakeDone ? ERROR_KINDS.tlsClientRejected : ERROR_KINDS.tlsUnknownCa;
      }
      return ERROR_KINDS.upstreamReset;
  }
}
