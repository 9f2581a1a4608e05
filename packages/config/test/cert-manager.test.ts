// certManager: Goma's provider shapes, which names each provider gets, and the fail-closed errors
// (unknown provider, names a challenge cannot prove, a challenge without its listener).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errors, ok, oneError, yaml } from './helpers.ts';

const providers = [
  'certManager:',
  '  defaultProvider: le',
  '  providers:',
  '    le:',
  '      type: acme',
  '      acme: { email: ops@example.com, storageFile: acme/le.json }',
  '    private:',
  '      type: acme',
  '      acme:',
  '        directoryUrl: https://ca.internal:9000/acme/directory',
  '        challengeType: tls-alpn-01',
  '        caBundle: /etc/gatehouse/private-ca.pem',
];

const route = (name: string, hosts: string, tls = '') => [
  `  - name: ${name}`,
  '    path: /',
  `    hosts: ${hosts}`,
  '    target: http://127.0.0.1:9000',
  ...(tls ? [`    tls: { provider: ${tls} }`] : []),
];

describe('certManager', () => {
  it('gives each provider the hosts of the enabled routes that use it', () => {
    const config = ok(
      yaml(
        ...providers,
        'routes:',
        ...route('a', '[a.example.com, "b.example.com:8443"]'),
        ...route('b', '[b.example.com]', '""'),
        ...route('c', '[c.internal]', 'private'),
        ...route('d', '["*.example.com"]', 'none'),
        ...route('e', '[e.example.com]', 'NONE'),
      ),
    );
    const cm = config.certManager;
    assert.equal(cm?.defaultProvider, 'le');
    assert.deepEqual(
      cm?.providers.map((p) => [p.name, p.names, p.challengeType]),
      [
        ['le', ['a.example.com', 'b.example.com'], 'http-01'],
        ['private', ['c.internal'], 'tls-alpn-01'],
      ],
    );
    assert.equal(cm?.providers[0]?.storageFile, '/etc/gatehouse/acme/le.json', 'relative to the config file');
    assert.equal(cm?.providers[0]?.directoryUrl, 'https://acme-v02.api.letsencrypt.org/directory');
    assert.equal(cm?.providers[1]?.caBundle?.path, '/etc/gatehouse/private-ca.pem');
    assert.equal(cm?.providers[1]?.storageFile, '/etc/letsencrypt/acme-private.json');
    assert.deepEqual(
      config.routes.map((r) => r.tlsProvider),
      ['le', 'le', 'private', null, null],
    );
    assert.deepEqual(config.gateway.entryPoints.webSecure?.port, 8443, 'HTTPS on without configured certificates');
  });

  it("reads Goma's legacy single-provider shape as the provider `default`", () => {
    const config = ok(
      yaml(
        'certManager:',
        '  provider: acme',
        '  acme: { email: a@example.com }',
        'routes:',
        ...route('a', '[a.example.com]'),
      ),
    );
    assert.equal(config.certManager?.defaultProvider, 'default');
    assert.deepEqual(
      config.certManager?.providers.map((p) => [p.name, p.email, p.storageFile, p.names]),
      [['default', 'a@example.com', '/etc/letsencrypt/acme.json', ['a.example.com']]],
    );
  });

  it('refuses an unknown provider name instead of falling back to the default', () => {
    const error = oneError(
      yaml(...providers, 'routes:', ...route('a', '[a.example.com]', 'lets-encrypt')),
      'GH_CONFIG_ENUM',
      18,
      22,
    );
    assert.match(error.message, /no certificate provider is named "lets-encrypt"/);
    assert.match(error.hint ?? '', /le, private, or `none`/);
    assert.equal(error.path, 'routes[0].tls.provider');
  });

  it('refuses wildcard and IP hosts for a provider, naming the host', () => {
    const all = errors(yaml(...providers, 'routes:', ...route('a', '["*.example.com", 192.0.2.1, ok.example.com]')));
    assert.deepEqual(
      all.map((e) => [e.path, e.line, e.code]),
      [
        ['routes[0].hosts[0]', 16, 'GH_CONFIG_HOST'],
        ['routes[0].hosts[1]', 16, 'GH_CONFIG_HOST'],
      ],
    );
    assert.match(all[0]?.message ?? '', /wildcard name, which the http-01 challenge of provider "le" cannot prove/);
    assert.match(all[1]?.message ?? '', /IP address/);
  });

  it('refuses an unknown defaultProvider and a challenge whose listener is off', () => {
    oneError(
      yaml('certManager:', '  defaultProvider: nope', '  providers:', '    le: { type: acme, acme: {} }'),
      'GH_CONFIG_ENUM',
      2,
      20,
    );
    const error = oneError(
      yaml(
        'gateway:',
        '  entryPoints: { web: { address: "" } }',
        'certManager:',
        '  providers:',
        '    le: { type: acme, acme: {} }',
        'routes:',
        ...route('a', '[a.example.com]'),
      ),
      'GH_CONFIG_ADDRESS',
      5,
      29,
    );
    assert.match(error.message, /http-01 is answered on the `web` entry point, which is off/);
  });

  it('refuses Vault and DNS-01, which Gatehouse does not implement', () => {
    const all = errors(
      yaml(
        'certManager:',
        '  providers:',
        '    v: { type: vault }',
        '    d: { type: acme, acme: { challengeType: dns-01 } }',
      ),
    );
    assert.deepEqual(
      all.map((e) => e.path),
      ['certManager.providers.v.type', 'certManager.providers.d.acme.challengeType'],
    );
  });
});
