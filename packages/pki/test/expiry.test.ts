import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCa, issueCertificate } from '../src/dev-pki.ts';
import { certificateFacts, expiringWithin } from '../src/expiry.ts';
import { inspectCertificate } from '../src/inspect.ts';
import type { ResolvedMaterial } from '../src/types.ts';

const DAY = 86_400_000;

describe('certificate facts and expiry', () => {
  let dir: string;
  let material: ResolvedMaterial;
  const serials: Record<string, string> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-expiry-'));
    const ca = await createCa(dir, { name: 'ca', cn: 'Expiry CA', notAfter: new Date(Date.now() + 400 * DAY) });
    const [server, soon, client] = await Promise.all([
      issueCertificate(ca, { name: 's', cn: 'a.test', dns: ['a.test', 'b.test'], usage: 'server' }),
      issueCertificate(ca, {
        name: 'soon',
        cn: 'soon.test',
        usage: 'server',
        notAfter: new Date(Date.now() + 5.5 * DAY),
      }),
      issueCertificate(ca, {
        name: 'c',
        cn: 'gatehouse',
        usage: 'client',
        notAfter: new Date(Date.now() + 10.5 * DAY),
      }),
    ]);
    Object.assign(serials, { server: server.serial, soon: soon.serial, client: client.serial });
    const resolved = (pem: string, key: string) => {
      const info = inspectCertificate(pem);
      return { ...info, certPem: pem, keyPem: key, passphrase: null, isDefault: false, source: 'x' };
    };
    const upstream = {
      ca: ca.certPem,
      cert: client.certPem,
      key: client.keyPem,
      rejectUnauthorized: true,
      servername: null,
    };
    material = {
      certificates: [resolved(server.fullchainPem, server.keyPem), resolved(soon.certPem, soon.keyPem)],
      clientCA: ca.certPem,
      crl: null,
      upstreamTls: { one: { ...upstream, identity: 'same' }, two: { ...upstream, identity: 'same' } },
      redisTls: null,
    };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists every served and trusted certificate once, with role, serial and days left', () => {
    const facts = certificateFacts(material);
    assert.deepEqual(
      facts.map((f) => [
        f.role,
        f.name,
        f.serial === serials.server || f.serial === serials.soon || f.role !== 'server',
      ]),
      [
        ['server', 'a.test,b.test', true],
        ['server', 'soon.test', true],
        ['client-ca', 'Expiry CA', true],
        ['upstream-ca', 'Expiry CA', true],
        ['upstream-client', 'gatehouse', true],
      ],
    );
    const soon = facts[1]!;
    assert.equal(soon.daysLeft, 5);
    assert.equal(soon.notAfterSeconds, Math.floor(Date.parse(soon.notAfter) / 1000));
    assert.equal(facts[4]?.source, 'routes.one.security.tls.clientCert');
  });

  it('selects the ones expiring within the warning window, soonest first', () => {
    const facts = certificateFacts(material);
    assert.deepEqual(
      expiringWithin(facts, 14).map((f) => f.name),
      ['soon.test', 'gatehouse'],
    );
    assert.deepEqual(
      expiringWithin(facts, 7).map((f) => f.name),
      ['soon.test'],
    );
    assert.deepEqual(
      expiringWithin(certificateFacts(material, Date.now() + 60 * DAY), 1).map((f) => f.role),
      ['server', 'upstream-client', 'server'],
    );
  });
});
