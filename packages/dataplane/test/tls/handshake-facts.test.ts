import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { type CaHandle, createCa, issueCertificate, type LeafHandle } from '@gatehouse/pki';
import { type HandshakeFacts, handshakeFacts } from '../../src/tls/handshake-facts.ts';

const dir = mkdtempSync(join(tmpdir(), 'gh-handshake-facts-'));
let ca: CaHandle;
let server: LeafHandle;

before(async () => {
  ca = await createCa(dir, { name: 'root' });
  server = await issueCertificate(ca, { name: 'server', cn: 'localhost', dns: ['localhost'], usage: 'server' });
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('handshake facts', () => {
  it('reads version and resumption once per connection and keeps them on the socket', async () => {
    const seen: { first: HandshakeFacts; again: HandshakeFacts }[] = [];
    const srv = tls.createServer({ key: server.keyPem, cert: server.certPem }, (socket) => {
      seen.push({ first: handshakeFacts(socket), again: handshakeFacts(socket) });
      socket.end('x');
    });
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const { port } = srv.address() as AddressInfo;
    const connect = async (session?: Buffer): Promise<Buffer | undefined> => {
      const client = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: ca.certPem, session });
      let ticket: Buffer | undefined;
      client.on('session', (s: Buffer) => {
        ticket = s;
      });
      client.resume();
      await once(client, 'close');
      return ticket;
    };
    try {
      const ticket = await connect();
      assert.ok(ticket, 'the server issued a session ticket');
      await connect(ticket);
    } finally {
      srv.close();
    }
    assert.equal(seen.length, 2);
    assert.deepEqual(seen[0]?.first, { version: 'TLSv1.3', resumed: false });
    assert.deepEqual(seen[1]?.first, { version: 'TLSv1.3', resumed: true });
    for (const { first, again } of seen) assert.equal(again, first, 'the same facts, not read again');
  });
});
