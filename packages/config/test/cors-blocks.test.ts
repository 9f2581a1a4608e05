import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errors, ok, warnings, yaml } from './helpers.ts';

const gatewayBlock = ['gateway:', '  cors:', '    origins: ["https://app.example"]', '    allowCredentials: true'];
/** A config with one responseHeaders middleware `mw` whose `cors` is `cors`, and the routes. */
const withMiddleware = (cors: string, ...routes: string[]) =>
  yaml(
    'version: 2',
    'middlewares:',
    '  - name: mw',
    '    type: responseHeaders',
    '    rule:',
    `      cors: ${cors}`,
    'routes:',
    ...routes,
  );
const route = (name: string, ...lines: string[]) => [
  `  - name: ${name}`,
  '    path: /',
  '    target: http://127.0.0.1:3000',
  ...lines,
];

describe("Goma's deprecated cors blocks", () => {
  it('a route takes the gateway block unless it has its own or turns it off', () => {
    const config = ok(
      yaml(
        'version: 2',
        ...gatewayBlock,
        'routes:',
        ...route('none'),
        ...route('empty', '    cors: {}'),
        ...route('off', '    cors: { enabled: false }'),
        ...route('own', '    cors: { origins: ["*.example.com"] }'),
      ),
    );
    const cors = Object.fromEntries(config.routes.map((r) => [r.name, r.cors]));
    assert.deepEqual(cors.none?.origins, ['https://app.example']);
    assert.equal(cors.none, cors.empty);
    assert.equal(cors.off, null);
    assert.deepEqual(cors.own?.origins, ['*.example.com']);
    assert.equal(cors.own?.allowCredentials, false);
    assert.deepEqual(cors.own?.allowMethods, [], 'a block without allowMethods: any method');
  });

  it('a responseHeaders middleware with cors replaces the block, with a warning for a route-level one', () => {
    const text = yaml(
      'version: 2',
      ...gatewayBlock,
      'middlewares:',
      '  - name: mw',
      '    type: responseHeaders',
      '    rule:',
      '      cors: { enabled: true, origins: ["https://mw.example"] }',
      '  - name: plain',
      '    type: responseHeaders',
      '    rule:',
      '      setHeaders: { X-Frame-Options: DENY }',
      'routes:',
      ...route('inherits', '    middlewares: [mw]'),
      ...route('own', '    cors: { origins: ["https://own.example"] }', '    middlewares: [mw]'),
      ...route('headers-only', '    middlewares: [plain]'),
    );
    const config = ok(text);
    const cors = Object.fromEntries(config.routes.map((r) => [r.name, r.cors]));
    assert.equal(cors.inherits, null);
    assert.equal(cors.own, null);
    assert.deepEqual(cors['headers-only']?.origins, ['https://app.example'], 'no cors in the middleware: the block');
    const replaced = warnings(text).filter((w) => w.code === 'GH_CONFIG_CORS_REPLACED');
    assert.deepEqual(
      replaced.map((w) => [w.path, w.line]),
      [['routes[1].cors', 23]],
    );
  });

  it('refuses a block without origins, and credentials without origins in either form', () => {
    const found = errors(
      withMiddleware(
        '{ enabled: true, allowCredentials: true }',
        ...route('a', '    cors: { allowMethods: [GET] }', '    middlewares: [mw]'),
      ),
    ).map((e) => `${e.line} ${e.path}`);
    assert.deepEqual(found, ['6 middlewares[0].rule.cors.origins', '11 routes[0].cors.origins']);
  });

  it('refuses a block switched on without origins; an empty one (Goma: no origin allowed) is no CORS', () => {
    const on = yaml('version: 2', 'gateway:', '  cors: { enabled: true }', 'routes:', ...route('a'));
    assert.deepEqual(
      errors(on).map((e) => `${e.line} ${e.path}`),
      ['3 gateway.cors.origins'],
    );
    const empty = yaml('version: 2', 'routes:', ...route('a', '    cors: { origins: [], headers: {} }'));
    assert.equal(ok(empty).routes[0]?.cors, null);
  });

  it('responseHeaders.cors keeps its defaults: any origin, GET, POST and OPTIONS', () => {
    const config = ok(withMiddleware('{ enabled: true }', ...route('a', '    middlewares: [mw]')));
    const mw = config.middlewares[0];
    assert.ok(mw?.type === 'responseHeaders');
    assert.deepEqual(mw.rule.cors?.origins, []);
    assert.deepEqual(mw.rule.cors?.allowMethods, ['GET', 'POST', 'OPTIONS']);
  });
});
