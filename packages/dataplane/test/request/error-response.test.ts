import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';
import { describe, it } from 'node:test';
import { errorBody, rawErrorResponse, sendError, wantsText } from '../../src/request/error-response.ts';
import { ERROR_KINDS } from '../../src/errors.ts';

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

  it('a raw answer (refused upgrade, parser error) has the standard reason phrase, never the code', () => {
    const raw = rawErrorResponse(ERROR_KINDS.noHealthyBackend, 'ws', 'rid', undefined, { retryAfterSeconds: 2 });
    const [head, body] = raw.split('\r\n\r\n');
    const lines = (head as string).split('\r\n');
    assert.equal(lines[0], 'HTTP/1.1 503 Service Unavailable');
    assert.ok(lines.includes('Connection: close'));
    assert.ok(lines.includes('Retry-After: 2'));
    assert.ok(lines.includes(`Content-Length: ${Buffer.byteLength(body as string)}`));
    assert.equal(JSON.parse(body as string).error.code, 'GH_NO_HEALTHY_BACKEND');
    for (const kind of Object.values(ERROR_KINDS)) {
      const line = rawErrorResponse(kind, null, null, 'text/plain', null).split('\r\n')[0] as string;
      assert.doesNotMatch(line, /GH_/, line);
      assert.equal(line, `HTTP/1.1 ${kind.status} ${STATUS_CODES[kind.status]}`);
    }
  });

  it('without a request id (a parser error) the body says so and no x-request-id is sent', () => {
    const raw = rawErrorResponse(ERROR_KINDS.malformed, null, null, undefined, null);
    assert.doesNotMatch(raw.toLowerCase(), /x-request-id/);
    assert.equal(JSON.parse(raw.split('\r\n\r\n')[1] as string).error.requestId, null);
  });
});
