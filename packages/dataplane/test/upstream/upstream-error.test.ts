import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyUpstreamError } from '../../src/upstream/upstream-error.ts';

describe('upstream error classification', () => {
  const cases: Array<[string, boolean, boolean, number, string | null]> = [
    ['ECONNREFUSED', false, false, 502, 'connect'],
    ['ECONNRESET', false, true, 502, 'reset'],
    ['ECONNRESET', true, false, 502, 'tls_client_rejected'],
    ['ECONNECT_TIMEOUT', false, false, 504, 'timeout'],
    ['GH_UPSTREAM_TIMEOUT', false, true, 504, 'timeout'],
    ['CERT_HAS_EXPIRED', false, false, 502, 'tls_expired'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', false, false, 502, 'tls_unknown_ca'],
    ['SELF_SIGNED_CERT_IN_CHAIN', false, false, 502, 'tls_unknown_ca'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', false, false, 502, 'tls_unknown_ca'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', false, false, 502, 'tls_hostname'],
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', true, false, 502, 'tls_client_rejected'],
  ];
  for (const [code, clientCert, handshakeDone, status, reason] of cases) {
    it(`${code} (client cert ${clientCert}, handshake ${handshakeDone}) → ${status} ${reason}`, () => {
      const kind = classifyUpstreamError({ code }, clientCert, handshakeDone);
      assert.equal(kind.status, status);
      assert.equal(kind.metricLabel, reason);
    });
  }
});
