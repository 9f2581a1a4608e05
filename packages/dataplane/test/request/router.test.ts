import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { joinBasePath, METHOD_NOT_ALLOWED, NO_ROUTE, Router, rewritePath } from '../../src/request/router.ts';
import { route } from '../fixtures.ts';

function names(router: Router, host: string | undefined, method: string, url: string): string | number {
  const i = router.lookup(host, method, url);
  return i < 0 ? i : router.routes[i]!.name;
}

describe('router: hosts', () => {
  const router = Router.compile([
    route({ name: 'exact', hosts: ['api.example.com'] }),
    route({ name: 'wild', hosts: ['*.example.com'] }),
    route({ name: 'deeper-wild', hosts: ['*.eu.example.com'] }),
    route({ name: 'port', hosts: ['ports.example.com:8443'] }),
  ]);

  it('matches an exact host case-insensitively and ignores the port when the route gives none', () => {
    assert.equal(names(router, 'api.example.com', 'GET', '/'), 'exact');
    assert.equal(names(router, 'API.Example.COM', 'GET', '/'), 'exact');
    assert.equal(names(router, 'api.example.com:8080', 'GET', '/'), 'exact');
  });

  it('requires the port when the route host gives one', () => {
    assert.equal(names(router, 'ports.example.com:8443', 'GET', '/'), 'port');
    // without the port, ports.example.com is only a wildcard match
    assert.equal(names(router, 'ports.example.com', 'GET', '/'), 'wild');
    assert.equal(names(router, 'ports.example.com:9000', 'GET', '/'), 'wild');
  });

  it('matches one or more leading labels with a wildcard, never the bare domain', () => {
    assert.equal(names(router, 'www.example.com', 'GET', '/'), 'wild');
    assert.equal(names(router, 'a.b.c.example.com', 'GET', '/'), 'wild');
    assert.equal(names(router, 'example.com', 'GET', '/'), NO_ROUTE);
    assert.equal(names(router, 'badexample.com', 'GET', '/'), NO_ROUTE);
  });

  it('prefers the longer wildcard suffix', () => {
    assert.equal(names(router, 'x.eu.example.com', 'GET', '/'), 'deeper-wild');
    assert.equal(names(router, 'eu.example.com', 'GET', '/'), 'wild');
  });

  it('answers 404 for an unknown host when no route takes any host', () => {
    assert.equal(names(router, 'other.org', 'GET', '/'), NO_ROUTE);
    assert.equal(names(router, undefined, 'GET', '/'), NO_ROUTE);
  });

  it('handles IPv6 literal hosts', () => {
    const r = Router.compile([route({ name: 'v6', hosts: ['[::1]'] }), route({ name: 'v6port', hosts: ['[::1]:99'] })]);
    assert.equal(names(r, '[::1]:99', 'GET', '/'), 'v6');
    assert.equal(names(r, '[::1]:98', 'GET', '/'), 'v6');
    const r2 = Router.compile([route({ name: 'v6port', hosts: ['[::1]:99'] })]);
    assert.equal(names(r2, '[::1]:99', 'GET', '/'), 'v6port');
    assert.equal(names(r2, '[::1]', 'GET', '/'), NO_ROUTE);
  });
});

describe('router: paths', () => {
  const router = Router.compile([route({ name: 'api', path: '/api' }), route({ name: 'root', path: '/' })]);

  it('matches a prefix on segment boundaries only', () => {
    assert.equal(names(router, 'h', 'GET', '/api'), 'api');
    assert.equal(names(router, 'h', 'GET', '/api/'), 'api');
    assert.equal(names(router, 'h', 'GET', '/api/x/y'), 'api');
    assert.equal(names(router, 'h', 'GET', '/api?x=1'), 'api');
    assert.equal(names(router, 'h', 'GET', '/apix'), 'root');
  });

  it('has no route when nothing matches', () => {
    const r = Router.compile([route({ name: 'api', path: '/api' })]);
    assert.equal(names(r, 'h', 'GET', '/apix'), NO_ROUTE);
    assert.equal(names(r, 'h', 'GET', '/'), NO_ROUTE);
  });

  it('prefers the longest path', () => {
    const r = Router.compile([
      route({ name: 'short', path: '/a' }),
      route({ name: 'long', path: '/a/b' }),
      route({ name: 'root', path: '/' }),
    ]);
    assert.equal(names(r, 'h', 'GET', '/a/b/c'), 'long');
    assert.equal(names(r, 'h', 'GET', '/a/bc'), 'short');
    assert.equal(names(r, 'h', 'GET', '/z'), 'root');
  });
});

describe('router: ordering', () => {
  it('ranks priority first, then host specificity, then path length', () => {
    const r = Router.compile([
      route({ name: 'any-long', path: '/a/b/c' }),
      route({ name: 'wild', hosts: ['*.example.com'], path: '/a' }),
      route({ name: 'exact', hosts: ['www.example.com'], path: '/' }),
      route({ name: 'prio', path: '/', priority: 10 }),
    ]);
    assert.equal(names(r, 'www.example.com', 'GET', '/a/b/c'), 'prio');
    const r2 = Router.compile(r.routes.filter((x) => x.name !== 'prio'));
    assert.equal(names(r2, 'www.example.com', 'GET', '/a/b/c'), 'exact');
    assert.equal(names(r2, 'x.example.com', 'GET', '/a/b/c'), 'wild');
    assert.equal(names(r2, 'other.org', 'GET', '/a/b/c'), 'any-long');
  });

  it('sorts priority as Goma does: the lower number wins, and unset (0) comes after every set one', () => {
    const r = Router.compile([
      route({ name: 'unset-long', hosts: ['www.example.com'], path: '/a/b' }),
      route({ name: 'ten', path: '/', priority: 10 }),
      route({ name: 'one', path: '/a', priority: 1 }),
    ]);
    assert.equal(names(r, 'www.example.com', 'GET', '/a/b'), 'one');
    const r2 = Router.compile(r.routes.filter((x) => x.name !== 'one'));
    assert.equal(names(r2, 'www.example.com', 'GET', '/a/b'), 'ten', 'any set priority beats an unset one');
    const r3 = Router.compile(r2.routes.filter((x) => x.name !== 'ten'));
    assert.equal(names(r3, 'www.example.com', 'GET', '/a/b'), 'unset-long');
  });

  it('keeps config order on a full tie', () => {
    const r = Router.compile([route({ name: 'first', path: '/x' }), route({ name: 'second', path: '/x' })]);
    assert.equal(names(r, 'h', 'GET', '/x'), 'first');
  });

  it('skips disabled routes', () => {
    const r = Router.compile([route({ name: 'off', path: '/x', enabled: false }), route({ name: 'on', path: '/' })]);
    assert.equal(names(r, 'h', 'GET', '/x'), 'on');
  });
});

describe('router: methods', () => {
  const r = Router.compile([
    route({ name: 'read', path: '/items', methods: ['GET'] }),
    route({ name: 'write', path: '/items', methods: ['POST', 'PUT'] }),
    route({ name: 'other', path: '/other', methods: ['DELETE'] }),
  ]);

  it('falls through to a later route that allows the method', () => {
    assert.equal(names(r, 'h', 'GET', '/items'), 'read');
    assert.equal(names(r, 'h', 'HEAD', '/items'), 'read');
    assert.equal(names(r, 'h', 'PUT', '/items/1'), 'write');
  });

  it('answers 405 with the union of allowed methods of the matching routes', () => {
    assert.equal(r.lookup('h', 'PATCH', '/items'), METHOD_NOT_ALLOWED);
    assert.equal(r.allowed('h', '/items'), 'GET, HEAD, POST, PUT');
    assert.equal(r.allowed('h', '/other'), 'DELETE');
    assert.equal(r.lookup('h', 'GET', '/nothing'), NO_ROUTE);
  });
});

describe('rewrite and base path', () => {
  it('replaces the matched prefix and keeps the rest and the query', () => {
    assert.equal(rewritePath('/api/users?x=1', '/api', '/v1'), '/v1/users?x=1');
    assert.equal(rewritePath('/api', '/api', '/v1'), '/v1');
    assert.equal(rewritePath('/api?q', '/api', '/v1'), '/v1?q');
    assert.equal(rewritePath('/api/users', '/api', '/'), '/users');
    assert.equal(rewritePath('/api', '/api', '/'), '/');
    assert.equal(rewritePath('/x/y', '/', '/v2'), '/v2/x/y');
    assert.equal(rewritePath('/x', '/', '/v2/'), '/v2/x');
  });

  it('prepends a backend base path', () => {
    assert.equal(joinBasePath('/', '/a?b'), '/a?b');
    assert.equal(joinBasePath('/base', '/a?b'), '/base/a?b');
    assert.equal(joinBasePath('/base/', '/a'), '/base/a');
    assert.equal(joinBasePath('/base', '/'), '/base/');
  });
});
