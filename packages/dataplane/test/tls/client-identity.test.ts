import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { type CaHandle, createCa, issueCertificate, type LeafHandle } from '@gatehouse/pki';
import {
  applyClientIdentity,
  compileClientIdentity,
  formatXfcc,
  identityOf,
  type PeerIdentity,
  peerIdentity,
  rfc4514,
} from '../../src/tls/client-identity.ts';

const dir = mkdtempSync(join(tmpdir(), 'gh-identity-'));
let ca: CaHandle;
let other: CaHandle;
let server: LeafHandle;
let client: LeafHandle;
let stranger: LeafHandle;

before(async () => {
  ca = await createCa(dir, { name: 'root' });
  other = await createCa(dir, { name: 'other' });
  server = await issueCertificate(ca, {
    name: 'server',
    cn: 'localhost',
    dns: ['localhost'],
    uris: ['spiffe://gw/gatehouse'],
    usage: 'server',
  });
  client = await issueCertificate(ca, {
    name: 'client',
    cn: 'svc, "a"',
    dns: ['client.internal', 'alt.internal'],
    uris: ['spiffe://example.org/ns/a;b'],
    usage: 'client',
  });
  stranger = await issueCertificate(other, { name: 'stranger', cn: 'stranger', usage: 'client' });
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('XFCC format', () => {
  it('prints Hash, quoted Subject, URI and every DNS in Envoy style', () => {
    const id = identityOf(new X509Certificate(client.certPem));
    assert.match(id.hash, /^[0-9a-f]{64}$/);
    assert.equal(id.subject, 'CN=svc\\, \\"a\\",O=Gatehouse Dev');
    assert.deepEqual(id.dns, ['client.internal', 'alt.internal']);
    const value = formatXfcc(id, ['Hash', 'Subject', 'URI', 'DNS']);
    assert.equal(
      value,
      `Hash=${id.hash};Subject="${id.subject.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}";URI="spiffe://example.org/ns/a;b";DNS=client.internal;DNS=alt.internal`,
    );
    assert.equal(formatXfcc(id, ['Hash']), `Hash=${id.hash}`);
    assert.match(formatXfcc(id, ['Cert']), /^Cert="-----BEGIN%20CERTIFICATE-----%0A/);
  });

  it('orders a DN most-specific first with RFC 4514 escaping', () => {
    assert.equal(rfc4514('C=DE\nO=Acme\\, Inc\nCN=x'), 'CN=x,O=Acme\\, Inc,C=DE');
    assert.equal(rfc4514('CN=only\n'), 'CN=only');
  });

  it('compiles per route: off, default header and fields, custom header', () => {
    assert.equal(compileClientIdentity({ clientIdentity: null }).header, null);
    const d = compileClientIdentity({ clientIdentity: { header: 'X-Client-Identity', fields: [] } });
    assert.equal(d.header, 'x-client-identity');
    assert.deepEqual(d.fields, ['Hash', 'Subject', 'URI', 'DNS']);
  });
});

describe('applyClientIdentity over a real TLS connection', () => {
  let srv: tls.Server;
  let port = 0;
  const sockets: tls.TLSSocket[] = [];
  before(async () => {
    srv = tls.createServer({
      key: server.keyPem,
      cert: server.certPem,
      ca: ca.certPem,
      requestCert: true,
      rejectUnauthorized: false,
    });
    srv.on('secureConnection', (s) => {
      sockets.push(s);
      s.on('error', () => {});
    });
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    port = (srv.address() as AddressInfo).port;
  });
  after(() => srv.close());

  async function connect(leaf: LeafHandle | null): Promise<tls.TLSSocket> {
    const before = sockets.length;
    const c = tls.connect({
      port,
      host: '127.0.0.1',
      servername: 'localhost',
      ca: ca.certPem,
      ...(leaf ? { key: leaf.keyPem, cert: leaf.certPem } : {}),
    });
    c.on('error', () => {});
    await once(c, 'secureConnect');
    while (sockets.length === before) await new Promise((r) => setTimeout(r, 5));
    c.destroy();
    return sockets[sockets.length - 1] as tls.TLSSocket;
  }

  it('sets the header for a verified peer, once per connection, and strips spoofed ones', async () => {
    const socket = await connect(client);
    const compiled = compileClientIdentity({
      clientIdentity: { header: 'x-forwarded-client-cert', fields: ['By', 'Hash', 'DNS'] },
    });
    const headers: Record<string, string> = {
      'x-forwarded-client-cert': 'Hash=spoofed',
      'x-client-cert': 'spoofed',
      'x-client-cert-chain': 'spoofed',
      accept: '*/*',
    };
    const value = applyClientIdentity(compiled, { socket }, headers);
    const id = peerIdentity(socket) as PeerIdentity;
    assert.equal(value, `By=spiffe://gw/gatehouse;Hash=${id.hash};DNS=client.internal;DNS=alt.internal`);
    assert.deepEqual(headers, { accept: '*/*', 'x-forwarded-client-cert': value });
    assert.equal(peerIdentity(socket), id, 'cached on the socket');
    assert.equal(id.composed.get('By,Hash,DNS'), value);
  });

  it('strips but sets nothing for an unverified or absent certificate, or when forwarding is off', async () => {
    const compiled = compileClientIdentity({ clientIdentity: { header: 'x-ident', fields: ['Hash'] } });
    for (const leaf of [stranger, null]) {
      const socket = await connect(leaf);
      const headers: Record<string, string> = { 'x-ident': 'spoof', 'x-forwarded-client-cert': 'spoof', 'X-Keep': '1' };
      assert.equal(applyClientIdentity(compiled, { socket }, headers), null);
      assert.deepEqual(headers, { 'X-Keep': '1' });
    }
    const socket = await connect(client);
    const off = compileClientIdentity({ clientIdentity: null });
    const headers: Record<string, string> = { 'x-forwarded-client-cert': 'spoof' };
    assert.equal(applyClientIdentity(off, { socket }, headers), null);
    assert.deepEqual(headers, {});
  });
});
