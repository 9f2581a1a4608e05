// The session-ticket key hook only while the keys carry a previous key: when it is needed (pure),
// and over real TLS connections (TLS 1.2, two certificates) that tickets sealed with or
// without the hook open the other way, across enabling it and across building the contexts again.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { before, describe, it } from 'node:test';
import tls from 'node:tls';
import { parseTicketKeys } from '@gatehouse/pki/ticket-keys';
import { serverDefaultContext, sessionTickets, ticketHookStep } from '../../src/tls/session-tickets.ts';
import { installSniStore } from '../../src/tls/active-sni.ts';
import { SniStore } from '../../src/tls/sni-store.ts';
import { rotateTicketKeys } from '../../src/tls/ticket-hook.ts';
import { makeTlsFixture, resolved, snapshotOf, type TlsFixture } from '../tls-fixture.ts';
import { tlsVisit } from '../../../../test/support/tls-session.ts';

describe('when the contexts need the ticket-key hook', () => {
  const alone = parseTicketKeys(randomBytes(48));
  const withPrevious = parseTicketKeys(randomBytes(96));

  it('a previous key needs it: enabled where it is not, kept where it is', () => {
    assert.equal(ticketHookStep(withPrevious, false, true), 'enable');
    assert.equal(ticketHookStep(withPrevious, true, true), 'none');
  });

  it('the current key alone does not: contexts with it are built again, others stay', () => {
    assert.equal(ticketHookStep(alone, true, true), 'rebuild');
    assert.equal(ticketHookStep(alone, false, true), 'none');
  });

  it('a Node without the hook keeps its contexts as they are', () => {
    assert.equal(ticketHookStep(withPrevious, false, false), 'none');
    assert.equal(ticketHookStep(alone, false, false), 'none');
  });
});

/** Counts the hook's calls on the store's contexts as they are now (spying on the real callback). */
function hookCalls(store: SniStore): { calls: number } {
  const counter = { calls: 0 };
  const contexts = new Set([store.select('ec.test'), store.select('rsa.test'), store.defaultContext()]);
  for (const context of contexts) {
    const native = (context as unknown as { context: { onticketkeycallback: (...a: unknown[]) => unknown } }).context;
    const answer = native.onticketkeycallback;
    native.onticketkeycallback = function (this: unknown, ...args: unknown[]) {
      counter.calls++;
      return answer.apply(this, args);
    };
  }
  return counter;
}

describe('over real TLS connections', () => {
  let fx: TlsFixture;
  before(async () => {
    fx = await makeTlsFixture();
  });
  const yaml =
    'version: 2\ngateway:\n  tls:\n    certificates: [{cert: /c, key: /k}]\nroutes:\n  - {name: a, path: /, target: "http://127.0.0.1:1"}\n';

  // TLS 1.2, as sni-store.test.ts: a client of these store-built servers does not resume TLS 1.3
  // here, with the hook or without it (checked both ways); session-tickets.test.ts covers 1.3.
  for (const version of ['TLSv1.2'] as const) {
    it(`${version}: the hook comes with a previous key and goes with it; tickets open across both ways`, async () => {
      const snap = snapshotOf(yaml, fx, [resolved(fx.servers.ec, true), resolved(fx.servers.rsa)], {
        clientCA: false,
        crl: false,
      });
      const k1 = randomBytes(48);
      const store = SniStore.build(snap, k1);
      assert.equal(store.ticketHook, false, 'keys without a previous key: built without the hook');
      const server = tls.createServer(store.serverOptions(), (s) => s.end());
      installSniStore(server, store);
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const port = (server.address() as AddressInfo).port;
      const visit = (servername: string, session?: Buffer, over?: net.Socket) =>
        tlsVisit({ port, servername, ca: fx.root.certPem, version, session, over });
      /** What the worker does on gh:ticket-keys. */
      const keysArrive = (keys: Buffer) => {
        sessionTickets.update(keys);
        assert.equal(rotateTicketKeys(server, store, keys), null);
        assert.deepEqual(server.getTicketKeys(), keys.subarray(0, 48), 'the server’s context has the current key');
      };
      try {
        let spy = hookCalls(store);
        const a = await visit('ec.test');
        assert.equal((await visit('ec.test', a.session)).reused, true, 'Node’s own callback seals and opens');
        assert.equal(spy.calls, 0, 'no call into JavaScript without the hook');

        // A rotation: the current key K2, the previous K1. The hook is enabled on the live contexts.
        const k2 = randomBytes(48);
        keysArrive(Buffer.concat([k2, k1]));
        assert.equal(store.ticketHook, true);
        spy = hookCalls(store); // enabling installs the hook's answer again
        const renewed = await visit('ec.test', a.session);
        assert.equal(renewed.reused, true, 'sealed without the hook by K1, opened by the hook as the previous key');
        assert.ok(spy.calls > 0, 'the hook answered');
        const b = await visit('rsa.test');

        // A connection accepted now starts on the hooked default context and picks its SNI context
        // after the swap below: the newer context answers the hook it no longer has enabled.
        const accepted = once(server, 'connection');
        const raw = net.connect(port, '127.0.0.1');
        await accepted;

        // The previous key no longer matters: the contexts are built again without the hook.
        const hooked = serverDefaultContext(server);
        keysArrive(k2);
        assert.equal(store.ticketHook, false);
        assert.notEqual(serverDefaultContext(server), hooked, 'the server starts new connections on a new context');
        assert.equal(serverDefaultContext(server), store.defaultContext());
        const straddling = await visit('rsa.test', b.session, raw);
        assert.equal(straddling.reused, true, 'started on the hooked context, resumed on the new one');

        spy = hookCalls(store);
        assert.equal((await visit('rsa.test', b.session)).reused, true, 'sealed by the hook, opened without it');
        assert.equal((await visit('ec.test', renewed.session)).reused, true, 'the renewed ticket (K2) opens');
        assert.equal((await visit('ec.test', a.session)).reused, false, 'K1 is forgotten: a full handshake');
        const c = await visit('rsa.test');
        assert.equal((await visit('rsa.test', c.session)).reused, true);
        assert.equal(spy.calls, 0, 'no call into JavaScript once the hook is gone');

        // The next rotation brings the hook back on the rebuilt contexts; K2's tickets still open.
        keysArrive(Buffer.concat([randomBytes(48), k2]));
        assert.equal(store.ticketHook, true);
        spy = hookCalls(store);
        assert.equal((await visit('rsa.test', c.session)).reused, true, 'sealed without the hook, opened as previous');
        assert.ok(spy.calls > 0);
      } finally {
        server.close();
      }
    });
  }

  it('a rotation that leaves the hook alone: the server seals with the new key, which another worker opens', async () => {
    // One certificate each: the servers' own contexts answer every name, whichever store is active.
    const snap = snapshotOf(yaml, fx, [resolved(fx.servers.ec, true)], { clientCA: false, crl: false });
    const k1 = randomBytes(48);
    const k2 = randomBytes(48);
    const serve = async (store: SniStore) => {
      const server = tls.createServer(store.serverOptions(), (s) => s.end());
      installSniStore(server, store);
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      return server;
    };
    const rotating = SniStore.build(snap, k1);
    const a = await serve(rotating);
    const b = await serve(SniStore.build(snap, k2));
    const visit = (server: tls.Server, session?: Buffer) =>
      tlsVisit({
        port: (server.address() as AddressInfo).port,
        servername: 'ec.test',
        ca: fx.root.certPem,
        version: 'TLSv1.2',
        session,
      });
    try {
      assert.equal((await visit(b, (await visit(a)).session)).reused, false, 'K1 and K2 are different keys');
      sessionTickets.update(k2);
      assert.equal(rotateTicketKeys(a, rotating, k2), null);
      assert.equal(rotating.ticketHook, false, 'no previous key: no hook before or after');
      assert.equal((await visit(b, (await visit(a)).session)).reused, true, 'sealed by K2 after the rotation');
    } finally {
      a.close();
      b.close();
    }
  });
});
