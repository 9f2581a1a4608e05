import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { MaterialKind, MaterialRef } from '@gatehouse/config';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CaHandle, createCa, issueCertificate, type LeafHandle, writeCrl } from '../src/dev-pki.ts';
import { checkMaterialText, MATERIAL_MAX_BYTES, resolveMaterial } from '../src/material.ts';

function fileRef(kind: MaterialKind, path: string): MaterialRef {
  return {
    form: 'file',
    kind,
    path,
    pem: null,
    at: { file: '/etc/gatehouse/config.yaml', line: 7, col: 11, path: 'gateway.tls.certificates[0].cert' },
  };
}
function pemRef(kind: MaterialKind, pem: string, form: 'pem' | 'base64' = 'pem'): MaterialRef {
  return {
    form,
    kind,
    path: null,
    pem,
    at: { file: '/c.yaml', line: 3, col: 5, path: 'routes[0].security.tls.rootCAs' },
  };
}

describe('resolveMaterial', () => {
  let dir: string;
  let ca: CaHandle;
  let inter: CaHandle;
  let leaf: LeafHandle;
  let encrypted: LeafHandle;
  let crlPath: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-material-'));
    ca = await createCa(dir, { name: 'ca' });
    inter = await createCa(dir, { name: 'inter', parent: ca });
    [leaf, encrypted] = await Promise.all([
      issueCertificate(inter, { name: 'leaf', cn: 'a.test', dns: ['a.test'], usage: 'server' }),
      issueCertificate(inter, { name: 'enc', cn: 'b.test', usage: 'server', passphrase: 'pw', keyType: 'rsa' }),
    ]);
    crlPath = (await writeCrl(ca)).crlPath;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a certificate file and keeps the leaf and its intermediates in order', async () => {
    const result = await resolveMaterial(fileRef('certificate', leaf.fullchainPath));
    assert.ok(result.ok);
    assert.equal(result.pem, leaf.certPem + inter.certPem);
    assert.equal(result.origin, leaf.fullchainPath);
  });

  it('accepts every private key form, including encrypted and traditional EC/RSA', async () => {
    const pkcs8 = await resolveMaterial(fileRef('private-key', leaf.keyPath));
    assert.ok(pkcs8.ok);
    assert.match(pkcs8.pem, /^-----BEGIN PRIVATE KEY-----\n/);
    const enc = await resolveMaterial(fileRef('private-key', encrypted.keyPath));
    assert.ok(enc.ok);
    assert.match(enc.pem, /BEGIN ENCRYPTED PRIVATE KEY/);
    for (const label of ['EC PRIVATE KEY', 'RSA PRIVATE KEY']) {
      const text = `-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----\n`;
      assert.ok(checkMaterialText(pemRef('private-key', text), text).ok, label);
    }
  });

  it('takes the blocks of the wanted kind from a combined file', async () => {
    const combined = join(dir, 'combined.pem');
    writeFileSync(combined, `${leaf.keyPem}subject=junk text\n${leaf.fullchainPem}`);
    const cert = await resolveMaterial(fileRef('certificate', combined));
    const key = await resolveMaterial(fileRef('private-key', combined));
    assert.ok(cert.ok && key.ok);
    assert.equal(cert.pem, leaf.fullchainPem);
    assert.equal(key.pem, leaf.keyPem);
  });

  it('accepts a CA bundle of several CAs, and a CRL', async () => {
    const bundle = await resolveMaterial(pemRef('ca-bundle', ca.certPem + inter.certPem));
    assert.ok(bundle.ok);
    assert.equal(bundle.origin, '<inline pem at routes[0].security.tls.rootCAs>');
    assert.equal((bundle.pem.match(/BEGIN CERTIFICATE/g) ?? []).length, 2);
    const crl = await resolveMaterial(fileRef('crl', crlPath));
    assert.ok(crl.ok);
    assert.match(crl.pem, /^-----BEGIN X509 CRL-----/);
  });

  it('handles CRLF line endings', async () => {
    const crlf = leaf.certPem.replace(/\n/g, '\r\n');
    const result = checkMaterialText(pemRef('certificate', crlf), crlf);
    assert.ok(result.ok);
    assert.equal(result.pem, leaf.certPem);
  });

  it('reports a missing file with its position and code', async () => {
    const path = join(dir, 'nope.crt');
    const result = await resolveMaterial(fileRef('certificate', path));
    assert.ok(!result.ok);
    assert.deepEqual(
      { ...result.diagnostic, message: undefined, hint: undefined },
      {
        severity: 'error',
        file: '/etc/gatehouse/config.yaml',
        line: 7,
        col: 11,
        path: 'gateway.tls.certificates[0].cert',
        code: 'GH_MATERIAL_MISSING',
        message: undefined,
        hint: undefined,
      },
    );
    assert.match(
      result.diagnostic.message,
      /cannot read .*nope\.crt \(gateway\.tls\.certificates\[0\]\.cert\): no such file/,
    );
    assert.ok(result.diagnostic.hint);
  });

  it('reports a directory and an unreadable file as GH_MATERIAL_UNREADABLE', async (t) => {
    const sub = join(dir, 'sub');
    mkdirSync(sub, { recursive: true });
    const isDir = await resolveMaterial(fileRef('certificate', sub));
    assert.ok(!isDir.ok);
    assert.equal(isDir.diagnostic.code, 'GH_MATERIAL_UNREADABLE');
    assert.match(isDir.diagnostic.message, /cannot read .*sub .*: is a directory/);
    if (process.getuid?.() === 0) {
      t.diagnostic('running as root: file permissions are not enforced, skipping the EACCES case');
      return;
    }
    const locked = join(dir, 'locked.key');
    writeFileSync(locked, leaf.keyPem);
    chmodSync(locked, 0o000);
    const result = await resolveMaterial(fileRef('private-key', locked));
    assert.ok(!result.ok);
    assert.equal(result.diagnostic.code, 'GH_MATERIAL_UNREADABLE');
    assert.match(result.diagnostic.message, /cannot read .*locked\.key .*: permission denied \(EACCES\)/);
  });

  it('reports empty, non-PEM (DER) and truncated files', async () => {
    const empty = join(dir, 'empty.crt');
    writeFileSync(empty, '');
    const der = join(dir, 'leaf.der');
    writeFileSync(der, Buffer.from(leaf.certPem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
    const half = join(dir, 'half.crt');
    writeFileSync(half, leaf.certPem.slice(0, 200));
    const [e, d, h] = await Promise.all([
      resolveMaterial(fileRef('certificate', empty)),
      resolveMaterial(fileRef('certificate', der)),
      resolveMaterial(fileRef('certificate', half)),
    ]);
    assert.ok(!e.ok && !d.ok && !h.ok);
    assert.equal(e.diagnostic.code, 'GH_MATERIAL_EMPTY');
    assert.match(e.diagnostic.message, /empty\.crt is empty/);
    assert.equal(d.diagnostic.code, 'GH_MATERIAL_NOT_PEM');
    assert.match(d.diagnostic.hint ?? '', /openssl x509 -inform der/);
    assert.equal(h.diagnostic.code, 'GH_MATERIAL_TRUNCATED');
  });

  it('reports the wrong kind with a hint when cert and key are swapped', async () => {
    const swapped = await resolveMaterial(fileRef('certificate', leaf.keyPath));
    assert.ok(!swapped.ok);
    assert.equal(swapped.diagnostic.code, 'GH_MATERIAL_WRONG_KIND');
    assert.match(
      swapped.diagnostic.message,
      /holds PRIVATE KEY but gateway\.tls\.certificates\[0\]\.cert expects a certificate/,
    );
    assert.match(swapped.diagnostic.hint ?? '', /swap cert and key/);
    const keyGotCert = await resolveMaterial(fileRef('private-key', leaf.certPath));
    assert.ok(!keyGotCert.ok);
    assert.equal(keyGotCert.diagnostic.code, 'GH_MATERIAL_WRONG_KIND');
    const crlGotCert = await resolveMaterial(fileRef('crl', ca.certPath));
    assert.ok(!crlGotCert.ok);
    assert.equal(crlGotCert.diagnostic.code, 'GH_MATERIAL_WRONG_KIND');
  });

  it('rejects a file holding two private keys', () => {
    const text = leaf.keyPem + readFileSync(inter.keyPath, 'utf8');
    const result = checkMaterialText(pemRef('private-key', text), text);
    assert.ok(!result.ok);
    assert.equal(result.diagnostic.code, 'GH_MATERIAL_MULTIPLE_KEYS');
  });

  it('explains a base64 value that does not decode to PEM', () => {
    const result = checkMaterialText(pemRef('certificate', '\u0000garbage', 'base64'), '\u0000garbage');
    assert.ok(!result.ok);
    assert.equal(result.diagnostic.code, 'GH_MATERIAL_NOT_PEM');
    assert.match(result.diagnostic.hint ?? '', /base64/);
  });
  it('refuses a FIFO, a device and an oversized file without blocking or reading them whole', async () => {
    const fifo = join(dir, 'fifo.pem');
    execFileSync('mkfifo', [fifo]);
    const big = join(dir, 'big.pem');
    writeFileSync(big, Buffer.alloc(MATERIAL_MAX_BYTES + 1, 0x41));
    const [f, z, b] = await Promise.all([
      resolveMaterial(fileRef('certificate', fifo)),
      resolveMaterial(fileRef('certificate', '/dev/zero')),
      resolveMaterial(fileRef('certificate', big)),
    ]);
    assert.ok(!f.ok && !z.ok && !b.ok);
    assert.equal(f.diagnostic.code, 'GH_MATERIAL_UNREADABLE');
    assert.match(f.diagnostic.message, /not a regular file/);
    assert.match(z.diagnostic.message, /not a regular file/);
    assert.match(b.diagnostic.message, /more than certificate material can be/);
  });
});
