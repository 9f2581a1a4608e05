import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RateLimitRule } from '@gatehouse/config';
import { rateLimitKey } from '../../src/middleware/rate-limit/client-key.ts';
import { accessLogFields, cookieValue, queryValue } from '../../src/middleware/shaping/access-log-fields.ts';
import { compileErrorInterceptor, shouldIntercept } from '../../src/middleware/shaping/error-interceptor.ts';

const at = { file: 'gatehouse.yaml', line: 1, col: 1, path: 'middlewares[0]' };

const rl = (over: Partial<RateLimitRule>): RateLimitRule => ({
  unit: 'second',
  requestsPerUnit: 1,
  burst: 0,
  banAfter: 0,
  banDurationMs: 0,
  keySource: 'ip',
  keyName: null,
  onStoreError: 'local',
  ...over,
});

describe('request fields: rate-limit keys, access-log fields, error interception', () => {
  it('keys by address, header or cookie; a missing header or cookie falls back to the address', () => {
    const ip = { clientAddress: () => '203.0.113.9' };
    assert.equal(rateLimitKey(rl({}), {}, ip), 'i 203.0.113.9');
    const header = rl({ keySource: 'header', keyName: 'x-api-key' });
    assert.equal(rateLimitKey(header, { 'x-api-key': ' k1 ' }, ip), 'h k1');
    assert.equal(rateLimitKey(header, { 'x-api-key': '' }, ip), 'i 203.0.113.9');
    assert.equal(rateLimitKey(header, {}, ip), 'i 203.0.113.9');
    const cookie = rl({ keySource: 'cookie', keyName: 'session' });
    assert.equal(rateLimitKey(cookie, { cookie: 'a=1; session=abc; b=2' }, ip), 'c abc');
    assert.equal(rateLimitKey(cookie, { cookie: 'a=1' }, ip), 'i 203.0.113.9');
  });

  it('reads cookies and query parameters', () => {
    assert.equal(cookieValue('a=1; b="two"', 'b'), 'two');
    assert.equal(cookieValue('ab=1', 'a'), null);
    assert.equal(queryValue('/x?debug=1&source=a%20b', 'source'), 'a b');
    assert.equal(queryValue('/x?flag', 'flag'), '');
    assert.equal(queryValue('/x', 'flag'), null);
  });

  it('adds only the named fields, truncated; missing ones are null', () => {
    const into = {};
    accessLogFields(
      { headers: ['cf-ipcountry', 'user-agent'], query: ['debug'], cookies: ['session_id'], maxValueLength: 4 },
      { 'cf-ipcountry': 'DE', 'user-agent': 'curl/8.0', authorization: 'Bearer secret', cookie: 'session_id=abcdef' },
      '/api?debug=true',
      into,
    );
    assert.deepEqual(into, {
      headers: { 'cf-ipcountry': 'DE', 'user-agent': 'curl…' },
      query: { debug: 'true' },
      cookies: { session_id: 'abcd…' },
    });
    assert.ok(!JSON.stringify(into).includes('secret'));
  });

  it('logs Authorization and Cookie only when a rule names them, and other cookies never', () => {
    const headers = { authorization: 'Bearer secret', cookie: 'session_id=abc; other=topsecret' };
    const unnamed = {};
    accessLogFields(
      { headers: ['user-agent'], query: [], cookies: ['session_id'], maxValueLength: 64 },
      headers,
      '/',
      unnamed,
    );
    assert.deepEqual(unnamed, { headers: { 'user-agent': null }, cookies: { session_id: 'abc' } });
    const named = {};
    accessLogFields(
      { headers: ['authorization', 'cookie'], query: [], cookies: [], maxValueLength: 64 },
      headers,
      '/',
      named,
    );
    assert.deepEqual(named, { headers: headers });
  });

  it('replaces listed error answers only when they are small and not streamed', () => {
    const c = compileErrorInterceptor({
      contentType: 'application/json',
      errors: [
        { statusCode: 404, body: '{"ok":false}', file: null, at },
        { statusCode: 500, body: null, file: null, at },
      ],
      maxBodyBytes: 64 * 1024,
    });
    assert.equal(shouldIntercept(c, 404, 120, false), true);
    assert.equal(shouldIntercept(c, 404, null, false), true);
    assert.equal(shouldIntercept(c, 404, 1_000_000, false), false);
    assert.equal(shouldIntercept(c, 404, null, true), false);
    assert.equal(shouldIntercept(c, 502, 10, false), false);
  });
});
