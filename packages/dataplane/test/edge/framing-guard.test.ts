import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { LimitsConfig } from '@gatehouse/config';
import { clientErrorStatus, onClientError } from '../../src/edge/client-error.ts';
import { isFieldValue, isToken, parseContentLength } from '../../src/edge/field-syntax.ts';
import { type GuardedRequest, originForm, rejectRequest } from '../../src/edge/framing-guard.ts';
import { ERROR_KINDS } from '../../src/errors.ts';

const limits: LimitsConfig = {
  maxHeaderBytes: 16384,
  maxHeaderCount: 10,
  maxUrlLength: 64,
  maxBodyBytes: 0,
  maxConnectionsPerWorker: 1000,
  maxConcurrentStreams: 100,
  h2MaxResetsPerWindow: 100,
  h2ResetWindowMs: 1000,
};

function req(headers: string[], url = '/', method = 'GET', minor = 1): GuardedRequest {
  return { method, url, rawHeaders: headers, httpVersionMajor: 1, httpVersionMinor: minor };
}

describe('rejectRequest', () => {
  it('refuses a request line without an HTTP version (HTTP/0.9 style)', () => {
    const r: GuardedRequest = {
      method: 'GET',
      url: '/',
      rawHeaders: ['Host', 'a'],
      httpVersionMajor: 0,
      httpVersionMinor: 9,
    };
    assert.equal(rejectRequest(r, limits), ERROR_KINDS.httpVersion);
  });

  it('lets a well-formed request through', () => {
    assert.equal(rejectRequest(req(['Host', 'a.example:8443', 'Accept', '*/*']), limits), null);
    assert.equal(rejectRequest(req(['Host', 'a', 'Transfer-Encoding', ' Chunked '], '/', 'POST'), limits), null);
    assert.equal(
      rejectRequest(req(['Host', 'a', 'Content-Length', '3', 'content-length', '3'], '/', 'POST'), limits),
      null,
    );
    assert.equal(rejectRequest(req(['Host', '[::1]:80']), limits), null);
    assert.equal(rejectRequest(req([], '/', 'GET', 0), limits), null);
    assert.equal(rejectRequest(req(['Host', 'a'], '*', 'OPTIONS'), limits), null);
  });

  it('refuses ambiguous framing', () => {
    assert.equal(
      rejectRequest(req(['Host', 'a', 'Content-Length', '3', 'Transfer-Encoding', 'chunked']), limits),
      ERROR_KINDS.lengthAndChunked,
    );
    assert.equal(
      rejectRequest(req(['Host', 'a', 'Content-Length', '3', 'Content-Length', '4']), limits),
      ERROR_KINDS.contentLengths,
    );
    assert.equal(rejectRequest(req(['Host', 'a', 'Content-Length', '3, 3']), limits), ERROR_KINDS.contentLength);
    assert.equal(rejectRequest(req(['Host', 'a', 'Content-Length', '+3']), limits), ERROR_KINDS.contentLength);
    assert.equal(rejectRequest(req(['Host', 'a', 'Content-Length', '']), limits), ERROR_KINDS.contentLength);
    for (const te of ['gzip', 'identity', 'gzip, chunked', 'chunked, gzip', 'chunked,', 'xchunked']) {
      assert.equal(
        rejectRequest(req(['Host', 'a', 'Transfer-Encoding', te]), limits),
        ERROR_KINDS.transferEncoding,
        te,
      );
    }
    assert.equal(
      rejectRequest(req(['Host', 'a', 'Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'chunked']), limits),
      ERROR_KINDS.transferEncoding,
    );
    assert.equal(
      rejectRequest(req(['Transfer-Encoding', 'chunked'], '/', 'POST', 0), limits),
      ERROR_KINDS.transferEncoding10,
    );
  });

  it('refuses bad header bytes', () => {
    assert.equal(rejectRequest(req(['Host', 'a', 'X-A ', 'b']), limits), ERROR_KINDS.headerName);
    assert.equal(rejectRequest(req(['Host', 'a', 'X\tA', 'b']), limits), ERROR_KINDS.headerName);
    assert.equal(rejectRequest(req(['Host', 'a', '', 'b']), limits), ERROR_KINDS.headerName);
    for (const v of ['b\rc', 'b\nc', 'b\0c', 'b\r\n c', '\x01', '\x7f']) {
      assert.equal(rejectRequest(req(['Host', 'a', 'X-A', v]), limits), ERROR_KINDS.headerValue, JSON.stringify(v));
    }
    assert.equal(rejectRequest(req(['Host', 'a', 'X-A', 'tab\tand obs-text \u00e9']), limits), null);
  });

  it('requires exactly one valid Host in HTTP/1.1', () => {
    assert.equal(rejectRequest(req([]), limits), ERROR_KINDS.missingHost);
    assert.equal(rejectRequest(req(['Host', 'a', 'host', 'b']), limits), ERROR_KINDS.multipleHost);
    assert.equal(rejectRequest(req(['Host', 'a', 'host', 'a'], '/', 'GET', 0), limits), ERROR_KINDS.multipleHost);
    for (const h of ['', 'a b', 'a/b', 'user@a', 'a\\b']) {
      assert.equal(rejectRequest(req(['Host', h]), limits), ERROR_KINDS.badHost, h);
    }
  });

  it('checks the request target', () => {
    assert.equal(rejectRequest(req(['Host', 'a'], 'http://b/x'), limits), ERROR_KINDS.hostMismatch);
    assert.equal(rejectRequest(req(['Host', 'A'], 'HTTP://a/x'), limits), null);
    assert.equal(rejectRequest(req(['Host', 'a'], 'http://a:80/x'), limits), null);
    assert.equal(rejectRequest(req(['Host', 'a:443'], 'https://A/x?y'), limits), null);
    assert.equal(rejectRequest(req(['Host', 'a:8080'], 'http://a/x'), limits), ERROR_KINDS.hostMismatch);
    assert.equal(rejectRequest(req(['Host', 'a'], 'http://u@a/x'), limits), ERROR_KINDS.badTarget);
    assert.equal(rejectRequest(req(['Host', 'a'], 'ftp://a/x'), limits), ERROR_KINDS.badTarget);
    assert.equal(rejectRequest(req(['Host', 'a'], 'http:///x'), limits), ERROR_KINDS.badTarget);
    assert.equal(rejectRequest(req(['Host', 'a'], 'x'), limits), ERROR_KINDS.badTarget);
    assert.equal(rejectRequest(req(['Host', 'a:443'], 'a:443', 'CONNECT'), limits), ERROR_KINDS.connectMethod);
  });

  it('enforces URL length and header count', () => {
    assert.equal(rejectRequest(req(['Host', 'a'], `/${'x'.repeat(64)}`), limits), ERROR_KINDS.urlTooLong);
    assert.equal(rejectRequest(req(['Host', 'a'], `/${'x'.repeat(63)}`), limits), null);
    const many = ['Host', 'a'];
    for (let i = 0; i < 10; i++) many.push(`X-${i}`, 'v');
    assert.equal(rejectRequest(req(many), limits), ERROR_KINDS.tooManyHeaders);
    assert.equal(rejectRequest(req(many.slice(0, 20)), limits), null);
  });
});

describe('rejectH2Request (via rejectRequest, HTTP/2 compat requests)', () => {
  const h2 = (extra: string[], path = '/p', method = 'GET', authority = 'a.test'): GuardedRequest => ({
    method,
    url: path,
    rawHeaders: [':method', method, ':scheme', 'https', ':authority', authority, ':path', path, ...extra],
    httpVersionMajor: 2,
    httpVersionMinor: 0,
  });
  it('lets a well-formed request through', () => {
    assert.equal(rejectRequest(h2(['accept', '*/*', 'te', 'trailers', 'host', 'A.test:443']), limits), null);
    assert.equal(rejectRequest(h2([], '*', 'OPTIONS'), limits), null);
  });
  it('refuses what an HTTP/1.1 hop must not see', () => {
    assert.equal(rejectRequest(h2(['X-Up', '1']), limits), ERROR_KINDS.headerName);
    assert.equal(rejectRequest(h2(['x-a', 'a\r\nb']), limits), ERROR_KINDS.headerValue);
    assert.equal(rejectRequest(h2(['x-a', 'a\u0001b']), limits), ERROR_KINDS.headerValue);
    for (const name of ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']) {
      assert.equal(rejectRequest(h2([name, 'x']), limits), ERROR_KINDS.h2ConnectionHeader, name);
    }
    assert.equal(rejectRequest(h2(['te', 'gzip']), limits), ERROR_KINDS.h2Te);
    assert.equal(rejectRequest(h2([], '/a#b'), limits), ERROR_KINDS.h2Path);
    assert.equal(rejectRequest(h2([], 'x'), limits), ERROR_KINDS.h2Path);
    assert.equal(rejectRequest(h2([], '/a b'), limits), ERROR_KINDS.h2Path);
    assert.equal(rejectRequest(h2([], '*'), limits), ERROR_KINDS.h2Path);
    assert.equal(rejectRequest(h2(['host', 'b.test']), limits), ERROR_KINDS.h2Authority);
    assert.equal(rejectRequest(h2(['host', 'a.test', 'host', 'a.test']), limits), ERROR_KINDS.multipleHost);
    assert.equal(rejectRequest(h2([], '/', 'GET', 'a b'), limits), ERROR_KINDS.badHost);
    assert.equal(rejectRequest(h2(['content-length', '1, 1']), limits), ERROR_KINDS.contentLength);
    const scheme = h2([]);
    scheme.rawHeaders[3] = 'javascript';
    assert.equal(rejectRequest(scheme, limits), ERROR_KINDS.h2Scheme);
    assert.equal(rejectRequest(h2([], `/${'x'.repeat(64)}`), limits), ERROR_KINDS.urlTooLong);
  });
});

describe('helpers', () => {
  it('parses Content-Length strictly', () => {
    assert.equal(parseContentLength('0'), 0);
    assert.equal(parseContentLength(' 42 '), 42);
    assert.equal(parseContentLength('4 2'), -1);
    assert.equal(parseContentLength('-1'), -1);
    assert.equal(parseContentLength('1e3'), -1);
    assert.equal(parseContentLength('9'.repeat(16)), -1);
  });
  it('classifies tokens and field values', () => {
    assert.equal(isToken('X-Forwarded-For'), true);
    assert.equal(isToken('a:b'), false);
    assert.equal(isFieldValue('ok value'), true);
    assert.equal(isFieldValue('bad\u0000'), false);
  });
  it('turns absolute-form into origin-form', () => {
    assert.equal(originForm('/a?b'), '/a?b');
    assert.equal(originForm('http://h/a?b'), '/a?b');
    assert.equal(originForm('http://h'), '/');
    assert.equal(originForm('http://h?q=1'), '/?q=1');
  });
  it('maps parser errors to statuses', () => {
    const e = (code: string) => Object.assign(new Error('x'), { code });
    assert.equal(clientErrorStatus(e('HPE_HEADER_OVERFLOW')), 431);
    assert.equal(clientErrorStatus(e('ERR_HTTP_REQUEST_TIMEOUT')), 408);
    assert.equal(clientErrorStatus(e('HPE_INVALID_TRANSFER_ENCODING')), 400);
    assert.equal(clientErrorStatus(e('ECONNRESET')), 0);
  });
});

// The real Node parser in front of the guard: each vector is refused by one layer or the other,
// and the handler behind the guard (standing in for "forward to the backend") never sees it.
describe('layers together (real llhttp + guard)', () => {
  let server: http.Server;
  let port = 0;
  const passed: string[] = [];
  before(async () => {
    server = http.createServer({ maxHeaderSize: 4096 }, (request, response) => {
      const refused = rejectRequest(request, limits);
      if (refused) {
        response.writeHead(refused.status, { connection: 'close' }).end(refused.code);
        return;
      }
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        passed.push(`${request.method} ${request.url} ${Buffer.concat(chunks).toString()}`);
        response.end('ok');
      });
      request.on('error', () => {});
    });
    server.on('clientError', onClientError);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as net.AddressInfo).port;
  });
  after(() => server.close());

  function send(raw: string): Promise<string> {
    return new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write(raw));
      let data = '';
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => {
        data += d;
      });
      socket.on('close', () => resolve(data));
      socket.on('error', () => {});
      setTimeout(() => socket.destroy(), 3000).unref();
    });
  }

  const vectors: Record<string, [string, number]> = {
    'CL and TE': [
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
    ],
    'two CL': ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd', 400],
    'CL list': ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc', 400],
    'TE gzip': ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n', 400],
    'TE gzip, chunked': ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', 400],
    'TE chunked, gzip': ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', 400],
    'TE twice': [
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
    ],
    'TE in HTTP/1.0': ['POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    'obs-fold': ['GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n', 400],
    'bare CR': ['GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n', 400],
    'bare LF': ['GET / HTTP/1.1\r\nHost: a\r\nX-A: b\nX-B: c\r\n\r\n', 400],
    NUL: ['GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n', 400],
    'space before colon': ['GET / HTTP/1.1\r\nHost: a\r\nX-A : b\r\n\r\n', 400],
    'no Host': ['GET / HTTP/1.1\r\nX-A: b\r\n\r\n', 400],
    'two Host': ['GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
    'absolute-form mismatch': ['GET http://b/x HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    'bad chunk size': ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n', 400],
    'header overflow': [`GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'x'.repeat(5000)}\r\n\r\n`, 431],
    'URL too long': [`GET /${'x'.repeat(100)} HTTP/1.1\r\nHost: a\r\n\r\n`, 414],
  };
  for (const [name, [raw, status]] of Object.entries(vectors)) {
    it(`${name} → ${status}, closed, never handled`, async () => {
      passed.length = 0;
      const answer = await send(raw);
      assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `), answer);
      assert.match(answer.toLowerCase(), /\r\nconnection: close\r\n/);
      assert.doesNotMatch(answer, /at .*\.(ts|js):\d+/); // no stack trace
      if (name !== 'bad chunk size') assert.deepEqual(passed, []);
    });
  }

  it('a well-formed request passes with its body', async () => {
    passed.length = 0;
    const answer = await send('POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc');
    assert.match(answer, /^HTTP\/1\.1 200 /);
    assert.deepEqual(passed, ['POST /p abc']);
  });
});
