import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalPath, PATH_REFUSAL } from '../../src/request/canonical-path.ts';

describe('canonicalPath', () => {
  it('returns an already canonical path as the same string', () => {
    for (const path of ['/', '/admin/x', '/a/b/', '/.well-known/acme-challenge/t', '/a.b/c..d/...', '/x?a=%2F&b=..']) {
      assert.equal(canonicalPath(path), path);
    }
    assert.equal(canonicalPath('*'), '*');
  });

  it('removes dot segments as RFC 3986 §5.2.4 does, and .. stops at the root', () => {
    const cases: Array<[string, string]> = [
      ['/site/../admin/x', '/admin/x'],
      ['/site/./admin/x', '/site/admin/x'],
      ['/a/b/c/./../../g', '/a/g'],
      ['/../admin', '/admin'],
      ['/../../', '/'],
      ['/a/..', '/'],
      ['/a/b/..', '/a/'],
      ['/a/.', '/a/'],
      ['/.', '/'],
      ['/..', '/'],
      ['/a/b/../c?x=/../y', '/a/c?x=/../y'],
    ];
    for (const [input, expected] of cases) assert.equal(canonicalPath(input), expected, input);
  });

  it('merges repeated slashes before resolving dot segments, as nginx merge_slashes does', () => {
    assert.equal(canonicalPath('//admin/x'), '/admin/x');
    assert.equal(canonicalPath('/site//..//admin'), '/admin');
    assert.equal(canonicalPath('/a//b///'), '/a/b/');
    assert.equal(canonicalPath('//'), '/');
  });

  it('decodes escaped unreserved characters and upper-cases the hex of the others', () => {
    assert.equal(canonicalPath('/%61dmin/x'), '/admin/x');
    assert.equal(canonicalPath('/%41%7a%30%2D%5f%7E'), '/Az0-_~');
    assert.equal(canonicalPath('/file%2ejson'), '/file.json');
    assert.equal(canonicalPath('/caf%c3%a9?q=%61'), '/caf%C3%A9?q=%61');
    assert.equal(canonicalPath('/a%20b/%25'), '/a%20b/%25');
    // A decoded letter can complete a prefix the router then sees.
    assert.equal(canonicalPath('/site/..//%61dmin'), '/admin');
  });

  it('refuses encoded slashes, backslashes, NUL and malformed escapes', () => {
    assert.equal(canonicalPath('/admin%2fx'), PATH_REFUSAL.encodedSlash);
    assert.equal(canonicalPath('/site%2F..%2Fadmin'), PATH_REFUSAL.encodedSlash);
    assert.equal(canonicalPath('/admin%5cx'), PATH_REFUSAL.encodedSlash);
    assert.equal(canonicalPath('/admin%00.html'), PATH_REFUSAL.encodedNul);
    assert.equal(canonicalPath('/site\\..\\admin'), PATH_REFUSAL.backslash);
    assert.equal(canonicalPath('/a%'), PATH_REFUSAL.badEscape);
    assert.equal(canonicalPath('/a%4'), PATH_REFUSAL.badEscape);
    assert.equal(canonicalPath('/a%zz'), PATH_REFUSAL.badEscape);
    assert.equal(canonicalPath('/a%4?x'), PATH_REFUSAL.badEscape);
  });

  it('refuses dot segments spelled with an escape', () => {
    for (const path of ['/site/%2e%2e/admin/x', '/site/.%2e/admin', '/site/%2E./admin', '/%2e/admin', '/a/%2e%2e']) {
      assert.equal(canonicalPath(path), PATH_REFUSAL.encodedDot, path);
    }
  });

  it('refuses dot segments with a parameter, which Tomcat and Spring read as dot segments', () => {
    for (const path of ['/site/..;/admin/x', '/site/..;jsessionid=1/admin', '/.;/admin', '/site/%2e%2e;/admin']) {
      const result = canonicalPath(path);
      assert.ok(result === PATH_REFUSAL.dotParameter || result === PATH_REFUSAL.encodedDot, path);
    }
    assert.equal(canonicalPath('/a;b/c'), '/a;b/c');
  });

  it('refuses a fragment, which a backend would cut off after the router matched the whole', () => {
    assert.equal(canonicalPath('/admin#x'), PATH_REFUSAL.fragment);
    assert.equal(canonicalPath('/a?b=c#d'), PATH_REFUSAL.fragment);
  });

  it('leaves the query string alone', () => {
    assert.equal(canonicalPath('/a/../b?x=%2F%00&y=../..//'), '/b?x=%2F%00&y=../..//');
    assert.equal(canonicalPath('/a?'), '/a?');
  });

  it('is idempotent', () => {
    for (const path of ['/site/../admin/x', '/%61dmin//x/.', '/caf%c3%a9/', '/a/./b/../../c/']) {
      const once = canonicalPath(path) as string;
      assert.equal(canonicalPath(once), once);
    }
  });
});
