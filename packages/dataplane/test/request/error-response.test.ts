import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorBody, sendError, wantsText } from '../../src/request/error-response.ts';
import { classifyUpstreamError, ERROR_KINDS } from '../../src/errors.ts';

class FakeResponse {
  headersSent = false;
  writableEnded = false;
  destroyed = false;
  status = 0;
  headers: Record<string, string | number> = {};
  body = '';
  writeHead(status: number, headers: Record<string, string | number>) {
    this.status = status;
    this.headers = headers;
    this.headersSent = true;
  }
  end(body?: string) {
    this.body = body ?? '';
    this.writableEnded = true;
  }
  destroy() {
    this.destroyed = true;
  }
}

describe('error responses', () => {
  it('writes the documented JSON shape', () => {
    const body = errorBody(ERROR_KINDS.upstreamConnect, 'api', 'req-1', false);
    assert.deepEqual(JSON.parse(body), {
      error: {
        status: 502,
        code: 'GH_UPSTREAM_CONNECT',
        message: 'could not connect to the backend',
        route: 'api',
        requestId: 'req-1',
      },
    });
    assert.deepEqual(JSON.parse(errorBody(ERROR_KINDS.noRoute, null, 'x', false)).error.route, null);
  });

  it('escapes route names that need it', () => {
    const body = errorBody(ERROR_KINDS.noRoute, 'a "quoted"\\ name', 'x', false);
    assert.equal(JSON.parse(body).error.route, 'a "quoted"\\ name');
  });

  it('chooses text only when the client asks for text and not JSON', () => {
    assert.equal(wantsText(undefined), false);
    assert.equal(wantsText('*/*'), false);
    assert.equal(wantsText('application/json'), false);
    assert.equal(wantsText('text/html,application/xhtml+xml'), true);
    assert.equal(wantsText('text/plain'), true);
    assert.equal(wantsText('text/plain, application/problem+json'), false);
    assert.equal(
      errorBody(ERROR_KINDS.upstreamTimeout, 'api', 'r', true),
      '504 Gateway Timeout: the backend did not answer in time (route api, request id r)\n',
    );
  });

  it('sets status, headers, Allow and Retry-After, and nothing that leaks internals', () => {
    const res = new FakeResponse();
    sendError(res, ERROR_KINDS.methodNotAllowed, 'api', 'rid', 'application/json', false, {
      allow: 'GET, HEAD',
      close: true,
    });
    assert.equal(res.status, 405);
    assert.equal(res.headers.allow, 'GET, HEAD');
    assert.equal(res.headers.connection, 'close');
    assert.equal(res.headers['x-request-id'], 'rid');
    assert.equal(res.headers['content-length'], Buffer.byteLength(res.body));
    assert.equal(res.headers.server, undefined);
    assert.equal(res.headers['x-powered-by'], undefined);
    const busy = new FakeResponse();
    sendError(busy, ERROR_KINDS.noHealthyBackend, 'api', 'rid', undefined, true, { retryAfterSeconds: 5, close: true });
    assert.equal(busy.status, 503);
    assert.equal(busy.headers['retry-after'], 5);
    assert.equal(busy.headers.connection, undefined, 'no Connection header on HTTP/2');
  });

  it('cuts a response that had already started instead of appending an error to it', () => {
    const res = new FakeResponse();
    res.headersSent = true;
    sendError(res, ERROR_KINDS.upstreamReset, 'api', 'rid', undefined, false, null);
    assert.equal(res.destroyed, true);
    assert.equal(res.body, '');
  });

  it('accepts guard rejections that carry a reason instead of a message', () => {
    const body = JSON.parse(
      errorBody({ status: 414, code: 'GH_REQUEST_URI_TOO_LONG', reason: 'too long' }, null, 'r', false),
    );
    assert.equal(body.error.message, 'too long');
  });
});

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
      assert.equal(kind.reason, reason);
    });
  }
});
