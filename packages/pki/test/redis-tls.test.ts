// `gateway.redis.tls` goes through the same material path as every certificate field: read once by
// the primary, checked (PEM kind, chain, key match), errors naming file:line:key, and the files
// listed for the watcher. The result is what the snapshot carries to the workers.
import assert from 'node:assert/strict';
import { type GatewayConfig, parseConfig } from '@gatehouse/config';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CaHandle, createCa, issueCertificate, type LeafHandle } from '../src/dev-pki.ts';
import { loadMaterial, referencedFiles } from '../src/load.ts';
import { redisTlsOptions } from '../src/redis-tls-options.ts';

describe('gateway.redis.tls material', () => {
  let dir: string;
  let ca: CaHandle;
  let client: LeafHandle;
  let other: LeafHandle;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-redis-tls-'));
    ca = await createCa(dir, { name: 'redis-ca' });
    [client, other] = await Promise.all([
      issueCertificate(ca, { name: 'gw', cn: 'gatehouse', usage: 'client' }),
      issueCertificate(ca, { name: 'other', cn: 'other', usage: 'client' }),
    ]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function config(addr: string, tls: string): GatewayConfig {
    const text = `version: 2
gateway:
  redis:
    addr: ${addr}
    tls: ${tls}
routes:
  - name: r
    path: /
    backends: [{ endpoint: "http://127.0.0.1:1" }]
`;
    const parsed = parseConfig(text, join(dir, 'gatehouse.yaml'), {});
    if (!parsed.ok) assert.fail(JSON.stringify(parsed.errors));
    return parsed.config;
  }

  it('resolves the CA and the client identity to PEM, with the host as servername', async () => {
    const cfg = config(
      'redis.internal:6380',
      `{ clientCa: ${ca.certPath}, clientCert: ${client.certPath}, clientKey: ${client.keyPath} }`,
    );
    const load = await loadMaterial(cfg);
    assert.deepEqual(load.errors, []);
    assert.deepEqual(load.material?.redisTls, {
      ca: ca.certPem,
      cert: client.certPem,
      key: client.keyPem,
      servername: 'redis.internal',
    });
    assert.deepEqual(referencedFiles(cfg).sort(), [ca.certPath, client.certPath, client.keyPath].sort());
    assert.deepEqual(redisTlsOptions(load.material!.redisTls!), {
      ca: ca.certPem,
      cert: client.certPem,
      key: client.keyPem,
      servername: 'redis.internal',
      rejectUnauthorized: true,
    });
  });

  it('sends no servername to an IP address, and trusts the system roots without clientCa', async () => {
    const load = await loadMaterial(config('127.0.0.1:6380', '{}'));
    assert.deepEqual(load.material?.redisTls, { ca: null, cert: null, key: null, servername: null });
    assert.deepEqual(redisTlsOptions(load.material!.redisTls!), { rejectUnauthorized: true });
    const plain = await loadMaterial(config('127.0.0.1:6380', 'null'));
    assert.equal(plain.material?.redisTls, null);
  });

  it('refuses a key that is not the certificate’s, and a key given as the CA, naming key and file', async () => {
    const load = await loadMaterial(
      config(
        '127.0.0.1:6380',
        `{ clientCa: ${client.keyPath}, clientCert: ${client.certPath}, clientKey: ${other.keyPath} }`,
      ),
    );
    assert.equal(load.ok, false);
    assert.deepEqual(
      load.errors.map((e) => [e.code, e.path, e.line]),
      [
        ['GH_MATERIAL_WRONG_KIND', 'gateway.redis.tls.clientCa', 5],
        ['GH_CERT_KEY_MISMATCH', 'gateway.redis.tls.clientCert', 5],
      ],
    );
    assert.match(load.errors[0]!.message, new RegExp(client.keyPath.replace(/[.]/g, '\\.')));
    assert.ok(load.files.includes(other.keyPath), 'watched even when refused, so that a fix is noticed');
  });

  it('reads a missing file as an error of its key', async () => {
    const missing = join(dir, 'nowhere.pem');
    const load = await loadMaterial(config('127.0.0.1:6380', `{ clientCa: ${missing} }`));
    assert.deepEqual(
      load.errors.map((e) => [e.code, e.path]),
      [['GH_MATERIAL_MISSING', 'gateway.redis.tls.clientCa']],
    );
  });
});
