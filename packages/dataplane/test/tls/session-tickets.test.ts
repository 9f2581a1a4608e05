// Session-ticket keys: which key seals and opens a ticket (pure), and the same through real TLS
// connections, TLS 1.2 and 1.3, against a server whose contexts ask SessionTicketKeys.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { type CaHandle, createCa, issueCertificate, type LeafHandle } from '@gatehouse/pki';
import { parseTicketKeys } from '@gatehouse/pki/ticket-keys';
import {
  answerTicketKey,
  SessionTicketKeys,
  serverDefaultContext,
  TICKET_OK,
  TICKET_RENEW,
  TICKET_UNKNOWN,
} from '../../src/tls/session-tickets.ts';
import { tlsVisit } from '../../../../test/support/tls-session.ts';

const key = (fill: number) => Buffer.alloc(48, fill);

describe('which key seals and opens a ticket', () => {
  const iv = Buffer.alloc(16, 9);
  const keys = parseTicketKeys(Buffer.concat([key(1), key(2)]));

  test('the wire form is current first, then previous; 48 bytes means no previous key', () => {
    assert.deepEqual(keys.current.name, Buffer.alloc(16, 1));
    assert.deepEqual(keys.previous?.name, Buffer.alloc(16, 2));
    assert.equal(parseTicketKeys(key(3)).previous, null);
    assert.throws(() => parseTicketKeys(Buffer.alloc(47)), { code: 'GH_TICKET_KEYS' });
    assert.throws(() => parseTicketKeys(Buffer.alloc(95)), /47|95 bytes; 48 \(current\) or 96/);
  });

  test('sealing always uses the current key, with the IV given', () => {
    const answer = answerTicketKey(keys, Buffer.alloc(16), true, iv);
    assert.deepEqual(answer, [TICKET_OK, keys.current.hmac, keys.current.aes, keys.current.name, iv]);
  });

  test('a current ticket opens; a previous one opens and is renewed; any other is unknown', () => {
    assert.deepEqual(answerTicketKey(keys, Buffer.alloc(16, 1), false, iv), [
      TICKET_OK,
      keys.current.hmac,
      keys.current.aes,
    ]);
    assert.deepEqual(answerTicketKey(keys, Buffer.alloc(16, 2), false, iv), [
      TICKET_RENEW,
      keys.previous?.hmac,
      keys.previous?.aes,
    ]);
    assert.equal(answerTicketKey(keys, Buffer.alloc(16, 7), false, iv)[0], TICKET_UNKNOWN);
    assert.equal(answerTicketKey(parseTicketKeys(key(1)), Buffer.alloc(16, 2), false, iv)[0], TICKET_UNKNOWN);
  });
});

describe('over real TLS connections', () => {
  let ca: CaHandle;
  let leaf: LeafHandle;
  let server: tls.Server;
  let port = 0;
  const tickets = new SessionTicketKeys();
  let k = 10;
  /** What the primary does on rotation: a fresh current key, the old current becomes previous. */
  let wire = key(k);
  function rotate(): void {
    wire = Buffer.concat([key(++k), wire.subarray(0, 48)]);
    tickets.update(wire);
  }

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-tickets-'));
    ca = await createCa(dir, { name: 'ca' });
    leaf = await issueCertificate(ca, { name: 'server', cn: 'localhost', dns: ['localhost'], usage: 'server' });
    tickets.update(wire);
    const sni = tls.createSecureContext({ key: leaf.keyPem, cert: leaf.certPem });
    assert.equal(tickets.install(sni, true), true, 'Node 24 has the ticket-key hook');
    server = tls.createServer(
      { key: leaf.keyPem, cert: leaf.certPem, SNICallback: (_name, cb) => cb(null, sni) },
      (socket) => socket.end('ok'),
    );
    tickets.install(serverDefaultContext(server) as tls.SecureContext, true);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });

  after(() => server?.close());

  async function connect(version: tls.SecureVersion, session?: Buffer): Promise<{ reused: boolean; session: Buffer }> {
    const visit = await tlsVisit({ port, servername: 'localhost', ca: ca.certPem, version, session });
    assert.ok(visit.session, 'a session to resume');
    return { reused: visit.reused, session: visit.session };
  }

  test('a context asked before any key was set issues no ticket and still completes the handshake', async () => {
    const empty = new SessionTicketKeys();
    const bare = tls.createServer({ key: leaf.keyPem, cert: leaf.certPem }, (socket) => socket.end('ok'));
    assert.equal(empty.install(serverDefaultContext(bare) as tls.SecureContext, true), true);
    bare.listen(0, '127.0.0.1');
    await once(bare, 'listening');
    try {
      for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
        const socket = tls.connect({
          port: (bare.address() as AddressInfo).port,
          host: '127.0.0.1',
          servername: 'localhost',
          ca: ca.certPem,
          minVersion: version,
          maxVersion: version,
        });
        let tickets = 0;
        socket.on('session', () => {
          tickets++;
        });
        await once(socket, 'secureConnect');
        let body = '';
        socket.setEncoding('utf8').on('data', (d: string) => {
          body += d;
        });
        await once(socket, 'close');
        assert.equal(body, 'ok', `${version}: served`);
        if (version === 'TLSv1.3') assert.equal(tickets, 0, 'no TLS 1.3 ticket was issued');
      }
    } finally {
      bare.close();
    }
  });

  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    test(`${version}: a ticket survives one rotation (and is renewed), not two`, async () => {
      const first = await connect(version);
      assert.equal(first.reused, false);
      assert.equal((await connect(version, first.session)).reused, true, 'same key');
      rotate();
      const renewed = await connect(version, first.session);
      assert.equal(renewed.reused, true, 'sealed with the previous key: still opened');
      rotate();
      assert.equal((await connect(version, first.session)).reused, false, 'two rotations old: full handshake');
      const fresh = await connect(version, renewed.session);
      assert.equal(fresh.reused, true, 'the renewed ticket was sealed with the key current at the time');
    });
  }
});
