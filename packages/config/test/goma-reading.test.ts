// Goma's file read as Goma reads it: Go zero values mean "not set", off values are not warned
// about, and keys Gatehouse cannot honour are refused with a message that says so.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errors, load, minimalRoute, ok, oneCertificate, warnings, yaml } from './helpers.ts';

describe('Goma zero values mean "not set"', () => {
  it('takes tls.default: {} and tls.clientAuth: {} as absent', () => {
    const config = ok(yaml(...oneCertificate, '    default: {}', '    clientAuth: {}', ...minimalRoute));
    assert.equal(config.gateway.tls.clientAuth, null);
    assert.equal(config.gateway.tls.defaultName, null);
    assert.deepEqual(
      config.gateway.tls.certificates.map((c) => c.cert.path),
      ['/etc/gatehouse/a.pem'],
    );
  });
  it("takes clientAuth with an empty clientCA and required: false as absent, as Goma's zero values", () => {
    const config = ok(
      yaml('gateway:', '  tls:', '    clientAuth:', "      clientCA: ''", '      required: false', ...minimalRoute),
    );
    assert.equal(config.gateway.tls.clientAuth, null);
  });
  it('still refuses clientAuth that asks for certificates without a CA (fail closed)', () => {
    const found = errors(yaml('gateway:', '  tls:', '    clientAuth:', '      required: true', ...minimalRoute));
    assert.deepEqual(
      found.map((e) => `${e.code} ${e.path}`),
      ['GH_CONFIG_REQUIRED gateway.tls.clientAuth'],
    );
  });
  it('takes healthCheck: {} as no health checks, as Goma does', () => {
    assert.equal(ok(yaml(...minimalRoute, '    healthCheck: {}')).routes[0]?.healthCheck, null);
    assert.notEqual(ok(yaml(...minimalRoute, '    healthCheck:', '      path: /up')).routes[0]?.healthCheck, null);
  });
});

describe('Goma keys that hold their off value', () => {
  it('are neither warned about nor refused', () => {
    const text = yaml(
      'gateway:',
      '  log:',
      "    filePath: ''",
      '  cors: {}',
      '  redis: {}',
      '  extraConfig: { directory: "", watch: false }',
      '  tls:',
      "    certsDir: ''",
      'middlewares: []',
      ...minimalRoute,
      '    cors: {}',
      '    middlewares: []',
      '    maintenance: { enabled: false, message: down }',
      '    security:',
      '      enableExploitProtection: false',
    );
    assert.deepEqual(warnings(text), []);
  });
});

describe('Goma keys Gatehouse reads differently', () => {
  it('accepts backends[].priority, the canary tie-break', () => {
    const config = ok(
      yaml(
        'routes:',
        '  - name: r',
        '    path: /',
        '    backends:',
        '      - endpoint: http://a:1',
        '        priority: 2',
      ),
    );
    assert.equal(config.routes[0]?.backends[0]?.priority, 2);
  });
  it('trusts nobody with proxy.enabled: false, whatever trustedProxies lists', () => {
    const off = ok(
      yaml('gateway:', '  proxy:', '    enabled: false', '    trustedProxies: [10.0.0.0/8]', ...minimalRoute),
    );
    assert.deepEqual(off.gateway.proxy.trustedProxies, []);
    const on = ok(
      yaml('gateway:', '  proxy:', '    enabled: true', '    trustedProxies: [10.0.0.0/8]', ...minimalRoute),
    );
    assert.deepEqual(on.gateway.proxy.trustedProxies, ['10.0.0.0/8']);
  });
  it('refuses ipHeaders other than X-Forwarded-For, which is the only one Gatehouse reads', () => {
    ok(yaml('gateway:', '  proxy:', '    ipHeaders: [X-Forwarded-For]', ...minimalRoute));
    const found = errors(yaml('gateway:', '  proxy:', '    ipHeaders: [CF-Connecting-IP]', ...minimalRoute));
    assert.deepEqual(
      found.map((e) => `${e.code} ${e.path}`),
      ['GH_CONFIG_ENUM gateway.proxy.ipHeaders[0]'],
    );
  });
  it('knows the deprecated certificateManager as certManager', () => {
    const result = load(yaml('certificateManager:', '  acme: { email: a@example.com }', ...minimalRoute));
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(
      result.warnings.map((w) => `${w.code} ${w.path}`),
      ['GH_CONFIG_DEPRECATED_KEY certificateManager'],
    );
    assert.equal(result.config.certManager?.providers[0]?.email, 'a@example.com');
  });
  it('refuses Go plugins with a message that says Gatehouse cannot load them', () => {
    const [error] = errors(yaml('plugins:', '  path: /etc/goma/plugins', ...minimalRoute));
    assert.equal(error?.code, 'GH_CONFIG_UNSUPPORTED_KEY');
    assert.match(error?.message ?? '', /Goma Gateway key `plugins` is not supported/);
    assert.match(error?.hint ?? '', /cannot load Go code/);
  });
  it('reads gateway.strictSlash (default true, as Goma) and its other spelling', () => {
    assert.equal(ok(yaml(...minimalRoute)).gateway.strictSlash, true);
    assert.equal(ok(yaml('gateway:', '  strictSlash: false', ...minimalRoute)).gateway.strictSlash, false);
    assert.equal(ok(yaml('gateway:', '  enableStrictSlash: false', ...minimalRoute)).gateway.strictSlash, false);
    const route = ok(yaml('routes:', '  - name: d', '    path: /docs/', '    target: http://a:1')).routes[0];
    assert.equal(route?.path, '/docs');
    assert.equal(route?.trailingSlash, true);
  });
});

describe('canary backends', () => {
  const canary = (...condition: string[]) =>
    yaml(
      'routes:',
      '  - name: r',
      '    path: /',
      '    backends:',
      '      - http://stable:1',
      '      - endpoint: http://canary:1',
      '        exclusive: true',
      '        match:',
      ...condition,
    );
  it('reads Goma conditions, header names lower-cased, numbers as text', () => {
    const config = ok(canary('          - { source: header, name: X-Canary, value: 1 }'));
    const backend = config.routes[0]?.backends[1];
    assert.deepEqual(backend?.match, [{ source: 'header', name: 'x-canary', operator: 'equals', value: '1' }]);
    assert.equal(backend?.exclusive, true);
  });
  it('refuses a regex that does not compile, at load, at its value', () => {
    const found = errors(canary('          - { source: query, name: v, operator: regex, value: "(" }'));
    assert.deepEqual(
      found.map((e) => `${e.line} ${e.code} ${e.path}`),
      ['9 GH_CONFIG_TYPE routes[0].backends[1].match[0].value'],
    );
  });
  it('needs a name for header, query and cookie conditions, and a known operator', () => {
    const found = errors(
      canary('          - { source: cookie, value: a }', '          - { source: ip, operator: like, value: a }'),
    );
    assert.deepEqual(
      found.map((e) => `${e.code} ${e.path}`),
      ['GH_CONFIG_REQUIRED routes[0].backends[1].match[0]', 'GH_CONFIG_ENUM routes[0].backends[1].match[1].operator'],
    );
  });
});
