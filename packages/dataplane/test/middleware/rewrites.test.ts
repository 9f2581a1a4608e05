import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addPrefix,
  compileRegexRule,
  compileStripQuery,
  hostWithoutPort,
  redirectRegex,
  redirectScheme,
  redirectTo,
  rewriteTarget,
  stripQuery,
  toJsReplacement,
} from '../../src/middleware/shaping/rewrites.ts';

describe('redirects and rewrites', () => {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Go's `${1}` replacement syntax is the input
  it('reads Go replacement syntax: $1, ${1}, ${name}, $$', () => {
    assert.equal(toJsReplacement('/newpath/$1'), '/newpath/$1');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Go's `${1}` replacement syntax is the input
    assert.equal(toJsReplacement('/x/${1}/${id}/$$'), '/x/$1/$<id>/$$');
  });

  it('rewriteRegex: Goma example, query kept, result normalised', () => {
    const c = compileRegexRule({ pattern: '^/oldpath/(.*)', replacement: '/newpath/$1' });
    assert.equal(rewriteTarget(c, '/oldpath/a/b?x=1'), '/newpath/a/b?x=1');
    assert.equal(rewriteTarget(c, '/other'), null);
    assert.equal(rewriteTarget(c, '/oldpath/x/../../admin'), '/admin', 'dot segments resolved after the rewrite');
    const smuggle = rewriteTarget(compileRegexRule({ pattern: '^/a/(.*)', replacement: '/b/$1%2f..' }), '/a/x');
    assert.equal(
      typeof smuggle === 'object' && smuggle !== null ? smuggle.status : 0,
      400,
      'no canonical form: refused',
    );
  });

  it('addPrefix: Goma example', () => {
    assert.equal(addPrefix({ prefix: '/prefix' }, '/api/resource?q=1'), '/prefix/api/resource?q=1');
    assert.equal(addPrefix({ prefix: '/v1/' }, '/'), '/v1/');
  });

  it('stripQuery: only the named parameters, only for the methods and paths given', () => {
    const c = compileStripQuery({
      params: ['mount', 'from'],
      methods: ['POST'],
      pathPattern: '^/v2/.+/blobs/uploads/',
    });
    const target = '/v2/lib/blobs/uploads/?mount=sha256:1&from=other&x=1';
    assert.equal(stripQuery(c, 'POST', target), '/v2/lib/blobs/uploads/?x=1');
    assert.equal(stripQuery(c, 'GET', target), target);
    assert.equal(stripQuery(c, 'POST', '/v2/lib/manifests/?mount=1'), '/v2/lib/manifests/?mount=1');
    const all = compileStripQuery({ params: ['a b'], methods: [], pathPattern: null });
    assert.equal(stripQuery(all, 'GET', '/x?a+b=1'), '/x');
    assert.equal(stripQuery(all, 'GET', '/x'), '/x');
  });

  it('redirect, redirectRegex (Goma examples)', () => {
    assert.deepEqual(redirectTo({ url: 'https://newdomain.com', permanent: true }), {
      status: 301,
      location: 'https://newdomain.com',
    });
    const c = compileRegexRule({ pattern: '^/oldpath/(.*)', replacement: 'https://newdomain.com/newpath/$1' });
    assert.deepEqual(redirectRegex(c, false, '/oldpath/a?b=1'), {
      status: 302,
      location: 'https://newdomain.com/newpath/a?b=1',
    });
    assert.equal(redirectRegex(c, false, '/elsewhere'), null);
  });

  it('redirectScheme: only when the scheme seen differs; default port left out', () => {
    const rule = { scheme: 'https' as const, port: 8443, permanent: false };
    assert.deepEqual(redirectScheme(rule, 'http', 'example.com', '/a?b'), {
      status: 302,
      location: 'https://example.com:8443/a?b',
    });
    assert.equal(redirectScheme(rule, 'https', 'example.com', '/a'), null);
    assert.equal(
      redirectScheme({ scheme: 'https', port: 443, permanent: true }, 'http', 'example.com', '/')?.location,
      'https://example.com/',
    );
    assert.equal(hostWithoutPort('example.com:8080'), 'example.com');
    assert.equal(hostWithoutPort('[::1]:8080'), '[::1]');
  });
});
