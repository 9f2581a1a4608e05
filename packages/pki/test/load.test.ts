import assert from 'node:assert/strict';
import { type GatewayConfig, parseConfig } from '@gatehouse/config';
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CaHandle, createCa, issueCertificate, type LeafHandle, writeCrl } from '../src/dev-pki.ts';
import { loadMaterial, referencedFiles } from '../src/load.ts';
import { upstreamIdentity } from '../src/outbound-tls.ts';
import { DAY, expiredWindow } from './validity.ts';

function config(yaml: string, file: string): GatewayConfig {
  const parsed = parseConfig(yaml, file, {});
  if (!parsed.ok) assert.fail(`test config does not parse: ${JSON.stringify(parsed.errors, null, 2)}`);
  return parsed.config;
}

describe('loadMaterial', () => {
  let dir: string;
  let root: CaHandle;
  let inter: CaHandle;
  let clientRoot: CaHandle;
  let ec: LeafHandle;
  let rsa: LeafHandle;
  let enc: LeafHandle;
  let upstreamClient: LeafHandle;
  let crlPath: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-load-'));
    [root, clientRoot] = await Promise.all([createCa(dir, { name: 'root' }), createCa(dir, { name: 'client-root' })]);
    inter = await createCa(dir, { name: 'inter', parent: root });
    [ec, rsa, enc, upstreamClient] = await Promise.all([
      issueCertificate(inter, { name: 'ec', cn: 'api.test', dns: ['api.test', '*.apps.test'], usage: 'server' }),
      issueCertificate(root, { name: 'rsa', cn: 'legacy.test', dns: ['legacy.test'], usage: 'server', keyType: 'rsa' }),
      issueCertificate(root, {
        name: 'enc',
        cn: 'secret.test',
        dns: ['secret.test'],
        usage: 'server',
        passphrase: 'pw',
      }),
      issueCertificate(clientRoot, { name: 'gw-client', cn: 'gatehouse', usage: 'client' }),
    ]);
    crlPath = (await writeCrl(clientRoot)).crlPath;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function goodYaml(overrides: { ecCert?: string; ecKey?: string; defaultName?: string } = {}): string {
    return `version: 2
gateway:
  entryPoints:
    webSecure:
      address: "127.0.0.1:8443"
  tls:
    certificates:
      - cert: ${overrides.ecCert ?? ec.fullchainPath}
        key: ${overrides.ecKey ?? ec.keyPath}
      - cert: ${rsa.certPath}
        key: ${rsa.keyPath}
      - cert: ${enc.certPath}
        key: ${enc.keyPath}
        passphrase: pw
${overrides.defaultName ? `    default: ${overrides.defaultName}\n` : ''}    clientAuth:
      clientCA: ${join(dir, 'bundle.pem')}
      crl: ${crlPath}
      required: true
routes:
  - name: api
    path: /
    hosts: [api.test, x.apps.test]
    backends:
      - endpoint: https://127.0.0.1:9001
    security:
      tls:
        rootCAs: ${clientRoot.certPath}
        clientCert: ${upstreamClient.certPath}
        clientKey: ${upstreamClient.keyPath}
        serverName: backend.test
  - name: same-identity
    path: /same
    hosts: [legacy.test]
    backends:
      - endpoint: https://127.0.0.1:9002
    security:
      tls:
        rootCAs: ${clientRoot.certPath}
        clientCert: ${upstreamClient.certPath}
        clientKey: ${upstreamClient.keyPath}
        serverName: backend.test
  - name: public-https
    path: /pub
    hosts: [secret.test]
    backends:
      - endpoint: https://127.0.0.1:9003
  - name: plain
    path: /plain
    hosts: [api.test]
    backends:
      - endpoint: http://127.0.0.1:9004
  - name: insecure
    path: /insecure
    hosts: [unknown.test]
    backends:
      - endpoint: https://127.0.0.1:9005
    security:
      tls:
        insecureSkipVerify: true
`;
  }

  it('key files: warns, as OpenSSH does, about a private key that is group/world-writable or world-readable', async () => {
    writeFileSync(join(dir, 'bundle.pem'), root.certPem + clientRoot.certPem);
    const loose = join(dir, 'loose-key.pem');
    writeFileSync(loose, readFileSync(ec.keyPath));
    const file = join(dir, 'gatehouse.yaml');
    const warningsFor = async (mode: number) => {
      chmodSync(loose, mode);
      const load = await loadMaterial(config(goodYaml({ ecKey: loose }), file));
      assert.deepEqual(load.errors, [], 'a loose key is a warning, never an error');
      return load.warnings.filter((w) => w.code === 'GH_KEY_FILE_MODE');
    };
    for (const mode of [0o600, 0o640, 0o400]) assert.deepEqual(await warningsFor(mode), [], mode.toString(8));
    const [worldReadable] = await warningsFor(0o644);
    assert.equal(worldReadable?.path, 'gateway.tls.certificates[0].key');
    assert.equal(
      worldReadable?.message,
      `private key ${loose} has mode 0644 (world-readable); anyone with that access can read or replace it`,
    );
    assert.match(worldReadable?.hint ?? '', /^chmod 0640 /);
    const [writable] = await warningsFor(0o662);
    assert.match(writable?.message ?? '', /mode 0662 \(group-writable, world-writable\)/);
    // The other keys of the same config (0600, written by the dev PKI) are not mentioned.
    assert.equal((await warningsFor(0o666)).length, 1);
  });

  it('resolves a complete config: certificates, default, client CA bundle, CRL and upstream identities', async () => {
    writeFileSync(join(dir, 'bundle.pem'), root.certPem + clientRoot.certPem);
    const file = join(dir, 'gatehouse.yaml');
    const cfg = config(goodYaml(), file);
    const load = await loadMaterial(cfg);
    assert.deepEqual(load.errors, []);
    assert.ok(load.ok && load.material);
    const m = load.material;

    assert.deepEqual(
      m.certificates.map((c) => [c.names, c.keyType, c.isDefault, c.passphrase]),
      [
        [['api.test', '*.apps.test'], 'ec', true, null],
        [['legacy.test'], 'rsa', false, null],
        [['secret.test'], 'ec', false, 'pw'],
      ],
    );
    const first = m.certificates[0]!;
    assert.equal(first.certPem, ec.fullchainPem, 'leaf then intermediate');
    assert.equal(first.keyPem, ec.keyPem);
    assert.equal(first.serial, ec.serial);
    assert.equal(first.fingerprint256, new X509Certificate(ec.certPem).fingerprint256);
    assert.equal(first.subject, 'O=Gatehouse Dev, CN=api.test');
    assert.equal(first.source, `${ec.fullchainPath} (key ${ec.keyPath})`);
    assert.equal(first.notAfter, new X509Certificate(ec.certPem).validToDate.toISOString());

    assert.equal(m.clientCA, root.certPem + clientRoot.certPem);
    assert.match(m.crl ?? '', /^-----BEGIN X509 CRL-----/);

    assert.deepEqual(Object.keys(m.upstreamTls).sort(), ['api', 'insecure', 'public-https', 'same-identity']);
    const api = m.upstreamTls.api!;
    assert.equal(api.ca, clientRoot.certPem);
    assert.equal(api.cert, upstreamClient.certPem);
    assert.equal(api.key, upstreamClient.keyPem);
    assert.equal(api.rejectUnauthorized, true);
    assert.equal(api.servername, 'backend.test');
    assert.equal(api.identity, m.upstreamTls['same-identity']!.identity, 'same identity, one agent');
    assert.equal(api.identity, upstreamIdentity(api.ca, api.cert, api.key, true, 'backend.test'));
    const pub = m.upstreamTls['public-https']!;
    assert.deepEqual(
      { ...pub, identity: '' },
      { ca: null, cert: null, key: null, rejectUnauthorized: true, servername: null, identity: '' },
    );
    assert.notEqual(pub.identity, api.identity);
    assert.equal(m.upstreamTls.insecure!.rejectUnauthorized, false);

    // Warnings: the bundle's first CA has no CRL (its clients would fail UNABLE_TO_GET_CRL),
    // insecureSkipVerify, and unknown.test is not covered by any certificate.
    assert.deepEqual(load.warnings.map((w) => [w.code, w.path]).sort(), [
      ['GH_CERT_SAN_MISMATCH', 'routes[4].hosts[0]'],
      ['GH_CRL_MISSING_FOR_CA', 'gateway.tls.clientAuth.crl'],
      ['GH_UPSTREAM_TLS_INSECURE', 'routes[4].security.tls.insecureSkipVerify'],
    ]);
    assert.deepEqual(
      load.files.sort(),
      [
        ec.fullchainPath,
        ec.keyPath,
        rsa.certPath,
        rsa.keyPath,
        enc.certPath,
        enc.keyPath,
        join(dir, 'bundle.pem'),
        crlPath,
        clientRoot.certPath,
        upstreamClient.certPath,
        upstreamClient.keyPath,
      ].sort(),
    );
    assert.deepEqual(referencedFiles(cfg).sort(), load.files.sort());
  });

  it('picks the default certificate by gateway.tls.default, and warns when no certificate has that name', async () => {
    writeFileSync(join(dir, 'bundle.pem'), root.certPem + clientRoot.certPem);
    const file = join(dir, 'gatehouse.yaml');
    const byName = await loadMaterial(config(goodYaml({ defaultName: 'legacy.test' }), file));
    assert.deepEqual(
      byName.material?.certificates.map((c) => c.isDefault),
      [false, true, false],
    );
    const byWildcard = await loadMaterial(config(goodYaml({ defaultName: 'q.apps.test' }), file));
    assert.deepEqual(
      byWildcard.material?.certificates.map((c) => c.isDefault),
      [true, false, false],
    );
    const unknown = await loadMaterial(config(goodYaml({ defaultName: 'nobody.test' }), file));
    assert.ok(unknown.ok);
    assert.deepEqual(
      unknown.material?.certificates.map((c) => c.isDefault),
      [true, false, false],
    );
    assert.ok(unknown.warnings.some((w) => w.code === 'GH_CERT_DEFAULT_NAME_UNKNOWN'));
  });

  it('reports every problem at once, with positions, and still lists every file', async () => {
    const expired = await issueCertificate(root, {
      name: 'expired',
      cn: 'api.test',
      dns: ['api.test'],
      usage: 'server',
      ...expiredWindow(),
    });
    writeFileSync(join(dir, 'bundle.pem'), 'not a pem at all');
    const file = join(dir, 'broken.yaml');
    const yaml = goodYaml({ ecCert: expired.certPath, ecKey: ec.keyPath }).replace(
      `clientKey: ${upstreamClient.keyPath}\n        serverName: backend.test\n  - name: same-identity`,
      `clientKey: ${join(dir, 'missing.key')}\n        serverName: backend.test\n  - name: same-identity`,
    );
    const cfg = config(yaml, file);
    const load = await loadMaterial(cfg);
    assert.equal(load.ok, false);
    assert.equal(load.material, null);
    const codes = load.errors.map((e) => [e.code, e.path]);
    assert.deepEqual(codes, [
      ['GH_CERT_EXPIRED', 'gateway.tls.certificates[0].cert'],
      ['GH_MATERIAL_NOT_PEM', 'gateway.tls.clientAuth.clientCA'],
      ['GH_MATERIAL_MISSING', 'routes[0].security.tls.clientKey'],
    ]);
    for (const e of load.errors) {
      assert.equal(e.file, file);
      assert.ok(e.line > 0 && e.col > 0, `${e.code} has a position`);
    }
    assert.ok(load.files.includes(join(dir, 'missing.key')), 'a missing file is still watched');
    assert.ok(load.files.includes(expired.certPath));
  });

  it('rejects the moment of a rotation when the key is new and the certificate still old, then heals', async () => {
    const rotDir = join(dir, 'rot');
    const caRot = await createCa(rotDir, { name: 'ca' });
    const v1 = await issueCertificate(caRot, { name: 'v1', cn: 'api.test', dns: ['api.test'], usage: 'server' });
    const v2 = await issueCertificate(caRot, { name: 'v2', cn: 'api.test', dns: ['api.test'], usage: 'server' });
    const certPath = join(rotDir, 'live.crt');
    const keyPath = join(rotDir, 'live.key');
    const yaml = `version: 2
gateway:
  entryPoints:
    webSecure:
      address: "127.0.0.1:8443"
  tls:
    certificates:
      - cert: ${certPath}
        key: ${keyPath}
routes:
  - name: r
    path: /
    hosts: [api.test]
    backends:
      - endpoint: http://127.0.0.1:9000
`;
    const cfg = config(yaml, join(rotDir, 'gh.yaml'));
    writeFileSync(certPath, v1.certPem);
    writeFileSync(keyPath, v1.keyPem, { mode: 0o600 });
    assert.equal((await loadMaterial(cfg)).material?.certificates[0]?.serial, v1.serial);
    writeFileSync(keyPath, v2.keyPem);
    const half = await loadMaterial(cfg);
    assert.equal(half.ok, false);
    assert.deepEqual(
      half.errors.map((e) => e.code),
      ['GH_CERT_KEY_MISMATCH'],
    );
    writeFileSync(certPath, v2.certPem.slice(0, 100));
    assert.deepEqual(
      (await loadMaterial(cfg)).errors.map((e) => e.code),
      ['GH_MATERIAL_TRUNCATED'],
    );
    writeFileSync(certPath, v2.certPem);
    const healed = await loadMaterial(cfg);
    assert.ok(healed.ok);
    assert.equal(healed.material?.certificates[0]?.serial, v2.serial);
    assert.deepEqual(healed.warnings, []);
  });

  it('accepts inline PEM and warns about certificates near expiry', async () => {
    const soon = await issueCertificate(root, {
      name: 'soon',
      cn: 'soon.test',
      dns: ['soon.test'],
      usage: 'server',
      notAfter: new Date(Date.now() + 2.5 * DAY),
    });
    const indent = (pem: string) => pem.trimEnd().replace(/\n/g, '\n          ');
    const yaml = `version: 2
gateway:
  entryPoints:
    webSecure:
      address: "127.0.0.1:8443"
  tls:
    expiryWarningDays: 7
    certificates:
      - cert: |
          ${indent(soon.certPem)}
        key: |
          ${indent(soon.keyPem)}
routes:
  - name: r
    path: /
    hosts: [soon.test]
    backends:
      - endpoint: http://127.0.0.1:9000
`;
    const load = await loadMaterial(config(yaml, join(dir, 'inline.yaml')));
    assert.deepEqual(load.errors, []);
    assert.equal(
      load.material?.certificates[0]?.source,
      '<inline pem at gateway.tls.certificates[0].cert> (key <inline pem at gateway.tls.certificates[0].key>)',
    );
    assert.deepEqual(
      load.warnings.map((w) => [w.code, w.path]),
      [['GH_CERT_EXPIRES_SOON', 'gateway.tls.certificates[0].cert']],
    );
    assert.deepEqual(load.files, []);
  });

  it('uses options.now for every validity check', async () => {
    writeFileSync(join(dir, 'bundle.pem'), root.certPem + clientRoot.certPem);
    const cfg = config(goodYaml(), join(dir, 'gatehouse.yaml'));
    const later = await loadMaterial(cfg, { now: Date.now() + 60 * DAY });
    assert.equal(later.ok, false);
    assert.ok(later.errors.every((e) => e.code === 'GH_CERT_EXPIRED'));
    assert.ok(later.errors.length >= 4, 'server certificates and the upstream client certificate');
  });
});
