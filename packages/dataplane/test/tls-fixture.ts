// Real certificates (openssl via @gatehouse/pki's dev PKI) and a real parsed config for the TLS unit
// tests: nothing here stands in for a Gatehouse component.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '@gatehouse/config';
import {
  type CaHandle,
  createCa,
  serverCertificateRecord,
  issueCertificate,
  type LeafHandle,
  type ResolvedServerCertificate,
  revoke,
  writeCrl,
} from '@gatehouse/pki';
import type { Snapshot } from '../src/messages.ts';
import { SniStore } from '../src/tls/sni-store.ts';

export interface TlsFixture {
  dir: string;
  root: CaHandle;
  inter: CaHandle;
  other: CaHandle;
  servers: { ec: LeafHandle; rsa: LeafHandle; wild: LeafHandle; fallback: LeafHandle };
  clients: {
    good: LeafHandle;
    admin: LeafHandle;
    expired: LeafHandle;
    future: LeafHandle;
    stranger: LeafHandle;
    revoked: LeafHandle;
  };
  crlPem: string;
}

export async function makeTlsFixture(): Promise<TlsFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-tls-'));
  const root = await createCa(dir, { name: 'root' });
  const inter = await createCa(dir, { name: 'inter', parent: root });
  const other = await createCa(dir, { name: 'other' });
  const day = 86_400_000;
  const now = Date.now();
  const [fallback, ec, rsa, wild] = await Promise.all([
    issueCertificate(inter, {
      name: 'fallback',
      cn: 'default.test',
      dns: ['default.test'],
      usage: 'server',
      keyType: 'ec',
    }),
    issueCertificate(inter, { name: 'ec', cn: 'ec.test', dns: ['ec.test'], usage: 'server', keyType: 'ec' }),
    issueCertificate(inter, {
      name: 'rsa',
      cn: 'rsa.test',
      dns: ['rsa.test', 'strict.test', 'open.test'],
      usage: 'server',
      keyType: 'rsa',
    }),
    issueCertificate(inter, { name: 'wild', cn: 'wild', dns: ['*.wild.test'], usage: 'server', keyType: 'rsa' }),
  ]);
  const [good, admin, expired, future, revoked] = await Promise.all([
    issueCertificate(inter, {
      name: 'good',
      cn: 'good-client',
      dns: ['good.clients.test'],
      uris: ['spiffe://test/good'],
      usage: 'client',
    }),
    issueCertificate(inter, {
      name: 'admin',
      cn: 'admin',
      dns: ['admin.clients.test'],
      usage: 'client',
      keyType: 'rsa',
    }),
    issueCertificate(inter, {
      name: 'expired',
      cn: 'expired',
      usage: 'client',
      notBefore: new Date(now - 10 * day),
      notAfter: new Date(now - day),
    }),
    issueCertificate(inter, {
      name: 'future',
      cn: 'future',
      usage: 'client',
      notBefore: new Date(now + day),
      notAfter: new Date(now + 10 * day),
    }),
    issueCertificate(inter, { name: 'revoked', cn: 'revoked', usage: 'client' }),
  ]);
  const stranger = await issueCertificate(other, { name: 'stranger', cn: 'good-client', usage: 'client' });
  await revoke(inter, revoked);
  // CRL checking covers the whole chain, so every CA in it publishes a CRL.
  const crlPem = (await writeCrl(inter)).crlPem + (await writeCrl(root)).crlPem;
  return {
    dir,
    root,
    inter,
    other,
    servers: { ec, rsa, wild, fallback },
    clients: { good, admin, expired, future, stranger, revoked },
    crlPem,
  };
}

export function resolved(leaf: LeafHandle, isDefault = false): ResolvedServerCertificate {
  const material = {
    certPem: leaf.fullchainPem,
    keyPem: leaf.keyPem,
    passphrase: leaf.passphrase,
    source: leaf.certPath,
  };
  return serverCertificateRecord(material, isDefault);
}

/** Parses `yaml` with the real config parser and wraps it in a snapshot with these certificates. */
export function snapshotOf(
  yaml: string,
  fx: TlsFixture,
  certificates: ResolvedServerCertificate[],
  tls: { clientCA?: boolean; crl?: boolean } = {},
): Snapshot {
  const result = parseConfig(yaml, join(fx.dir, 'gatehouse.yaml'), {});
  if (!result.ok) throw new Error(`config: ${JSON.stringify(result.errors, null, 2)}`);
  return {
    generation: 1,
    config: result.config,
    tls: {
      certificates,
      clientCA: tls.clientCA === false ? null : fx.root.certPem,
      crl: tls.crl === false ? null : fx.crlPem,
      ticketKeys: randomBytes(48).toString('base64'),
    },
    upstreamTls: {},
    redisTls: null,
    health: {},
  };
}

/** The SNI store of `snapshotOf(...)`, sealing tickets with the snapshot's own keys. */
export function storeOf(
  yaml: string,
  fx: TlsFixture,
  certificates: ResolvedServerCertificate[],
  tls: { clientCA?: boolean; crl?: boolean } = {},
): SniStore {
  const snap = snapshotOf(yaml, fx, certificates, tls);
  return SniStore.build(snap, Buffer.from(snap.tls.ticketKeys, 'base64'));
}
