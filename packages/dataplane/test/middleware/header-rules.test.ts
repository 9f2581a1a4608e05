import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig, type ResponseHeadersRule } from '@gatehouse/config';
import { MiddlewareSteps } from '../../src/middleware/compile.ts';
import { LeaseTable } from '../../src/middleware/rate-limit/lease-table.ts';
import type { ResponseShaper } from '../../src/middleware/response-phase.ts';
import {
  applyRequestHeaders,
  applyResponseHeaders,
  compileRequestHeaders,
  compileResponseHeaders,
  fillTemplate,
  setCookieLine,
} from '../../src/middleware/shaping/header-rules.ts';

const t = { routeName: 'api', routePath: '/api', gatewayVersion: '0.1.0' };
const response = (over: Partial<ResponseHeadersRule>): ResponseHeadersRule => ({
  set: [],
  setCookies: [],
  cacheControl: null,
  cors: null,
  statuses: [],
  ...over,
});

describe('request and response headers', () => {
  it('removes first, then sets; an empty value deletes (Goma order)', () => {
    const headers: Record<string, string> = { authorization: 'x', 'x-legacy-trace': 't', cookie: 'c' };
    applyRequestHeaders(
      compileRequestHeaders({
        remove: ['authorization', 'cookie'],
        set: [
          ['authorization', 'Bearer internal'],
          ['x-legacy-trace', ''],
          ['x-tenant-id', 'acme'],
        ],
      }),
      headers,
    );
    assert.deepEqual(headers, { authorization: 'Bearer internal', 'x-tenant-id': 'acme' });
  });

  it('fills the route and gateway templates once, at compile time', () => {
    assert.equal(
      fillTemplate('Gateway {gateway.version} | Route: {route.name} {route.path} {route.target}', t),
      'Gateway 0.1.0 | Route: api /api {route.target}',
    );
  });

  it('builds Set-Cookie with its attributes (SameSite=None forces Secure)', () => {
    assert.equal(
      setCookieLine({
        name: 'SecureCookie',
        value: 'v',
        path: '/',
        domain: 'example.com',
        maxAge: 3600,
        secure: true,
        httpOnly: true,
        sameSite: 'Strict',
      }),
      'SecureCookie=v; Path=/; Domain=example.com; Max-Age=3600; Secure; HttpOnly; SameSite=Strict',
    );
    assert.equal(
      setCookieLine({
        name: 'a',
        value: 'b',
        path: null,
        domain: null,
        maxAge: null,
        secure: false,
        httpOnly: false,
        sameSite: 'None',
      }),
      'a=b; Secure; SameSite=None',
    );
  });

  it('replaces, removes and adds on every status unless the rule names statuses', () => {
    const c = compileResponseHeaders(
      response({
        set: [
          ['x-powered-by', 'Goma Gateway'],
          ['server', ''],
          ['x-goma-route', '{route.name}'],
        ],
        cacheControl: 'no-store',
        setCookies: [
          {
            name: 'k',
            value: 'v',
            path: null,
            domain: null,
            maxAge: null,
            secure: false,
            httpOnly: true,
            sameSite: null,
          },
        ],
      }),
      t,
    );
    const list = ['Server', 'nginx', 'Cache-Control', 'public', 'Content-Type', 'text/plain'];
    applyResponseHeaders(c, 404, undefined, list);
    assert.deepEqual(list, [
      'Content-Type',
      'text/plain',
      'x-powered-by',
      'Goma Gateway',
      'x-goma-route',
      'api',
      'cache-control',
      'no-store',
      'Set-Cookie',
      'k=v; HttpOnly',
    ]);
    const only200 = compileResponseHeaders(response({ set: [['x-a', '1']], statuses: [[200, 200]] }), t);
    const l404: string[] = [];
    applyResponseHeaders(only200, 404, undefined, l404);
    assert.deepEqual(l404, []);
    const l200: string[] = [];
    applyResponseHeaders(only200, 200, undefined, l200);
    assert.deepEqual(l200, ['x-a', '1']);
  });

  it('fills the templates of a shared definition for each route, when the route chains are built', () => {
    const yaml = `
version: 2
middlewares:
  - name: tag
    type: responseHeaders
    rule: { setHeaders: { X-Route: "{route.name} at {route.path}, {gateway.version}" } }
routes:
  - { name: one, path: /one, backends: [{ endpoint: "http://127.0.0.1:1" }], middlewares: [tag] }
  - { name: two, path: /two, backends: [{ endpoint: "http://127.0.0.1:1" }], middlewares: [tag] }
`;
    const parsed = parseConfig(yaml, '/tmp/gatehouse.yaml', {});
    assert.ok(parsed.ok);
    const steps = new MiddlewareSteps(parsed.config.middlewares, {
      leases: new LeaseTable(() => {}),
      redis: null,
      gatewayVersion: '1.2.3',
    });
    const heads = parsed.config.routes.map((route) => {
      const step = steps.chain(route)?.entries[0]?.step as unknown as ResponseShaper;
      const head: string[] = [];
      step.shapeResponse({ req: { headers: {} }, responseShapers: null, errorReplacer: null }, 200, head);
      return head;
    });
    assert.deepEqual(heads, [
      ['x-route', 'one at /one, 1.2.3'],
      ['x-route', 'two at /two, 1.2.3'],
    ]);
    steps.close();
  });
});
