// Re-verification of an accepted client chain against changed material, on certificates, CAs and
// CRLs made by openssl at test time. Each verdict is also what OpenSSL says in a real handshake
// (server-context.test.ts checks those), so the two agree.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compileClientTrust, verifyClientChain } from '../src/client-trust.ts';
import { type CaHandle, createCa, issueCertificate, type LeafHandle, revoke, writeCrl } from '../src/dev-pki.ts';
import { DAY, expiredWindow } from './validity.ts';

describe('verifyClientChain', () => {
  let dir: string;
  let root: CaHandle;
  let inter: CaHandle;
  let other: CaHandle;
  let viaInter: LeafHandle;
  let direct: LeafHandle;
  let expired: LeafHandle;
  const x509 = (pem: string) => new X509Certificate(pem);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-client-trust-'));
    [root, other] = await Promise.all([createCa(dir, { name: 'root' }), createCa(dir, { name: 'other' })]);
    inter = await createCa(dir, { name: 'inter', parent: root });
    [viaInter, direct, expired] = await Promise.all([
      issueCertificate(inter, { name: 'via-inter', cn: 'via-inter', usage: 'client' }),
      issueCertificate(root, { name: 'direct', cn: 'direct', usage: 'client' }),
      issueCertificate(root, {
        name: 'old',
        cn: 'old',
        usage: 'client',
        ...expiredWindow(),
      }),
    ]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('open connections: accepts a chain to a CA of the bundle, through a presented or bundled intermediate', () => {
    const now = Date.now();
    const rootOnly = compileClientTrust(root.certPem, null);
    assert.equal(verifyClientChain(rootOnly, [x509(direct.certPem)], now), null);
    assert.equal(verifyClientChain(rootOnly, [x509(viaInter.certPem), x509(inter.certPem)], now), null);
    assert.equal(
      verifyClientChain(rootOnly, [x509(viaInter.certPem)], now),
      'UNABLE_TO_GET_ISSUER_CERT',
      'intermediate neither presented nor bundled',
    );
    const bundle = compileClientTrust(root.certPem + inter.certPem, null);
    assert.equal(verifyClientChain(bundle, [x509(viaInter.certPem)], now), null);
    assert.equal(verifyClientChain(bundle, [x509(expired.certPem)], now), 'CERT_HAS_EXPIRED');
  });

  it('open connections: a CA taken out of the bundle fails the chain, a self-signed stranger too', () => {
    const now = Date.now();
    const withoutRoot = compileClientTrust(other.certPem, null);
    assert.equal(verifyClientChain(withoutRoot, [x509(direct.certPem)], now), 'UNABLE_TO_GET_ISSUER_CERT');
    assert.equal(verifyClientChain(withoutRoot, [x509(root.certPem)], now), 'UNABLE_TO_GET_ISSUER_CERT');
    // An intermediate alone is no trust anchor (Node sets no partial-chain flag).
    const interOnly = compileClientTrust(inter.certPem, null);
    assert.equal(verifyClientChain(interOnly, [x509(viaInter.certPem)], now), 'UNABLE_TO_GET_ISSUER_CERT');
  });

  it('open connections: a CRL revokes a leaf, and a CRL missing for an issuer of the chain fails it', async () => {
    const now = Date.now();
    const victim = await issueCertificate(root, { name: 'victim', cn: 'victim', usage: 'client' });
    const before = await writeCrl(root);
    const crlInter = await writeCrl(inter);
    const trustBefore = compileClientTrust(root.certPem, before.crlPem + crlInter.crlPem);
    assert.equal(verifyClientChain(trustBefore, [x509(victim.certPem)], now), null);
    assert.equal(verifyClientChain(trustBefore, [x509(viaInter.certPem), x509(inter.certPem)], now), null);
    await revoke(root, victim);
    const afterRevoke = await writeCrl(root);
    const trustAfter = compileClientTrust(root.certPem, afterRevoke.crlPem + crlInter.crlPem);
    assert.equal(verifyClientChain(trustAfter, [x509(victim.certPem)], now), 'CERT_REVOKED');
    assert.equal(verifyClientChain(trustAfter, [x509(direct.certPem)], now), null, 'others still pass');
    const rootCrlOnly = compileClientTrust(root.certPem, afterRevoke.crlPem);
    assert.equal(
      verifyClientChain(rootCrlOnly, [x509(viaInter.certPem), x509(inter.certPem)], now),
      'UNABLE_TO_GET_CRL',
      'no CRL from the intermediate',
    );
    assert.equal(verifyClientChain(trustAfter, [x509(direct.certPem)], now + 400 * DAY), 'CERT_HAS_EXPIRED');
  });

  it('open connections: with the same bundle as at the handshake, a chain through an unseen intermediate is checked for revocation', async () => {
    // A resumed session carries the client's leaf alone: the intermediate it sent is not known.
    const now = Date.now();
    const victim = await issueCertificate(inter, { name: 'inter-victim', cn: 'inter-victim', usage: 'client' });
    const rootOnly = compileClientTrust(root.certPem, null);
    assert.equal(verifyClientChain(rootOnly, [x509(victim.certPem)], now), 'UNABLE_TO_GET_ISSUER_CERT');
    assert.equal(verifyClientChain(rootOnly, [x509(victim.certPem)], now, { anchorVerified: true }), null);
    assert.equal(
      verifyClientChain(rootOnly, [x509(victim.certPem)], now, { intermediates: [x509(inter.certPem)] }),
      null,
      'a CA of an earlier bundle completes the chain',
    );
    await revoke(inter, victim);
    const crls = (await writeCrl(inter)).crlPem + (await writeCrl(root)).crlPem;
    const revoked = compileClientTrust(root.certPem, crls);
    assert.equal(verifyClientChain(revoked, [x509(victim.certPem)], now, { anchorVerified: true }), 'CERT_REVOKED');
  });
});
