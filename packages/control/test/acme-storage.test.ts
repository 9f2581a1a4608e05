// ACME storage read while a renewal is half written: storeCertificate renames the new key, then the
// new certificate, so a reload between the two sees a pair that does not match. The name must not
// drop out of the generation for that (it would be served the default certificate).
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { AcmeProviderConfig, GatewayConfig } from '@gatehouse/config';
import { createCa, issueCertificate, type LeafHandle } from '@gatehouse/pki';
import { certificatePaths, readStoredCertificates, storeCertificate } from '../src/acme/storage.ts';

const NAME = 'a.acme.test';

async function setUp(): Promise<{
  provider: AcmeProviderConfig;
  config: GatewayConfig;
  old: LeafHandle;
  renewed: LeafHandle;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-acme-storage-'));
  const ca = await createCa(join(dir, 'pki'), { name: 'ca', cn: 'ACME Storage Test CA' });
  const old = await issueCertificate(ca, { name: 'old', cn: NAME, dns: [NAME], usage: 'server' });
  const renewed = await issueCertificate(ca, { name: 'renewed', cn: NAME, dns: [NAME], usage: 'server' });
  const provider = {
    name: 'pebble',
    email: 'ops@example.test',
    directoryUrl: 'https://127.0.0.1:14000/dir',
    storageFile: join(dir, 'acme', 'pebble.json'),
    challengeType: 'http-01',
    caBundle: null,
    termsAccepted: true,
    names: [NAME],
  } as unknown as AcmeProviderConfig;
  const config = { certManager: { defaultProvider: 'pebble', providers: [provider] } } as unknown as GatewayConfig;
  await storeCertificate(provider, NAME, old.certPem, old.keyPem, Date.now());
  return { provider, config, old, renewed };
}

function servedSerial(certPem: string): string {
  return new X509Certificate(certPem).serialNumber;
}

describe('ACME storage read during a renewal', () => {
  it('waits for the second rename instead of dropping the name', async () => {
    const { provider, config, renewed } = await setUp();
    const paths = certificatePaths(provider, NAME);
    // The first half of storeCertificate: the new key in place, the old certificate still there.
    writeFileSync(`${paths.key}.tmp`, renewed.keyPem, { mode: 0o600 });
    renameSync(`${paths.key}.tmp`, paths.key);
    const read = readStoredCertificates(config, Date.now());
    await new Promise((resolve) => setTimeout(resolve, 150));
    writeFileSync(`${paths.cert}.tmp`, renewed.certPem);
    renameSync(`${paths.cert}.tmp`, paths.cert);
    const stored = await read;
    assert.deepEqual(stored.missing, []);
    assert.equal(stored.certificates.length, 1);
    assert.equal(stored.certificates[0]?.certPem, readFileSync(paths.cert, 'utf8'));
    assert.equal(servedSerial(stored.certificates[0]?.certPem ?? ''), renewed.serial);
    // The snapshot hashes these bytes, the ones the certificate was built from.
    assert.deepEqual(stored.bytes.get(paths.cert), readFileSync(paths.cert));
    assert.deepEqual(stored.bytes.get(paths.key), readFileSync(paths.key));
    assert.deepEqual(stored.bytes.get(provider.storageFile), readFileSync(provider.storageFile));
  });

  it('hashes and watches the index, which is renamed after the pair', async () => {
    // A switch of directory: the new pair is in place, the index still names the old directory.
    const { provider, config, renewed } = await setUp();
    const paths = certificatePaths(provider, NAME);
    const index = JSON.parse(readFileSync(provider.storageFile, 'utf8'));
    index.certificates[NAME].directoryUrl = 'https://127.0.0.1:14000/staging';
    writeFileSync(provider.storageFile, JSON.stringify(index));
    writeFileSync(paths.key, renewed.keyPem, { mode: 0o600 });
    writeFileSync(paths.cert, renewed.certPem);
    const before = await readStoredCertificates(config, Date.now());
    assert.deepEqual(before.missing, [
      { provider: 'pebble', name: NAME, reason: 'stored certificate was issued by https://127.0.0.1:14000/staging' },
    ]);
    assert.ok(before.files.includes(provider.storageFile));
    // The index's rename is a change the hash sees, so the reload after it is not "unchanged".
    await storeCertificate(provider, NAME, renewed.certPem, renewed.keyPem, Date.now());
    const after = await readStoredCertificates(config, Date.now());
    assert.deepEqual(after.missing, []);
    assert.notDeepEqual(after.bytes.get(provider.storageFile), before.bytes.get(provider.storageFile));
    assert.deepEqual(after.bytes.get(paths.cert), before.bytes.get(paths.cert));
    assert.deepEqual(after.bytes.get(paths.key), before.bytes.get(paths.key));
  });

  it('reports a pair that stays mismatched as missing, with the reason', async () => {
    const { provider, config, renewed } = await setUp();
    const paths = certificatePaths(provider, NAME);
    writeFileSync(paths.key, renewed.keyPem, { mode: 0o600 });
    const stored = await readStoredCertificates(config, Date.now());
    assert.equal(stored.certificates.length, 0);
    assert.deepEqual(stored.missing, [
      { provider: 'pebble', name: NAME, reason: 'stored key does not match the certificate' },
    ]);
  });
});
