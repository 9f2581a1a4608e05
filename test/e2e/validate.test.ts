// biome-ignore-all lint/suspicious/noTemplateCurlyInString: tests of the config's own ${ENV} syntax
// `gatehouse validate`, `schema` and `version` as an operator runs them: the real CLI in a child
// process, on files written to a temporary directory, with certificates made by openssl (dev PKI).
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { createCa, issueCertificate } from '@gatehouse/pki';
import { gomaMtlsExample } from '../../packages/config/test/helpers.ts';
import { runCli, tempDir, writeFile } from '../support/gateway.ts';

const dir = tempDir('gatehouse-validate-');
/** The Goma example with its /etc/goma/certs files moved to `certs`. */
const gomaWithCertsIn = (certs: string) => gomaMtlsExample.replaceAll('/etc/goma/certs', certs);

describe('gatehouse validate', () => {
  let certs: string;

  before(async () => {
    // Real material for the Goma example: one CA, and one certificate used both to serve and as
    // the gateway's client certificate towards the backends (as the example does).
    const pki = join(dir, 'pki');
    const ca = await createCa(pki, { name: 'goma-ca', cn: 'Goma Example CA' });
    const leaf = await issueCertificate(ca, {
      name: 'api',
      cn: 'api.example.com',
      dns: ['api.example.com'],
      usage: 'both',
    });
    certs = join(dir, 'certs');
    mkdirSync(certs);
    copyFileSync(leaf.certPath, join(certs, 'cert.pem'));
    copyFileSync(leaf.keyPath, join(certs, 'key.pem'));
    copyFileSync(ca.certPath, join(certs, 'ca.pem'));
  });

  it('accepts the Goma mTLS example unchanged with --schema-only', async () => {
    writeFile(dir, 'goma.yaml', gomaMtlsExample);
    const result = await runCli(['validate', 'goma.yaml', '--schema-only'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.equal(
      result.stdout,
      [
        'goma.yaml: OK, 1 route, 2 backends, 1 certificate, listening on http :8080, https :8443, TLS client auth required, upstream mTLS on 1 route (certificate files not read)',
        'client certificates (effective):',
        '  listener webSecure :8443: required at the handshake',
        '  listener web :8080: plain HTTP, no certificates; routes that require one answer 401 here',
        '  route api  required (gateway default)',
        '',
      ].join('\n'),
    );
  });

  it('empty material: prints the effective client-auth mode of each listener and route', async () => {
    // The gateway requires certificates, one route opts out: the handshake can then only request
    // them, and `required` is enforced per route. That is what an operator needs to see.
    const text = gomaMtlsExample.replace(
      'routes:\n',
      [
        'routes:',
        '  - name: open',
        '    path: /public',
        '    target: http://127.0.0.1:3000',
        '    clientAuth: { mode: off }',
        '  - name: partners',
        '    path: /partners',
        '    target: http://127.0.0.1:3000',
        '    clientAuth: { mode: required, allowedSANs: ["URI:spiffe://partners/*"] }',
        '',
      ].join('\n'),
    );
    writeFile(dir, 'modes.yaml', text);
    const result = await runCli(['validate', 'modes.yaml', '--schema-only'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout.split('\n').slice(1), [
      'client certificates (effective):',
      '  listener webSecure :8443: requested at the handshake, enforced per route',
      '  listener web :8080: plain HTTP, no certificates; routes that require one answer 401 here',
      '  route open      off      (route clientAuth)',
      '  route partners  required (route clientAuth), SANs URI:spiffe://partners/*',
      '  route api       required (gateway default)',
      '',
    ]);
    // `clientCA: ${CLIENT_CA}` with CLIENT_CA set but empty is an error at the value, not "no CA".
    writeFile(
      dir,
      'empty-ca.yaml',
      gomaMtlsExample.replace('clientCA:  /etc/goma/certs/ca.pem', 'clientCA: ${CLIENT_CA}'),
    );
    const empty = await runCli(['validate', 'empty-ca.yaml', '--schema-only'], { cwd: dir, env: { CLIENT_CA: '' } });
    assert.equal(empty.code, 1);
    assert.match(
      empty.stderr,
      /^empty-ca\.yaml:7:17: error: gateway\.tls\.clientAuth\.clientCA: clientCA is empty \(\$\{CLIENT_CA\} expands to ""\)/m,
    );
  });

  it('accepts the Goma mTLS example in full once its certificate files exist', async () => {
    writeFile(dir, 'goma-full.yaml', gomaWithCertsIn(certs));
    const result = await runCli(['validate', 'goma-full.yaml'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^goma-full\.yaml: OK, 1 route, 2 backends, 1 certificate, .*TLS client auth required/);
    assert.doesNotMatch(result.stdout, /not read/);
    assert.doesNotMatch(result.stderr, /error/);
  });

  it('key files: warns about a private key others can read or write, naming the file and its mode', async () => {
    const loose = join(dir, 'loose');
    mkdirSync(loose, { recursive: true });
    for (const name of ['cert.pem', 'key.pem', 'ca.pem']) copyFileSync(join(certs, name), join(loose, name));
    chmodSync(join(loose, 'key.pem'), 0o644);
    writeFile(dir, 'loose.yaml', gomaWithCertsIn(loose));
    const result = await runCli(['validate', 'loose.yaml'], { cwd: dir });
    assert.equal(result.code, 0, 'a warning, not an error');
    const key = join(loose, 'key.pem');
    // The example names the key twice (server key and backend client key): one warning per file.
    const warnings = result.stderr
      .split('\n')
      .filter((l) => l.includes(`private key ${key} has mode 0644 (world-readable)`));
    assert.equal(warnings.length, 1, result.stderr);
    assert.match(warnings[0] ?? '', /^loose\.yaml:\d+:\d+: warning: /);
    chmodSync(key, 0o600);
    assert.doesNotMatch((await runCli(['validate', 'loose.yaml'], { cwd: dir })).stderr, /has mode/);
  });

  it('reports certificate files that are missing, of the wrong kind or not PEM, at their keys', async () => {
    writeFileSync(join(certs, 'garbage.pem'), 'this is not a certificate\n');
    const text = gomaWithCertsIn(certs)
      .replace(`clientCA:  ${certs}/ca.pem`, `clientCA:  ${certs}/missing-ca.pem`)
      .replace(`key: ${certs}/key.pem`, `key: ${certs}/cert.pem`)
      .replace(`rootCAs: ${certs}/ca.pem`, `rootCAs: ${certs}/garbage.pem`);
    writeFile(dir, 'material.yaml', text);
    const result = await runCli(['validate', 'material.yaml'], { cwd: dir });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.equal(result.stdout, '');
    const errors = result.stderr.split('\n').filter((l) => l.includes(': error: '));
    // line 5 col 14: `key:` of the server certificate; 7:18 clientCA; 23:18 rootCAs
    assert.ok(
      errors.some((l) => l.startsWith('material.yaml:5:14: error: gateway.tls.certificates[0].key: ')),
      result.stderr,
    );
    assert.ok(
      errors.some(
        (l) =>
          l.startsWith('material.yaml:7:18: error: gateway.tls.clientAuth.clientCA: ') && /missing-ca\.pem/.test(l),
      ),
      result.stderr,
    );
    assert.ok(
      errors.some((l) => l.startsWith('material.yaml:23:18: error: routes[0].security.tls.rootCAs: ')),
      result.stderr,
    );
    assert.match(result.stderr, /in certificate material\n$/);
  });

  it('reports every config error compiler-style with file:line:col and a hint, and exits 1', async () => {
    writeFile(
      dir,
      'gatehouse.yaml',
      [
        'version: 2',
        'gateway:',
        '  timeouts:',
        '    request: 15 seconds',
        'routes:',
        '  - name: api',
        '    path: /',
        '    backends:',
        '      - endpoint: http://127.0.0.1:3000',
        '      - endpoint: ftp://files:21',
        '        weight: -3',
        '    security:',
        '      tls:',
        '        clientCert: client.pem',
        '    healthCheck:',
        '      interval: 5s',
        '      timeout: 5s',
        '  - name: api',
        '    path: /other',
        '  - name: web',
        '    path: /web',
        '    target: http://web:80',
        '    backend: []',
        '',
      ].join('\n'),
    );
    const result = await runCli(['validate', 'gatehouse.yaml'], { cwd: dir });
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    const heads = result.stderr.split('\n').filter((l) => /^gatehouse\.yaml:\d+:\d+: /.test(l));
    assert.deepEqual(
      heads.map((l) => l.split(': ').slice(0, 3).join(': ')),
      [
        'gatehouse.yaml:4:14: error: gateway.timeouts.request',
        'gatehouse.yaml:10:19: error: routes[0].backends[1].endpoint',
        'gatehouse.yaml:11:17: error: routes[0].backends[1].weight',
        'gatehouse.yaml:14:9: error: routes[0].security.tls.clientCert',
        'gatehouse.yaml:17:16: error: routes[0].healthCheck.timeout',
        'gatehouse.yaml:18:5: error: routes[1]',
        'gatehouse.yaml:18:11: error: routes[1].name',
        'gatehouse.yaml:23:5: error: routes[2].backend',
      ],
    );
    assert.ok(
      result.stderr.includes(
        'gatehouse.yaml:11:17: error: routes[0].backends[1].weight: weight must be a whole number >= 0 (got -3)\n    hint: ',
      ),
      result.stderr,
    );
    assert.ok(result.stderr.includes('routes[2].backend: unknown key `backend`\n    hint: did you mean `backends`?'));
    assert.match(result.stderr, /gatehouse\.yaml: 8 errors\n$/);
  });

  it('points at a YAML syntax error', async () => {
    writeFile(dir, 'syntax.yaml', 'routes:\n  - name: a\n    path: /\n   target: http://x:1\n');
    const result = await runCli(['validate', 'syntax.yaml'], { cwd: dir });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^syntax\.yaml:4:1: error: YAML: /);
  });

  it('expands ${ENV} from its environment and reports an unset one at its column', async () => {
    writeFile(
      dir,
      'env.yaml',
      'routes:\n  - name: a\n    path: /\n    target: http://${GH_E2E_HOST}:${GH_E2E_PORT:-3000}\n',
    );
    const good = await runCli(['validate', 'env.yaml'], { cwd: dir, env: { GH_E2E_HOST: 'api.internal' } });
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /^env\.yaml: OK, 1 route, 1 backend/);
    const unset = await runCli(['validate', 'env.yaml'], { cwd: dir });
    assert.equal(unset.code, 1);
    assert.match(
      unset.stderr,
      /^env\.yaml:4:20: error: routes\[0\]\.target: environment variable `GH_E2E_HOST` is not set/,
    );
    // Set but empty expands to nothing (as in a shell), and the endpoint check catches the result.
    const empty = await runCli(['validate', 'env.yaml'], { cwd: dir, env: { GH_E2E_HOST: '' } });
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /^env\.yaml:4:13: error: routes\[0\]\.target: endpoint "http:\/\/:3000" is not a URL/);
  });

  it('passes a file with only warnings, printing them', async () => {
    writeFile(
      dir,
      'warn.yaml',
      'gateway:\n  networking:\n    dnsCache: { ttl: 300 }\nroutes:\n  - name: a\n    path: /\n    target: http://x:1\n',
    );
    const result = await runCli(['validate', '--schema-only', 'warn.yaml'], { cwd: dir });
    assert.equal(result.code, 0);
    assert.match(
      result.stderr,
      /^warn\.yaml:2:3: warning: gateway\.networking: Goma Gateway key `networking` is not supported by Gatehouse; ignored/,
    );
    assert.match(result.stdout, /^warn\.yaml: OK, 1 route, 1 backend, 0 certificates/);
  });

  it('fails clearly on a missing file and on bad usage', async () => {
    const missing = await runCli(['validate', join(dir, 'nope.yaml')]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, `gatehouse validate: cannot read ${join(dir, 'nope.yaml')}: no such file\n`);
    const none = await runCli(['validate']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /which file\?/);
    const unknown = await runCli(['validate', '--strict', 'x.yaml']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option --strict/);
  });
});

describe('gatehouse schema, version and --help', () => {
  it('prints the JSON Schema', async () => {
    const result = await runCli(['schema']);
    assert.equal(result.code, 0, result.stderr);
    const schema = JSON.parse(result.stdout) as {
      $schema: string;
      properties: Record<string, unknown>;
      $defs: { route: { properties: Record<string, { description?: string }> } };
    };
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.deepEqual(Object.keys(schema.properties).sort(), [
      'certManager',
      'certificateManager',
      'gateway',
      'middlewares',
      'plugins',
      'routes',
      'version',
    ]);
    assert.match(schema.$defs.route.properties.backends?.description ?? '', /weight/);
  });

  it('prints the key reference for people with --markdown', async () => {
    const result = await runCli(['schema', '--markdown']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^# Gatehouse configuration reference\n/);
    assert.match(result.stdout, /\| `routes\[\]\.backends\[\]\.weight` \| integer 0\.\. \| `1` \|/);
    const wrong = await runCli(['schema', '--yaml']);
    assert.equal(wrong.code, 2);
  });

  it('prints the version', async () => {
    const result = await runCli(['version']);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, `gatehouse 0.1.0 (node ${process.version})\n`);
    const flag = await runCli(['--version']);
    assert.equal(flag.stdout, result.stdout);
  });

  for (const command of ['validate', 'schema', 'version']) {
    it(`has complete --help for ${command}`, async () => {
      const result = await runCli([command, '--help']);
      assert.equal(result.code, 0);
      assert.match(result.stdout, new RegExp(`^Usage: gatehouse ${command}`));
      assert.match(result.stdout, /Exit status: /);
    });
  }
});
