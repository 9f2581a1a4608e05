import assert from 'node:assert/strict';
import type { SourcePos } from '@gatehouse/config';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CaHandle, createCa, issueCertificate, type LeafHandle, revoke, writeCrl } from '../src/dev-pki.ts';
import {
  canonicalHost,
  checkCaBundle,
  checkChain,
  checkCrl,
  checkExpirySoon,
  checkHostCoverage,
  checkKeyMatchesCertificate,
  checkPurpose,
  checkValidityWindow,
  openPrivateKey,
  parseCertificates,
} from '../src/preflight.ts';
import { splitCrls } from '../src/inspect.ts';

const at: SourcePos = { file: '/etc/gh.yaml', line: 4, col: 9, path: 'gateway.tls.certificates[0].cert' };
const DAY = 86_400_000;
const chainOf = (pem: string) => {
  const parsed = parseCertificates(pem, 'f.pem', at);
  assert.ok(parsed.ok);
  return parsed.value;
};

describe('preflight checks', () => {
  let dir: string;
  let root: CaHandle;
  let inter: CaHandle;
  let otherRoot: CaHandle;
  let otherInter: CaHandle;
  let leaf: LeafHandle;
  let rootLeaf: LeafHandle;
  let rsaLeaf: LeafHandle;
  let encrypted: LeafHandle;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-preflight-'));
    [root, otherRoot] = await Promise.all([
      createCa(dir, { name: 'root' }),
      createCa(dir, { name: 'other-root', keyType: 'rsa' }),
    ]);
    [inter, otherInter] = await Promise.all([
      createCa(dir, { name: 'inter', parent: root }),
      createCa(dir, { name: 'other-inter', parent: otherRoot }),
    ]);
    [leaf, rootLeaf, rsaLeaf, encrypted] = await Promise.all([
      issueCertificate(inter, { name: 'leaf', cn: 'a.test', dns: ['a.test'], usage: 'server' }),
      issueCertificate(root, { name: 'root-leaf', cn: 'b.test', dns: ['b.test'], usage: 'server' }),
      issueCertificate(otherInter, { name: 'rsa', cn: 'c.test', dns: ['c.test'], usage: 'server', keyType: 'rsa' }),
      issueCertificate(root, { name: 'enc', cn: 'd.test', dns: ['d.test'], usage: 'server', passphrase: 's3cret' }),
    ]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('key and certificate', () => {
    it('accepts the matching key, ECDSA and RSA', () => {
      for (const l of [leaf, rsaLeaf]) {
        const key = openPrivateKey(l.keyPem, null, l.keyPath, at);
        assert.ok(key.ok);
        assert.equal(checkKeyMatchesCertificate(new X509Certificate(l.certPem), key.value, 'c', 'k', at), null);
      }
    });

    it('rejects a key of another certificate, naming both files', () => {
      const d = checkKeyMatchesCertificate(
        new X509Certificate(leaf.certPem),
        createPrivateKey(rootLeaf.keyPem),
        leaf.certPath,
        rootLeaf.keyPath,
        at,
      );
      assert.equal(d?.code, 'GH_CERT_KEY_MISMATCH');
      assert.equal(d?.severity, 'error');
      assert.equal(d?.line, 4);
      assert.ok(d?.message.includes(leaf.certPath) && d.message.includes(rootLeaf.keyPath));
      assert.ok(d?.message.includes(leaf.serial));
      // An RSA key against an ECDSA certificate is a mismatch too, not a crash.
      const cross = checkKeyMatchesCertificate(
        new X509Certificate(leaf.certPem),
        createPrivateKey(rsaLeaf.keyPem),
        'c',
        'k',
        at,
      );
      assert.equal(cross?.code, 'GH_CERT_KEY_MISMATCH');
    });

    it('opens an encrypted key with its passphrase and explains a missing or wrong one', () => {
      const opened = openPrivateKey(encrypted.keyPem, 's3cret', 'enc.key', at);
      assert.ok(opened.ok);
      assert.equal(
        checkKeyMatchesCertificate(new X509Certificate(encrypted.certPem), opened.value, 'c', 'k', at),
        null,
      );
      const missing = openPrivateKey(encrypted.keyPem, null, 'enc.key', at);
      assert.ok(!missing.ok);
      assert.equal(missing.diagnostic.code, 'GH_CERT_KEY_PASSPHRASE');
      assert.match(missing.diagnostic.message, /encrypted private key and no passphrase/);
      const wrong = openPrivateKey(encrypted.keyPem, 'nope', 'enc.key', at);
      assert.ok(!wrong.ok);
      assert.equal(wrong.diagnostic.code, 'GH_CERT_KEY_PASSPHRASE');
      assert.match(wrong.diagnostic.message, /cannot be decrypted/);
    });

    it('reports a damaged key as unparsable', () => {
      const damaged = openPrivateKey(
        '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
        null,
        'x.key',
        at,
      );
      assert.ok(!damaged.ok);
      assert.equal(damaged.diagnostic.code, 'GH_MATERIAL_UNPARSABLE');
    });
  });

  describe('purpose', () => {
    it('refuses a client certificate as a server certificate, warns for the reverse upstream', async () => {
      const client = await issueCertificate(root, { name: 'purpose-client', cn: 'c', usage: 'client' });
      const both = await issueCertificate(root, { name: 'purpose-both', cn: 'b', usage: 'both' });
      const asServer = checkPurpose(new X509Certificate(client.certPem), 'server', 'c.crt', at);
      assert.equal(asServer?.code, 'GH_CERT_WRONG_PURPOSE');
      assert.equal(asServer?.severity, 'error');
      assert.match(asServer?.message ?? '', /extendedKeyUsage is clientAuth, without serverAuth/);
      const asClient = checkPurpose(new X509Certificate(leaf.certPem), 'client', 'l.crt', at);
      assert.equal(asClient?.severity, 'warning');
      assert.equal(checkPurpose(new X509Certificate(both.certPem), 'server', 'b', at), null);
      assert.equal(checkPurpose(new X509Certificate(both.certPem), 'client', 'b', at), null);
      assert.equal(checkPurpose(new X509Certificate(root.certPem), 'server', 'no EKU at all', at), null);
    });
  });

  describe('validity', () => {
    it('rejects expired and not-yet-valid certificates, warns before expiry', async () => {
      const [expired, future, soon] = await Promise.all([
        issueCertificate(root, {
          name: 'expired',
          cn: 'e.test',
          usage: 'server',
          notBefore: new Date(Date.now() - 30 * DAY),
          notAfter: new Date(Date.now() - DAY),
        }),
        issueCertificate(root, {
          name: 'future',
          cn: 'f.test',
          usage: 'server',
          notBefore: new Date(Date.now() + DAY),
          notAfter: new Date(Date.now() + 30 * DAY),
        }),
        issueCertificate(root, {
          name: 'soon',
          cn: 's.test',
          usage: 'server',
          notAfter: new Date(Date.now() + 3.5 * DAY),
        }),
      ]);
      const now = Date.now();
      assert.equal(
        checkValidityWindow(new X509Certificate(expired.certPem), now, 'e.crt', at)?.code,
        'GH_CERT_EXPIRED',
      );
      assert.equal(
        checkValidityWindow(new X509Certificate(future.certPem), now, 'f.crt', at)?.code,
        'GH_CERT_NOT_YET_VALID',
      );
      assert.equal(checkValidityWindow(new X509Certificate(soon.certPem), now, 's.crt', at), null);
      const warn = checkExpirySoon(new X509Certificate(soon.certPem), now, 14, 's.crt', at);
      assert.equal(warn?.code, 'GH_CERT_EXPIRES_SOON');
      assert.equal(warn?.severity, 'warning');
      assert.match(warn?.message ?? '', /expires in 3 days/);
      assert.equal(checkExpirySoon(new X509Certificate(soon.certPem), now, 3, 's.crt', at), null);
      assert.equal(checkExpirySoon(new X509Certificate(leaf.certPem), now, 14, 'l.crt', at), null);
      // `now` is a parameter: the same certificate is expired tomorrow-plus-a-month.
      assert.equal(
        checkValidityWindow(new X509Certificate(leaf.certPem), now + 40 * DAY, 'l.crt', at)?.code,
        'GH_CERT_EXPIRED',
      );
    });
  });

  describe('chain', () => {
    it('accepts leaf + intermediate, leaf + intermediate + root, and a root-issued leaf alone', () => {
      assert.equal(checkChain(chainOf(leaf.fullchainPem), 'f', at), null);
      assert.equal(checkChain(chainOf(leaf.fullchainPem + root.certPem), 'f', at), null);
      assert.equal(checkChain(chainOf(rootLeaf.certPem), 'f', at), null);
    });

    it('reports a missing intermediate', () => {
      const d = checkChain(chainOf(leaf.certPem), leaf.certPath, at);
      assert.equal(d?.code, 'GH_CERT_CHAIN_INCOMPLETE');
      assert.match(d?.message ?? '', /Gatehouse Dev inter.*not in the file/);
      assert.match(d?.hint ?? '', /fullchain/);
    });

    it('reports an intermediate that did not issue the leaf', () => {
      const d = checkChain(chainOf(leaf.certPem + otherInter.certPem), 'f.pem', at);
      assert.equal(d?.code, 'GH_CERT_CHAIN_INCOMPLETE');
      assert.match(d?.message ?? '', /certificate #2 .* did not issue #1/);
    });

    it('reports a chain out of order', () => {
      const d = checkChain(chainOf(leaf.certPem + root.certPem + inter.certPem), 'f.pem', at);
      assert.equal(d?.code, 'GH_CERT_CHAIN_ORDER');
    });

    it('refuses a damaged certificate block', () => {
      const damaged = parseCertificates(
        `${leaf.certPem}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`,
        'f',
        at,
      );
      assert.ok(!damaged.ok);
      assert.equal(damaged.diagnostic.code, 'GH_MATERIAL_UNPARSABLE');
      assert.match(damaged.diagnostic.message, /certificate #2/);
    });
  });

  describe('CA bundles and CRLs', () => {
    it('accepts a bundle of several CAs and warns about a leaf given as a CA', () => {
      const good = checkCaBundle(root.certPem + otherRoot.certPem + inter.certPem, 'ca.pem', at, Date.now());
      assert.equal(good.certs.length, 3);
      assert.deepEqual(good.errors, []);
      assert.deepEqual(good.warnings, []);
      const leafAsCa = checkCaBundle(root.certPem + leaf.certPem, 'ca.pem', at, Date.now());
      assert.deepEqual(
        leafAsCa.warnings.map((w) => w.code),
        ['GH_CERT_NOT_CA'],
      );
      assert.match(leafAsCa.warnings[0]?.message ?? '', /ca\.pem #2/);
    });

    it('warns about an expired CA', async () => {
      const old = await createCa(dir, {
        name: 'old-ca',
        notBefore: new Date(Date.now() - 20 * DAY),
        notAfter: new Date(Date.now() - DAY),
      });
      const checked = checkCaBundle(old.certPem, 'old.pem', at, Date.now());
      assert.deepEqual(
        checked.warnings.map((w) => w.code),
        ['GH_CERT_EXPIRED'],
      );
    });

    it('loads CRLs, several in one file, and rejects a damaged one', async () => {
      const victim = await issueCertificate(root, { name: 'victim', cn: 'v', usage: 'client' });
      await revoke(root, victim);
      const [a, b] = await Promise.all([writeCrl(root), writeCrl(otherRoot)]);
      assert.equal(checkCrl(a.crlPem, 'crl.pem', at), null);
      assert.equal(splitCrls(a.crlPem + b.crlPem).length, 2);
      assert.equal(checkCrl(a.crlPem + b.crlPem, 'crl.pem', at), null);
      const damaged = checkCrl('-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n', 'crl.pem', at);
      assert.equal(damaged?.code, 'GH_MATERIAL_UNPARSABLE');
    });
  });

  describe('host coverage', () => {
    const routeAt: SourcePos = { file: '/etc/gh.yaml', line: 20, col: 5, path: 'routes[2]' };
    it('warns for each host no certificate covers, with its key path', () => {
      const coverage = ['a.test', '*.svc.test', '127.0.0.1', canonicalHost('0:0:0:0:0:0:0:1')];
      const warnings = checkHostCoverage(
        ['a.test:8443', 'x.svc.test', 'deep.x.svc.test', 'b.test', '[::1]', '127.0.0.1', '*.svc.test', '*.other.test'],
        coverage,
        routeAt,
      );
      assert.deepEqual(
        warnings.map((w) => [w.path, w.severity, w.code]),
        [
          ['routes[2].hosts[2]', 'warning', 'GH_CERT_SAN_MISMATCH'],
          ['routes[2].hosts[3]', 'warning', 'GH_CERT_SAN_MISMATCH'],
          ['routes[2].hosts[7]', 'warning', 'GH_CERT_SAN_MISMATCH'],
        ],
      );
      assert.match(warnings[1]?.message ?? '', /"b\.test"/);
      assert.deepEqual(checkHostCoverage([], coverage, routeAt), []);
    });
  });
});
