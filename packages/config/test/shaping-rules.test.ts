// Shaping rules fail closed at load: a header that frames the message or the connection cannot be
// set or removed by a middleware, a value cannot carry CR, LF or another control character (no
// response splitting from a config), and bodyLimit sizes read SI and IEC units as Goma documents.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBodyLimit } from '../src/middleware/limits-rules.ts';
import { errors, ok, yaml } from './helpers.ts';

/** Five lines; the middleware's `type` is on line 8, its rule on 9. */
const route = ['routes:', '  - name: r', '    path: /', '    target: http://127.0.0.1:1', '    middlewares: [m]'];

function found(...middleware: string[]): string[] {
  return errors(yaml(...route, 'middlewares:', '  - name: m', ...middleware)).map(
    (e) => `${e.line} ${e.code} ${e.path}`,
  );
}

describe('shaping rules', () => {
  for (const name of ['Content-Length', 'transfer-encoding', 'Connection', 'Upgrade', 'Trailer']) {
    it(`refuses ${name} in setHeaders and removeHeaders, of requests and responses`, () => {
      for (const type of ['requestHeaders', 'responseHeaders']) {
        assert.deepEqual(
          found(`    type: ${type}`, `    rule: { setHeaders: { ${name}: "1" } }`),
          [`9 GH_CONFIG_HEADER middlewares[0].rule.setHeaders.${name}`],
          type,
        );
      }
      assert.deepEqual(found('    type: requestHeaders', `    rule: { removeHeaders: [${name}] }`), [
        `9 GH_CONFIG_HEADER middlewares[0].rule.removeHeaders[0]`,
      ]);
    });
  }

  it('names the reason', () => {
    const [error] = errors(
      yaml(
        ...route,
        'middlewares:',
        '  - name: m',
        '    type: requestHeaders',
        '    rule: { removeHeaders: [Upgrade] }',
      ),
    );
    assert.match(error?.message ?? '', /frames the message or the connection/);
  });

  it('refuses CR, LF and other control characters in every value a rule writes into a head', () => {
    assert.deepEqual(
      found('    type: responseHeaders', '    rule:', '      setHeaders: { X-A: "a\\r\\nSet-Cookie: x=1" }'),
      ['10 GH_CONFIG_HEADER middlewares[0].rule.setHeaders.X-A'],
    );
    assert.deepEqual(found('    type: requestHeaders', '    rule: { setHeaders: { X-B: "b\\nc" } }'), [
      '9 GH_CONFIG_HEADER middlewares[0].rule.setHeaders.X-B',
    ]);
    assert.deepEqual(found('    type: responseHeaders', '    rule: { cacheControl: "no-store\\r\\nX: 1" }'), [
      '9 GH_CONFIG_HEADER middlewares[0].rule.cacheControl',
    ]);
    assert.equal(
      found('    type: responseHeaders', '    rule: { setCookies: [{ name: s, value: "a\\r\\nb" }] }').length,
      1,
      'a cookie value',
    );
    assert.equal(
      found('    type: redirect', '    rule: { url: "https://a.example/\\r\\nX: 1" }').length,
      1,
      'a redirect URL',
    );
    assert.equal(
      found('    type: rewriteRegex', '    rule: { pattern: "^/(.*)", replacement: "/$1\\r\\n" }').length,
      1,
      'a replacement',
    );
  });

  it('accepts the same rules with ordinary names and values', () => {
    ok(
      yaml(
        ...route,
        'middlewares:',
        '  - name: m',
        '    type: responseHeaders',
        '    rule: { setHeaders: { X-Route: "{route.name}" }, cacheControl: "no-store" }',
      ),
    );
  });

  it('reads bodyLimit sizes: SI (K, KB, M, MB, G ... = 1000) and IEC (Ki, KiB, Mi, MiB ... = 1024)', () => {
    assert.equal(parseBodyLimit('512KB'), 512_000);
    assert.equal(parseBodyLimit('512K'), 512_000);
    assert.equal(parseBodyLimit('1KiB'), 1024);
    assert.equal(parseBodyLimit('1Ki'), 1024);
    assert.equal(parseBodyLimit('1MiB'), 1024 ** 2);
    assert.equal(parseBodyLimit('1MB'), 1000 ** 2);
    assert.equal(parseBodyLimit('50MiB'), 50 * 1024 ** 2);
    assert.equal(parseBodyLimit('1GB'), 1e9);
    assert.equal(parseBodyLimit('2GiB'), 2 * 1024 ** 3);
    assert.equal(parseBodyLimit('1.5 mib'), 1.5 * 1024 ** 2);
    assert.equal(parseBodyLimit('1048576'), 1_048_576);
    for (const bad of ['', '0', 'MiB', '1 XB', '-1KB', '1KiBs']) assert.equal(parseBodyLimit(bad), null, bad);
  });

  it('refuses a bodyLimit that is not a size, at its key', () => {
    assert.deepEqual(found('    type: bodyLimit', '    rule: { limit: 10 parsecs }'), [
      '9 GH_CONFIG_SIZE middlewares[0].rule.limit',
    ]);
  });
});
