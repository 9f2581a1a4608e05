import assert from 'node:assert/strict';
import type { SourcePos } from '@gatehouse/config';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { certificateSubjectDer, parseCrl, parseCrls } from '../src/crl.ts';
import { type CaHandle, createCa, issueCertificate, revoke, writeCrl } from '../src/dev-pki.ts';
import { checkCrlCoverage } from '../src/preflight.ts';

const at: SourcePos = { file: '/gh.yaml', line: 9, col: 12, path: 'gateway.tls.clientAuth.crl' };
const DAY = 86_400_000;

describe('CRL reading and coverage', () => {
  let dir: string;
  let a: CaHandle;
  let b: CaHandle;
  let inter: CaHandle;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-crl-'));
    [a, b] = await Promise.all([createCa(dir, { name: 'a' }), createCa(dir, { name: 'b', keyType: 'rsa' })]);
    inter = await createCa(dir, { name: 'inter', parent: a });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads issuer, update times and exactly the revoked serials', async () => {
    const [x, y, z] = await Promise.all([
      issueCertificate(a, { name: 'x', cn: 'x', usage: 'client' }),
      issueCertificate(a, { name: 'y', cn: 'y', usage: 'client' }),
      issueCertificate(a, { name: 'z', cn: 'z', usage: 'client' }),
    ]);
    assert.deepEqual(parseCrl((await writeCrl(a)).crlPem).revokedSerials, []);
    await revoke(a, x);
    await revoke(a, z);
    const info = parseCrl((await writeCrl(a)).crlPem);
    assert.deepEqual(info.revokedSerials.sort(), [x.serial, z.serial].sort());
    assert.ok(!info.revokedSerials.includes(y.serial));
    assert.ok(info.issuerDer.equals(certificateSubjectDer(new X509Certificate(a.certPem))));
    assert.ok(!info.issuerDer.equals(certificateSubjectDer(new X509Certificate(b.certPem))));
    assert.ok(Math.abs(info.thisUpdate.getTime() - Date.now()) < 120_000);
    assert.ok(Math.abs((info.nextUpdate?.getTime() ?? 0) - (Date.now() + 30 * DAY)) < 120_000);
  });

  it('reads a certificate’s subject DER, also of an intermediate and an RSA CA', () => {
    const interCert = new X509Certificate(inter.certPem);
    const subject = certificateSubjectDer(interCert);
    assert.equal(subject[0], 0x30);
    assert.ok(subject.toString('latin1').includes('Gatehouse Dev inter'));
    assert.ok(certificateSubjectDer(new X509Certificate(b.certPem)).toString('latin1').includes('Gatehouse Dev b'));
  });

  it('throws a coded error on a damaged CRL', () => {
    assert.throws(() => parseCrl('-----BEGIN X509 CRL-----\nMAMCAQA=\n-----END X509 CRL-----\n'), {
      code: 'GH_CRL_PARSE',
    });
    assert.throws(() => parseCrl('nothing'), { code: 'GH_CRL_PARSE' });
  });

  it('warns for a client CA without a CRL and for an expired CRL, not for an intermediate’s CRL', async () => {
    const [crlA, crlB, crlInter] = await Promise.all([writeCrl(a), writeCrl(b), writeCrl(inter)]);
    const cas = [a, b].map((c) => new X509Certificate(c.certPem));
    assert.deepEqual(checkCrlCoverage(crlA.crlPem + crlB.crlPem + crlInter.crlPem, cas, 'crl.pem', at, Date.now()), []);
    assert.equal(parseCrls(crlA.crlPem + crlB.crlPem).length, 2);
    const onlyA = checkCrlCoverage(crlA.crlPem + crlInter.crlPem, cas, 'crl.pem', at, Date.now());
    assert.deepEqual(
      onlyA.map((d) => [d.code, d.severity]),
      [['GH_CRL_MISSING_FOR_CA', 'warning']],
    );
    assert.match(onlyA[0]?.message ?? '', /Gatehouse Dev b/);
    const later = checkCrlCoverage(crlA.crlPem + crlInter.crlPem, cas, 'crl.pem', at, Date.now() + 31 * DAY);
    assert.deepEqual(
      later.map((d) => d.code),
      ['GH_CRL_MISSING_FOR_CA', 'GH_CRL_EXPIRED', 'GH_CRL_EXPIRED'],
    );
    assert.match(later[2]?.message ?? '', /outside clientCA/);
  });
});
