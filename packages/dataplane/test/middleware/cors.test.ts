import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CorsRule } from '@gatehouse/config';
import {
  addCorsResponseHeaders,
  compileCors,
  isPreflight,
  originAllowed,
  preflightHeaders,
} from '../../src/middleware/shaping/cors.ts';

const rule = (over: Partial<CorsRule>): CorsRule => ({
  origins: [],
  allowMethods: [],
  allowedHeaders: [],
  exposeHeaders: [],
  maxAge: null,
  allowCredentials: false,
  headers: [],
  ...over,
});

/** A flat name/value field list (as the response keeps it), written as `Name: value` lines. */
const fields = (...lines: string[]): string[] =>
  lines.flatMap((line) => {
    const colon = line.indexOf(': ');
    return [line.slice(0, colon), line.slice(colon + 2)];
  });

describe('CORS', () => {
  it('matches exact, `*` and `*.domain` origins', () => {
    const c = compileCors(rule({ origins: ['https://example.com', '*.example.org', 'https://*.example.net'] }));
    assert.equal(originAllowed(c, 'https://example.com'), true);
    assert.equal(originAllowed(c, 'HTTPS://EXAMPLE.COM'), true);
    assert.equal(originAllowed(c, 'http://example.com'), false);
    assert.equal(originAllowed(c, 'https://a.example.org'), true);
    assert.equal(originAllowed(c, 'http://a.b.example.org:8080'), true);
    assert.equal(originAllowed(c, 'https://example.org'), false, 'the wildcard needs a label');
    assert.equal(originAllowed(c, 'https://evilexample.org'), false);
    assert.equal(originAllowed(c, 'https://x.example.net'), true);
    assert.equal(originAllowed(c, 'http://x.example.net'), false, 'scheme in the pattern is kept');
    assert.equal(originAllowed(c, 'null'), false);
    assert.equal(originAllowed(compileCors(rule({ origins: ['*'] })), 'https://any.where'), true);
  });

  it('echoes the origin with credentials, never a literal `*`', () => {
    const c = compileCors(rule({ origins: ['*'], allowCredentials: true }));
    const out: string[] = [];
    addCorsResponseHeaders(c, 'https://app.example', out);
    assert.deepEqual(
      out,
      fields(
        'Vary: Origin',
        'Access-Control-Allow-Origin: https://app.example',
        'Access-Control-Allow-Credentials: true',
      ),
    );
    const open = compileCors(rule({ origins: ['*'] }));
    const out2: string[] = [];
    addCorsResponseHeaders(open, 'https://app.example', out2);
    assert.equal(out2[3], '*');
  });

  it('replaces the backend Access-Control-* fields and keeps Vary once', () => {
    const c = compileCors(rule({ origins: ['https://a.example'], exposeHeaders: ['X-Total'] }));
    const out = fields('Access-Control-Allow-Origin: *', 'Vary: Accept-Encoding', 'X-Other: 1');
    addCorsResponseHeaders(c, 'https://b.example', out);
    assert.deepEqual(out, fields('Vary: Accept-Encoding, Origin', 'X-Other: 1'), 'not allowed: no CORS grant at all');
    const ok = fields('Vary: origin');
    addCorsResponseHeaders(c, 'https://a.example', ok);
    assert.deepEqual(
      ok,
      fields(
        'Vary: origin',
        'Access-Control-Allow-Origin: https://a.example',
        'Access-Control-Expose-Headers: X-Total',
      ),
    );
    const star = fields('Vary: *');
    addCorsResponseHeaders(c, undefined, star);
    assert.deepEqual(star, fields('Vary: *'));
  });

  it('reads Vary as a comma-separated list: members trimmed and in any case, `*` only alone', () => {
    const c = compileCors(rule({ origins: ['https://a.example'] }));
    const vary = (value: string): string => {
      const list = ['Content-Type', 'text/plain', 'vary', value];
      addCorsResponseHeaders(c, undefined, list);
      assert.equal(list.length, 4, 'the existing field is edited, not a second one added');
      return list[3] as string;
    };
    assert.equal(vary('Accept-Encoding , ORIGIN '), 'Accept-Encoding , ORIGIN ');
    assert.equal(vary(' * '), ' * ');
    assert.equal(vary('*, Accept'), '*, Accept, Origin', 'a `*` beside other members is not the wildcard');
    assert.equal(vary('Accept,,Originator'), 'Accept,,Originator, Origin');
    assert.equal(vary('  '), 'Origin');
    const none = ['Content-Type', 'text/plain'];
    addCorsResponseHeaders(c, undefined, none);
    assert.deepEqual(none, ['Content-Type', 'text/plain', 'Vary', 'Origin']);
  });

  it('matches `*.domain` against the host only: not the port, not an IPv6 literal', () => {
    const c = compileCors(rule({ origins: ['*.example.org', 'http://*.example.net'] }));
    const cases: Array<[string, boolean]> = [
      ['https://a.example.org:8443', true],
      ['https://example.org:8443', false],
      ['https://a.example.org.evil:80', false],
      ['http://[::1]:8080', false],
      ['https://a.example.net', false],
      ['ht://a.example.net', false],
      ['http://A.Example.NET', true],
    ];
    for (const [origin, allowed] of cases) assert.equal(originAllowed(c, origin), allowed, origin);
  });

  it('answers preflights itself with the configured methods, headers and max age', () => {
    assert.equal(isPreflight('OPTIONS', 'https://a.example', 'PUT'), true);
    assert.equal(isPreflight('OPTIONS', undefined, 'PUT'), false);
    assert.equal(isPreflight('OPTIONS', 'https://a.example', undefined), false);
    const c = compileCors(
      rule({
        origins: ['https://a.example'],
        allowMethods: ['GET', 'PUT'],
        allowedHeaders: ['Authorization', 'Content-Type'],
        maxAge: 600,
        allowCredentials: true,
        headers: [['x-session-id', 'abc']],
      }),
    );
    assert.deepEqual(preflightHeaders(c, 'https://a.example', 'PUT', 'x-anything'), {
      'access-control-allow-origin': 'https://a.example',
      'access-control-allow-methods': 'GET, PUT',
      'access-control-allow-headers': 'Authorization, Content-Type',
      'access-control-allow-credentials': 'true',
      'access-control-max-age': '600',
      vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
      'x-session-id': 'abc',
    });
    assert.equal(preflightHeaders(c, 'https://evil.example', 'PUT', undefined), null);
    const echo = compileCors(rule({ origins: ['*'] }));
    assert.equal(preflightHeaders(echo, 'https://x', 'PUT', 'x-a, x-b')?.['access-control-allow-headers'], 'x-a, x-b');
    // No `allowMethods` (a deprecated block: the middleware's normalised rule always lists some):
    // any method, the preflight's own echoed.
    assert.equal(preflightHeaders(echo, 'https://x', 'DELETE', undefined)?.['access-control-allow-methods'], 'DELETE');
  });
});
