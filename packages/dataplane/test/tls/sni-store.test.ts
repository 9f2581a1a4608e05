import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { issueCertificate, type LeafHandle } from '@gatehouse/pki';
import {
  checkClientAuth,
  compileClientAuth,
  allowListVerdict,
  modeForHost,
  verifyFailure,
} from '../../src/tls/client-auth.ts';
import { compileSanGlobs } from '../../src/tls/allow-list-globs.ts';
import { ERROR_KINDS, GenerationBuildError } from '../../src/errors.ts';
import { installSniStore } from '../../src/tls/active-sni.ts';
import { SniStore } from '../../src/tls/sni-store.ts';
import { rotateTicketKeys } from '../../src/tls/ticket-hook.ts';
import { tagHandshake } from '../../src/tls/connection-trust.ts';
import { sessionTickets } from '../../src/tls/session-tickets.ts';
import { makeTlsFixture, resolved, snapshotOf, storeOf, type TlsFixture } from '../tls-fixture.ts';
import { tlsVisit } from '../../../../test/support/tls-session.ts';

let fx: TlsFixture;
before(async () => {
  fx = await makeTlsFixture();
});

const routesYaml = (gatewayRequired: boolean) => `
version: 2
gateway:
  entryPoints:
    webSecure:
      address: "127.0.0.1:0"
  tls:
    certificates:
      - cert: /unused.crt
        key: /unused.key
    clientAuth:
      clientCA: /unused-ca.crt
      required: ${gatewayRequired}
routes:
  - name: open
    path: /
    hosts: [open.test, ec.test, default.test]
    target: http://127.0.0.1:1
  - name: strict
    path: /
    hosts: [strict.test]
    target: http://127.0.0.1:1
    clientAuth:
      mode: required
  - name: admins
    path: /admin
    hosts: [rsa.test]
    target: http://127.0.0.1:1
    clientAuth:
      mode: required
      allowedSubjects: ["CN=admin,O=*"]
  - name: sans
    path: /san
    hosts: ["*.wild.test"]
    target: http://127.0.0.1:1
    clientAuth:
      mode: required
      allowedSANs: ["*.clients.test"]
  - name: nocert
    path: /
    hosts: [off.test]
    target: http://127.0.0.1:1
    clientAuth:
      mode: off
`;

describe('SniStore selection', () => {
  it('maps exact names, one-label wildcards and the default', () => {
    const { ec, rsa, wild, fallback } = fx.servers;
    const store = storeOf(routesYaml(false), fx, [
      resolved(fallback, true),
      resolved(ec),
      resolved(rsa),
      resolved(wild),
    ]);
    assert.equal(store.certificateFor('ec.test').source, ec.certPath);
    assert.equal(store.certificateFor('EC.TEST').source, ec.certPath);
    assert.equal(store.certificateFor('rsa.test').source, rsa.certPath);
    assert.equal(store.certificateFor('a.wild.test').source, wild.certPath);
    assert.equal(store.certificateFor('a.b.wild.test').source, fallback.certPath, 'a wildcard covers one label only');
    assert.equal(store.certificateFor('wild.test').source, fallback.certPath);
    assert.equal(store.certificateFor('unknown.test').source, fallback.certPath);
    assert.equal(store.certificateFor(undefined).source, fallback.certPath);
    const opts = store.serverOptions();
    assert.deepEqual(opts.ALPNProtocols, ['h2', 'http/1.1']);
    assert.equal(opts.requestCert, true);
    assert.equal(opts.rejectUnauthorized, false);
    assert.equal(opts.minVersion, 'TLSv1.2');
    assert.equal(opts.ecdhCurve, 'X25519:P-256');
  });

  it('rejects at the handshake only when every route requires a certificate', () => {
    const snap = snapshotOf(routesYaml(true), fx, [resolved(fx.servers.ec)]);
    assert.equal(compileClientAuth(snap).rejectAtHandshake, false, 'route "nocert" is off');
    const all = snapshotOf(
      `version: 2
gateway:
  tls:
    certificates: [{cert: /c, key: /k}]
    clientAuth: {clientCA: /ca, required: true}
routes:
  - {name: a, path: /, target: "http://127.0.0.1:1"}
`,
      fx,
      [resolved(fx.servers.ec)],
    );
    const policy = compileClientAuth(all);
    assert.equal(policy.rejectAtHandshake, true);
    assert.equal(policy.requestCert, true);
    const none = snapshotOf(
      `version: 2
gateway:
  tls:
    certificates: [{cert: /c, key: /k}]
routes:
  - {name: a, path: /, target: "http://127.0.0.1:1"}
`,
      fx,
      [resolved(fx.servers.ec)],
      { clientCA: false, crl: false },
    );
    assert.equal(compileClientAuth(none).requestCert, false);
  });

  it('names the policy of each host', () => {
    const policy = compileClientAuth(snapshotOf(routesYaml(false), fx, [resolved(fx.servers.ec)]));
    assert.equal(modeForHost(policy, 'open.test'), 'optional');
    assert.equal(modeForHost(policy, 'strict.test:8443'), 'required');
    assert.equal(modeForHost(policy, 'off.test'), 'off');
    assert.equal(modeForHost(policy, 'x.wild.test'), 'required');
    assert.equal(modeForHost(policy, 'elsewhere.test'), 'optional');
  });

  it('an allow-list verdict refuses an identity none of whose SANs is listed', () => {
    const identity = {
      subject: 'CN=x',
      dns: ['good.clients.test'],
      uris: ['spiffe://partners/billing'],
      ips: [],
      emails: [],
    };
    const route = { ...compileClientAuth(snapshotOf(routesYaml(false), fx, [resolved(fx.servers.ec)])).gatewayPolicy };
    assert.equal(
      allowListVerdict({ ...route, san: compileSanGlobs(['URI:spiffe://other/*']) }, identity),
      ERROR_KINDS.clientCertSanNotAllowed,
    );
    assert.equal(allowListVerdict({ ...route, san: compileSanGlobs(['URI:spiffe://partners/*']) }, identity), null);
  });

  it('names verification failures', () => {
    assert.equal(verifyFailure('CERT_HAS_EXPIRED'), ERROR_KINDS.clientCertExpired);
    assert.equal(verifyFailure('CERT_REVOKED'), ERROR_KINDS.clientCertRevoked);
    assert.equal(verifyFailure('UNABLE_TO_GET_ISSUER_CERT_LOCALLY'), ERROR_KINDS.clientCertUnknownCa);
    assert.equal(verifyFailure('SOMETHING_NEW'), ERROR_KINDS.clientCertInvalid);
  });
});

describe('a real HTTPS server with the store', () => {
  let server: https.Server;
  let port = 0;
  let store: SniStore;
  before(async () => {
    const { ec, rsa, wild, fallback } = fx.servers;
    store = storeOf(routesYaml(false), fx, [resolved(fallback, true), resolved(ec), resolved(rsa), resolved(wild)]);
    installSniStore(null, store);
    // The route is named by the test in a header: the router is not what is under test here.
    server = https.createServer(store.serverOptions(), (req, res) => {
      if (req.headers['x-claim-authorized'] === '1') (req.socket as tls.TLSSocket).authorized = true;
      const denial = checkClientAuth(store.clientAuth, String(req.headers['x-route']), req);
      res.writeHead(denial ? denial.status : 200, { 'content-type': 'text/plain' });
      res.end(denial ? denial.message : 'ok');
    });
    installSniStore(server, store);
    // As the worker's listener does: which material each handshake was verified against.
    server.on('secureConnection', tagHandshake);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  async function servedCn(servername: string | undefined, maxVersion: tls.SecureVersion): Promise<string> {
    const socket = tls.connect({
      port,
      host: '127.0.0.1',
      ...(servername ? { servername } : {}),
      ca: fx.root.certPem,
      rejectUnauthorized: false,
      maxVersion,
    });
    await once(socket, 'secureConnect');
    const cert = new X509Certificate(socket.getPeerCertificate().raw);
    socket.destroy();
    return cert.subject.split('\n').at(-1) ?? '';
  }

  it('serves each name its own certificate, ECDSA and RSA mixed, TLS 1.2 and 1.3', async () => {
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      assert.equal(await servedCn('ec.test', version), 'CN=ec.test');
      assert.equal(await servedCn('rsa.test', version), 'CN=rsa.test');
      assert.equal(await servedCn('x.wild.test', version), 'CN=wild');
      assert.equal(await servedCn('nope.test', version), 'CN=default.test');
      assert.equal(await servedCn(undefined, version), 'CN=default.test');
    }
  });

  function get(
    servername: string,
    route: string,
    leaf: LeafHandle | null,
    host = servername,
    claimAuthorized = false,
  ): Promise<[number, string]> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port,
          servername,
          path: '/',
          headers: { host, 'x-route': route, ...(claimAuthorized ? { 'x-claim-authorized': '1' } : {}) },
          ca: fx.root.certPem,
          ...(leaf ? { cert: leaf.fullchainPem, key: leaf.keyPem } : {}),
          agent: false,
          checkServerIdentity: () => undefined,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => {
            body += d;
          });
          res.on('end', () => resolve([res.statusCode ?? 0, body]));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('optional by default: no certificate is fine, a bad one gets 401 with its reason', async () => {
    const { good, expired, future, stranger, revoked } = fx.clients;
    assert.deepEqual(await get('open.test', 'open', null), [200, 'ok']);
    assert.deepEqual(await get('open.test', 'open', good), [200, 'ok']);
    assert.deepEqual(await get('open.test', 'open', expired), [401, 'client certificate expired']);
    assert.deepEqual(await get('open.test', 'open', future), [401, 'client certificate not yet valid']);
    assert.deepEqual(await get('open.test', 'open', stranger), [401, 'client certificate signed by an unknown CA']);
    assert.deepEqual(await get('open.test', 'open', revoked), [401, 'client certificate revoked']);
  });

  it('a route that requires a certificate gets 401 without one', async () => {
    assert.deepEqual(await get('strict.test', 'strict', null), [401, 'client certificate required']);
    assert.deepEqual(await get('strict.test', 'strict', fx.clients.good), [200, 'ok']);
  });

  it('certificate presence: a `required` route refuses a connection without a peer certificate even when Node says authorized (nodejs/node#35317)', async () => {
    // Node 20 reports `authorized: true` for a TLS 1.3 resumption that carried no certificate; the
    // test server sets it the same way for a connection that sent none.
    assert.deepEqual(await get('strict.test', 'strict', null, 'strict.test', true), [
      401,
      'client certificate required',
    ]);
    assert.deepEqual(await get('rsa.test', 'admins', null, 'rsa.test', true), [401, 'client certificate required']);
    assert.deepEqual(
      await get('open.test', 'open', null, 'open.test', true),
      [200, 'ok'],
      'optional: no certificate is fine',
    );
    assert.deepEqual(await get('strict.test', 'strict', fx.clients.good, 'strict.test', true), [200, 'ok']);
  });

  it('mode off ignores even a bad certificate', async () => {
    assert.deepEqual(await get('off.test', 'nocert', fx.clients.expired), [200, 'ok']);
  });

  it('allow-lists answer 403 for other identities', async () => {
    assert.deepEqual(await get('rsa.test', 'admins', fx.clients.admin), [200, 'ok']);
    assert.deepEqual(await get('rsa.test', 'admins', fx.clients.good), [
      403,
      ERROR_KINDS.clientCertSubjectNotAllowed.message,
    ]);
    assert.deepEqual(await get('a.wild.test', 'sans', fx.clients.good), [200, 'ok']);
    assert.deepEqual(await get('a.wild.test', 'sans', fx.clients.admin), [200, 'ok']);
    assert.deepEqual(await get('a.wild.test', 'sans', null), [401, 'client certificate required']);
  });

  it('421 when the SNI name and the Host belong to different policies', async () => {
    assert.deepEqual(await get('open.test', 'strict', fx.clients.good, 'strict.test'), [
      421,
      ERROR_KINDS.misdirected.message,
    ]);
    assert.deepEqual(await get('open.test', 'open', null, 'ec.test'), [200, 'ok'], 'same policy: no 421');
  });
});

describe('key material and ticket keys', () => {
  const yaml =
    'version: 2\ngateway:\n  tls:\n    certificates: [{cert: /c, key: /k}]\nroutes:\n  - {name: a, path: /, target: "http://127.0.0.1:1"}\n';

  it('serves a certificate whose key is encrypted, and names the certificate when the passphrase is wrong', async () => {
    const leaf = await issueCertificate(fx.inter, {
      name: 'encrypted',
      cn: 'enc.test',
      dns: ['enc.test'],
      usage: 'server',
      passphrase: 'correct horse',
    });
    const good = snapshotOf(yaml, fx, [resolved(leaf, true)], { clientCA: false, crl: false });
    const store = SniStore.build(good, randomBytes(48));
    assert.equal(store.certificateFor('enc.test').source, leaf.certPath);
    const wrong = resolved(leaf, true);
    wrong.passphrase = 'wrong';
    const bad = snapshotOf(yaml, fx, [wrong], { clientCA: false, crl: false });
    assert.throws(
      () => SniStore.build(bad, randomBytes(48)),
      (e: Error) => e instanceof GenerationBuildError && e.message.includes(leaf.certPath),
    );
  });

  it('refuses ticket keys shorter than 48 bytes and uses the first 48 of current+previous', () => {
    const snap = snapshotOf(yaml, fx, [resolved(fx.servers.ec, true)], { clientCA: false, crl: false });
    assert.throws(() => SniStore.build(snap, randomBytes(16)), GenerationBuildError);
    assert.doesNotThrow(() => SniStore.build(snap, randomBytes(96)));
  });

  it('resumes with the shared key on every name; after a rotation old tickets resume once more, then not', async () => {
    const snap = snapshotOf(yaml, fx, [resolved(fx.servers.ec, true), resolved(fx.servers.rsa)], {
      clientCA: false,
      crl: false,
    });
    let keys = randomBytes(48);
    const store = SniStore.build(snap, keys);
    installSniStore(null, store);
    const server = tls.createServer(store.serverOptions(), (s) => s.end());
    installSniStore(server, store);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const connect = (servername: string, session?: Buffer) =>
      tlsVisit({ port, servername, ca: fx.root.certPem, version: 'TLSv1.2', session });
    try {
      for (const name of ['ec.test', 'rsa.test']) {
        const first = await connect(name);
        assert.equal((await connect(name, first.session)).reused, true, `${name} resumes`);
        // What the primary sends on rotation: the new key, then the one it replaces.
        const rotate = () => {
          keys = Buffer.concat([randomBytes(48), keys.subarray(0, 48)]);
          sessionTickets.update(keys); // what the worker does on gh:ticket-keys, before rotateTicketKeys
          rotateTicketKeys(server, store, keys);
        };
        rotate();
        assert.equal((await connect(name, first.session)).reused, true, `${name}: the previous key still opens it`);
        rotate();
        const twoRotations = await connect(name, first.session);
        assert.equal(twoRotations.reused, false, `${name}: two rotations old is not accepted`);
        assert.equal((await connect(name, twoRotations.session)).reused, true, `${name} resumes under the new key`);
      }
    } finally {
      server.close();
    }
  });
});
