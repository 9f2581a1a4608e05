import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseCrl } from '../src/crl.ts';
import {
  type CaHandle,
  createCa,
  createDemoPki,
  createTestPki,
  issueCertificate,
  opensslTime,
  revoke,
  writeCrl,
} from '../src/dev-pki.ts';

const DAY = 86_400_000;

describe('dev-pki', () => {
  let dir: string;
  let root: CaHandle;
  let inter: CaHandle;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-devpki-'));
    root = await createCa(dir, { name: 'root', cn: 'Test Root' });
    inter = await createCa(dir, { name: 'inter', cn: 'Test Intermediate', parent: root });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('makes a self-signed root and an intermediate it signed', () => {
    const rootCert = new X509Certificate(root.certPem);
    const interCert = new X509Certificate(inter.certPem);
    assert.equal(rootCert.ca, true);
    assert.equal(interCert.ca, true);
    assert.match(rootCert.subject, /CN=Test Root/);
    assert.equal(rootCert.subject, rootCert.issuer);
    assert.ok(rootCert.verify(rootCert.publicKey));
    assert.ok(interCert.checkIssued(rootCert));
    assert.ok(interCert.verify(rootCert.publicKey));
    assert.equal(root.chainPem, '', 'a root has no intermediates to send');
    assert.equal(inter.chainPem, inter.certPem);
    assert.equal(inter.rootPem, root.certPem);
    assert.equal(readFileSync(inter.certPath, 'utf8'), inter.certPem);
    assert.equal(createPublicKey(createPrivateKey(readFileSync(root.keyPath))).asymmetricKeyType, 'ec');
  });

  it('issues a server leaf with SANs, default validity and a full chain', async () => {
    const leaf = await issueCertificate(inter, {
      name: 'server',
      cn: 'localhost',
      dns: ['localhost', 'api.test'],
      ips: ['127.0.0.1', '::1'],
      uris: ['spiffe://test/gw'],
      usage: 'server',
    });
    const cert = new X509Certificate(leaf.certPem);
    assert.equal(cert.serialNumber.toUpperCase(), leaf.serial);
    assert.match(leaf.serial, /^[0-9A-F]+$/);
    assert.equal(
      cert.subjectAltName,
      'DNS:localhost, DNS:api.test, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, URI:spiffe://test/gw',
    );
    assert.ok(cert.checkIssued(new X509Certificate(inter.certPem)));
    assert.ok(cert.verify(new X509Certificate(inter.certPem).publicKey));
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.equal(cert.ca, false);
    const now = Date.now();
    assert.ok(Date.parse(cert.validFrom) <= now && Date.parse(cert.validFrom) > now - 2 * 3_600_000);
    assert.ok(Math.abs(Date.parse(cert.validTo) - (now + 30 * DAY)) < 3_600_000);
    assert.equal(leaf.fullchainPem, leaf.certPem + inter.certPem);
    assert.equal(readFileSync(leaf.fullchainPath, 'utf8'), leaf.fullchainPem);
    assert.ok(cert.checkPrivateKey(createPrivateKey(leaf.keyPem)));
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  });

  it('honours explicit dates (expired, not yet valid), RSA keys, encrypted keys and client usage', async () => {
    const notBefore = new Date(Date.now() - 10 * DAY);
    const notAfter = new Date(Date.now() - DAY);
    const [expired, future] = await Promise.all([
      issueCertificate(root, { name: 'expired', cn: 'old', usage: 'client', notBefore, notAfter, keyType: 'rsa' }),
      issueCertificate(root, {
        name: 'future',
        cn: 'later',
        usage: 'both',
        notBefore: new Date(Date.now() + DAY),
        notAfter: new Date(Date.now() + 5 * DAY),
        passphrase: 'open sesame',
      }),
    ]);
    const e = new X509Certificate(expired.certPem);
    assert.equal(Math.floor(Date.parse(e.validFrom) / 1000), Math.floor(notBefore.getTime() / 1000));
    assert.equal(Math.floor(Date.parse(e.validTo) / 1000), Math.floor(notAfter.getTime() / 1000));
    assert.equal(e.publicKey.asymmetricKeyType, 'rsa');
    assert.deepEqual(e.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    assert.equal(e.subjectAltName, undefined);
    assert.equal(expired.fullchainPem, expired.certPem, 'a root-issued leaf has no intermediates');
    const f = new X509Certificate(future.certPem);
    assert.ok(Date.parse(f.validFrom) > Date.now());
    assert.deepEqual([...(f.keyUsage ?? [])].sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    assert.match(future.keyPem, /BEGIN ENCRYPTED PRIVATE KEY/);
    assert.throws(() => createPrivateKey(future.keyPem));
    assert.ok(f.checkPrivateKey(createPrivateKey({ key: future.keyPem, passphrase: 'open sesame' })));
  });

  it('revokes a certificate and lists its serial in the CRL', async () => {
    const victim = await issueCertificate(inter, { name: 'victim', cn: 'victim', usage: 'client' });
    const bystander = await issueCertificate(inter, { name: 'bystander', cn: 'bystander', usage: 'client' });
    const before = await writeCrl(inter);
    assert.match(before.crlPem, /^-----BEGIN X509 CRL-----/);
    await revoke(inter, victim);
    const { crlPath, crlPem } = await writeCrl(inter);
    assert.equal(readFileSync(crlPath, 'utf8'), crlPem);
    // Read back with pki's own DER reader (crl.test.ts checks it on its own); a real TLS handshake
    // rejecting the revoked certificate is in server-context.test.ts.
    assert.deepEqual(parseCrl(crlPem).revokedSerials, [victim.serial]);
    assert.ok(!parseCrl(crlPem).revokedSerials.includes(bystander.serial));
    assert.deepEqual(parseCrl(before.crlPem).revokedSerials, []);
  });

  it('formats openssl times as UTCTime before 2050 and GeneralizedTime after', () => {
    assert.equal(opensslTime(new Date('2026-11-27T09:18:58.500Z')), '261127091858Z');
    assert.equal(opensslTime(new Date('2051-01-02T03:04:05Z')), '20510102030405Z');
  });

  it('creates a demo PKI once and reuses it while valid', async () => {
    const demoDir = join(dir, 'demo');
    const first = await createDemoPki(demoDir);
    assert.equal(first.reused, false);
    const server = new X509Certificate(readFileSync(first.server.certPath));
    assert.equal(server.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    const ca = new X509Certificate(readFileSync(first.ca.certPath));
    const backendCa = new X509Certificate(readFileSync(first.backendCa.certPath));
    assert.ok(server.checkIssued(ca));
    assert.ok(new X509Certificate(readFileSync(first.client.certPath)).checkIssued(ca));
    assert.ok(new X509Certificate(readFileSync(first.backend.certPath)).checkIssued(backendCa));
    assert.ok(new X509Certificate(readFileSync(first.gatewayClient.certPath)).checkIssued(backendCa));
    assert.ok(!new X509Certificate(readFileSync(first.rogueClient.certPath)).checkIssued(ca));
    const second = await createDemoPki(demoDir);
    assert.equal(second.reused, true);
    assert.equal(second.server.serial, first.server.serial);
    rmSync(first.client.certPath);
    const third = await createDemoPki(demoDir);
    assert.equal(third.reused, false, 'a demo PKI with a missing file is made again');
    assert.notEqual(third.server.serial, first.server.serial);
  });
  it('creates the test PKI whose cases an independent verifier (openssl verify) confirms', async () => {
    const pki = await createTestPki(join(dir, 'test-pki'));
    const verify = (certPath: string, extra: string[] = []): string => {
      try {
        return execFileSync(
          'openssl',
          ['verify', '-CAfile', pki.root.certPath, '-untrusted', pki.intermediate.certPath, ...extra, certPath],
          { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
        );
      } catch (error) {
        return String((error as { stdout?: string }).stdout) + String((error as { stderr?: string }).stderr);
      }
    };
    const crl = ['-crl_check', '-CRLfile', pki.crlPath];
    assert.match(verify(pki.server.ec.certPath), /: OK/);
    assert.match(verify(pki.server.rsa.certPath, ['-purpose', 'sslserver']), /: OK/);
    assert.match(verify(pki.client.ec.certPath, ['-purpose', 'sslclient', ...crl]), /: OK/);
    assert.match(verify(pki.client.rsa.certPath, crl), /: OK/);
    assert.match(verify(pki.client.revoked.certPath, crl), /certificate revoked/);
    assert.match(verify(pki.client.expired.certPath), /certificate has expired/);
    assert.match(verify(pki.client.notYetValid.certPath), /certificate is not yet valid/);
    assert.match(verify(pki.server.expired.certPath), /certificate has expired/);
    assert.match(verify(pki.client.untrusted.certPath), /unable to get local issuer certificate/);
    assert.match(verify(pki.server.wrongSan.certPath, ['-verify_hostname', 'localhost']), /hostname mismatch/);
    assert.match(verify(pki.server.ec.certPath, ['-verify_hostname', 'localhost', '-verify_ip', '127.0.0.1']), /: OK/);
    assert.equal(new X509Certificate(pki.server.rsa.certPem).publicKey.asymmetricKeyType, 'rsa');
    assert.equal(readFileSync(pki.caBundlePath, 'utf8'), pki.root.certPem + pki.intermediate.certPem);
    assert.ok(createPrivateKey({ key: pki.server.encrypted.keyPem, passphrase: 'gatehouse' }));
    assert.equal(pki.server.ec.fullchainPem, pki.server.ec.certPem + pki.intermediate.certPem);
  });
});
