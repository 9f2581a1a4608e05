import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CaHandle, createCa, issueCertificate } from '../src/dev-pki.ts';
import {
  certificateBlocks,
  countPemBegins,
  daysLeft,
  inspectCertificate,
  parseSubjectAltName,
  splitPemBlocks,
} from '../src/inspect.ts';
import { certificateNameCovers, hostWithoutPort, namesCover } from '../src/name-match.ts';

describe('splitPemBlocks', () => {
  it('finds every complete block with its label and ignores text around them', () => {
    const text =
      'Bag Attributes\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\nsubject=x\r\n' +
      '-----BEGIN EC PRIVATE KEY-----\r\nBBBB\r\n-----END EC PRIVATE KEY-----\r\n-----BEGIN X509 CRL-----\nCC';
    const blocks = splitPemBlocks(text);
    assert.deepEqual(
      blocks.map((b) => b.label),
      ['CERTIFICATE', 'EC PRIVATE KEY'],
    );
    assert.equal(blocks[1]?.pem, '-----BEGIN EC PRIVATE KEY-----\nBBBB\n-----END EC PRIVATE KEY-----\n');
    assert.equal(countPemBegins(text), 3, 'the unterminated CRL counts as begun');
    assert.deepEqual(certificateBlocks(text), ['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n']);
  });

  it('does not pair a BEGIN with an END of another label', () => {
    assert.deepEqual(splitPemBlocks('-----BEGIN CERTIFICATE-----\nAA\n-----END X509 CRL-----\n'), []);
  });
});

describe('parseSubjectAltName', () => {
  it('splits Node’s format, including quoted values holding commas', () => {
    assert.deepEqual(parseSubjectAltName('DNS:a.test, IP Address:127.0.0.1, URI:"spiffe://x/a,b", DNS:b.test'), [
      ['DNS', 'a.test'],
      ['IP Address', '127.0.0.1'],
      ['URI', 'spiffe://x/a,b'],
      ['DNS', 'b.test'],
    ]);
    assert.deepEqual(parseSubjectAltName(undefined), []);
  });
});

describe('inspectCertificate', () => {
  let dir: string;
  let root: CaHandle;
  let inter: CaHandle;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-inspect-'));
    root = await createCa(dir, { name: 'root', cn: 'Inspect Root' });
    inter = await createCa(dir, { name: 'inter', cn: 'Inspect Inter', parent: root, keyType: 'rsa' });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reports subject, issuer, serial, fingerprint, dates, SANs and key type', async () => {
    const leaf = await issueCertificate(inter, {
      name: 'full',
      cn: 'Ignored.Example',
      dns: ['API.Example.test', '*.svc.test', 'api.example.test'],
      ips: ['10.0.0.1', '::1'],
      uris: ['spiffe://gatehouse/api'],
      usage: 'server',
    });
    const info = inspectCertificate(leaf.fullchainPem);
    assert.equal(info.subject, 'O=Gatehouse Dev, CN=Ignored.Example');
    assert.equal(info.issuer, 'O=Gatehouse Dev, CN=Inspect Inter');
    assert.equal(info.commonName, 'Ignored.Example');
    assert.equal(info.serial, leaf.serial);
    assert.match(info.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.deepEqual(info.dnsNames, ['API.Example.test', '*.svc.test', 'api.example.test']);
    assert.deepEqual(info.names, ['api.example.test', '*.svc.test'], 'lower-cased, once each, CN ignored');
    assert.deepEqual(info.ipAddresses, ['10.0.0.1', '0:0:0:0:0:0:0:1']);
    assert.deepEqual(info.uris, ['spiffe://gatehouse/api']);
    assert.equal(info.keyType, 'ec');
    assert.equal(info.isCA, false);
    assert.ok(Date.parse(info.notBefore) < Date.now() && Date.parse(info.notAfter) > Date.now());
    assert.equal(inspectCertificate(inter.certPem).keyType, 'rsa');
    assert.equal(inspectCertificate(inter.certPem).isCA, true);
  });

  it('uses the CN as the name only when there is no SAN at all', async () => {
    const cnOnly = await issueCertificate(root, { name: 'cn-only', cn: 'Legacy.Test', usage: 'server' });
    assert.deepEqual(inspectCertificate(cnOnly.certPem).names, ['legacy.test']);
    const ipOnly = await issueCertificate(root, {
      name: 'ip-only',
      cn: 'not-a-name',
      ips: ['127.0.0.1'],
      usage: 'server',
    });
    assert.deepEqual(inspectCertificate(ipOnly.certPem).names, [], 'a SAN is present, so the CN does not count');
  });

  it('throws a coded error on garbage', () => {
    assert.throws(() => inspectCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), {
      code: 'GH_CERT_PARSE',
    });
  });

  it('counts days left, negative once expired', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(daysLeft('2026-01-15T12:00:00Z', now), 14);
    assert.equal(daysLeft('2025-12-31T00:00:00Z', now), -1);
  });
});

describe('certificate name matching', () => {
  it('matches exact names and one-label wildcards only', () => {
    assert.ok(certificateNameCovers('api.test', 'API.test'));
    assert.ok(certificateNameCovers('*.test', 'api.test'));
    assert.ok(!certificateNameCovers('*.test', 'a.b.test'));
    assert.ok(!certificateNameCovers('*.api.test', 'api.test'));
    assert.ok(certificateNameCovers('*.api.test', '*.api.test'));
    assert.ok(!certificateNameCovers('*.test', '*.a.test'));
    assert.ok(!certificateNameCovers('api.test', '*.test'));
    assert.ok(namesCover(['x.test', '*.svc.test'], 'a.svc.test'));
  });

  it('strips ports and IPv6 brackets from hosts', () => {
    assert.equal(hostWithoutPort('API.test:8443'), 'api.test');
    assert.equal(hostWithoutPort('[::1]:8443'), '::1');
    assert.equal(hostWithoutPort('::1'), '::1');
    assert.equal(hostWithoutPort('api.test'), 'api.test');
  });
});
