// Committing a store: what installSniStore changes on a live server (assignments only, no context
// built), over real TLS connections.
import assert from 'node:assert/strict';
import { X509Certificate, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { before, describe, it } from 'node:test';
import tls from 'node:tls';
import { installSniStore, SNI_CALLBACK, sniCallbackOf } from '../../src/tls/active-sni.ts';
import { serverDefaultContext } from '../../src/tls/session-tickets.ts';
import { SniStore } from '../../src/tls/sni-store.ts';
import { makeTlsFixture, resolved, snapshotOf, type TlsFixture } from '../tls-fixture.ts';
import { tlsVisit } from '../../../../test/support/tls-session.ts';

let fx: TlsFixture;
before(async () => {
  fx = await makeTlsFixture();
});

describe('installing a store on the HTTPS server', () => {
  const yaml =
    'version: 2\ngateway:\n  tls:\n    certificates: [{cert: /c, key: /k}]\nroutes:\n  - {name: a, path: /, target: "http://127.0.0.1:1"}\n';

  it('building a store changes nothing running; committing it builds no context and makes its keys current', async () => {
    const snap = snapshotOf(yaml, fx, [resolved(fx.servers.ec, true), resolved(fx.servers.rsa)], {
      clientCA: false,
      crl: false,
    });
    const running = SniStore.build(snap, randomBytes(48));
    const server = tls.createServer(running.serverOptions(), (s) => s.end());
    installSniStore(server, running);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const connect = (session?: Buffer) =>
      tlsVisit({ port, servername: 'ec.test', ca: fx.root.certPem, version: 'TLSv1.2', session });
    try {
      const first = await connect();
      // A prepared generation with other keys: the running keys must still open the ticket.
      const prepared = SniStore.build(snap, randomBytes(48));
      assert.equal((await connect(first.session)).reused, true, 'prepare left the running ticket keys alone');
      const created = tls.createSecureContext;
      let built = 0;
      (tls as { createSecureContext: typeof created }).createSecureContext = (options) => {
        built++;
        return created(options);
      };
      try {
        installSniStore(server, prepared);
      } finally {
        (tls as { createSecureContext: typeof created }).createSecureContext = created;
      }
      assert.equal(built, 0, 'commit builds no SecureContext');
      assert.equal(serverDefaultContext(server), prepared.defaultContext());
      // Committed: its keys are the worker's, so the old ticket no longer opens.
      assert.equal((await connect(first.session)).reused, false);
    } finally {
      server.close();
    }
  });

  it('a server with one certificate makes no SNI callback; a second certificate brings it back', async () => {
    const one = SniStore.build(
      snapshotOf(yaml, fx, [resolved(fx.servers.ec, true)], { clientCA: false, crl: false }),
      randomBytes(48),
    );
    const two = SniStore.build(
      snapshotOf(yaml, fx, [resolved(fx.servers.ec, true), resolved(fx.servers.rsa)], { clientCA: false, crl: false }),
      randomBytes(48),
    );
    const server = tls.createServer(two.serverOptions(), (s) => s.end());
    installSniStore(server, one);
    assert.equal(sniCallbackOf(server), undefined);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const served = async (servername: string): Promise<string> => {
      // The name is checked by the assertions below, on the certificate served.
      const socket = tls.connect({
        port,
        host: '127.0.0.1',
        servername,
        ca: fx.root.certPem,
        checkServerIdentity: () => undefined,
      });
      await once(socket, 'secureConnect');
      const subject = socket.getPeerX509Certificate()?.subject ?? '';
      socket.destroy();
      return subject;
    };
    try {
      const ecSubject = new X509Certificate(fx.servers.ec.certPem).subject;
      assert.equal(await served('ec.test'), ecSubject);
      assert.equal(await served('rsa.test'), ecSubject, 'the one certificate answers every name');
      installSniStore(server, two);
      assert.equal(sniCallbackOf(server), SNI_CALLBACK);
      assert.equal(await served('rsa.test'), new X509Certificate(fx.servers.rsa.certPem).subject);
    } finally {
      server.close();
    }
  });
});
