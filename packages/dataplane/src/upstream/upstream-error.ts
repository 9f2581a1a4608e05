// What a failed upstream request is called: a socket, TLS or deadline error mapped to the ErrorKind
// the client is answered with and the metric label it is counted under.
import { ERROR_KINDS, type ErrorKind } from '../errors.ts';

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
