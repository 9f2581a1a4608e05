// Real TLS handshakes against contexts built from serverContextOptions: certificate selection by
// SNI with ECDSA and RSA mixed (nodejs/node#54235), client verification with a CA bundle and a CRL,
// TLS policy, and session resumption across independently built servers sharing ticket keys.
import assert from 'node:assert/strict';
import { DEFAULT_CIPHERS as CONFIG_DEFAULT_CIPHERS, type TlsConfig } from '@gatehouse/config';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { type CaHandle, createCa, issueCertificate, type LeafHandle, revoke, writeCrl } from '../src/dev-pki.ts';
import { inspectCertificate } from '../src/inspect.ts';
import { serverCertificateRecord } from '../src/load.ts';
import { serverContextOptions, upstreamTlsOptions } from '../src/server-context.ts';
import { currentTicketKeys, generateTicketKeys } from '../src/ticket-keys.ts';
import type { ResolvedServerCertificate } from '../src/types.ts';
import { expiredWindow } from './validity.ts';

const execFileAsync = promisify(execFile);

function tlsConfig(overrides: Partial<TlsConfig> = {}): TlsConfig {
  return {
    certificates: [],
    certsDir: null,
    defaultName: null,
    clientAuth: null,
    minVersion: 'TLSv1.2',
    ciphers: CONFIG_DEFAULT_CIPHERS,
    ecdhCurve: 'X25519:P-256',
    sessionTicketRotationMs: 43_200_000,
    sessionTimeoutMs: 300_000,
    expiryWarningDays: 14,
    ...overrides,
  };
}

function resolved(leaf: LeafHandle, isDefault = false): ResolvedServerCertificate {
  const material = {
    certPem: leaf.fullchainPem,
    keyPem: leaf.keyPem,
    passphrase: leaf.passphrase,
    source: leaf.certPath,
  };
  return serverCertificateRecord(material, isDefault);
}

interface Gateway {
  server: tls.Server;
  port: number;
}

/** A TLS server the way the dataplane builds one: a context per certificate, SNI → context, default for the rest. */
async function startGateway(
  certs: ResolvedServerCertificate[],
  shared: { clientCA: string | null; crl: string | null; tls: TlsConfig; ticketKeys: Buffer; clientAuthMode?: string },
): Promise<Gateway> {
  const contexts = new Map<string, tls.SecureContext>();
  let fallback: tls.SecureContext | null = null;
  let defaultOptions: tls.SecureContextOptions | null = null;
  for (const cert of certs) {
    const options = serverContextOptions(cert, shared);
    const context = tls.createSecureContext(options);
    for (const name of cert.names) if (!contexts.has(name)) contexts.set(name, context);
    if (cert.isDefault) {
      fallback = context;
      defaultOptions = options;
    }
  }
  assert.ok(fallback && defaultOptions);
  const server = tls.createServer({
    ...defaultOptions,
    requestCert: shared.clientCA !== null,
    rejectUnauthorized: false,
    SNICallback: (name, cb) => cb(null, contexts.get(name.toLowerCase()) ?? fallback),
  });
  server.on('secureConnection', (socket) => {
    socket.end(
      JSON.stringify({
        authorized: socket.authorized,
        error: socket.authorizationError ?? null,
        peer: socket.getPeerX509Certificate()?.subject.split('\n').join(', ') ?? null,
      }),
    );
  });
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

interface Handshake {
  ok: boolean;
  serial?: string;
  keyType?: string;
  protocol?: string | null;
  reused?: boolean;
  answer?: { authorized: boolean; error: string | null; peer: string | null };
  sessions: Buffer[];
  error?: string;
}

function connect(port: number, options: tls.ConnectionOptions): Promise<Handshake> {
  return new Promise((resolve) => {
    const sessions: Buffer[] = [];
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
    let body = '';
    let result: Handshake | null = null;
    socket.setEncoding('utf8');
    socket.on('session', (s: Buffer) => sessions.push(s));
    socket.on('secureConnect', () => {
      const peer = socket.getPeerX509Certificate();
      result = {
        ok: true,
        serial: peer?.serialNumber.toUpperCase(),
        keyType: peer?.publicKey.asymmetricKeyType,
        protocol: socket.getProtocol(),
        reused: socket.isSessionReused(),
        sessions,
      };
    });
    socket.on('data', (d: string) => {
      body += d;
    });
    socket.on('end', () => {
      if (result) {
        result.answer = body ? JSON.parse(body) : undefined;
        resolve(result);
      } else resolve({ ok: false, sessions, error: 'closed before the handshake finished' });
      socket.destroy();
    });
    socket.on('error', (e) => {
      if (result?.answer === undefined && result) resolve({ ...result, error: e.message });
      else resolve({ ok: false, sessions, error: e.message });
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error('timeout')));
  });
}

describe('serverContextOptions with real handshakes', () => {
  let dir: string;
  let serverRoot: CaHandle;
  let clientsA: CaHandle;
  let clientsB: CaHandle;
  let rogue: CaHandle;
  let ec: LeafHandle;
  let rsa: LeafHandle;
  let encrypted: LeafHandle;
  const clients: Record<string, LeafHandle> = {};
  let crlPem: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-ctx-'));
    [serverRoot, clientsA, clientsB, rogue] = await Promise.all([
      createCa(dir, { name: 'server-root' }),
      createCa(dir, { name: 'clients-a' }),
      createCa(dir, { name: 'clients-b', keyType: 'rsa' }),
      createCa(dir, { name: 'rogue' }),
    ]);
    [ec, rsa, encrypted] = await Promise.all([
      issueCertificate(serverRoot, { name: 'ec', cn: 'ec.test', dns: ['ec.test', 'localhost'], usage: 'server' }),
      issueCertificate(serverRoot, { name: 'rsa', cn: 'rsa.test', dns: ['rsa.test'], usage: 'server', keyType: 'rsa' }),
      issueCertificate(serverRoot, {
        name: 'enc',
        cn: 'enc.test',
        dns: ['enc.test'],
        usage: 'server',
        passphrase: 'pw',
      }),
    ]);
    const [a, b, r, expired, revoked] = await Promise.all([
      issueCertificate(clientsA, { name: 'client-a', cn: 'client-a', usage: 'client' }),
      issueCertificate(clientsB, { name: 'client-b', cn: 'client-b', usage: 'client', keyType: 'rsa' }),
      issueCertificate(rogue, { name: 'client-rogue', cn: 'client-a', usage: 'client' }),
      issueCertificate(clientsA, {
        name: 'client-expired',
        cn: 'client-expired',
        usage: 'client',
        ...expiredWindow(),
      }),
      issueCertificate(clientsA, { name: 'client-revoked', cn: 'client-revoked', usage: 'client' }),
    ]);
    Object.assign(clients, { a, b, rogue: r, expired, revoked });
    await revoke(clientsA, revoked);
    // One CRL per client CA: with a CRL configured, OpenSSL needs one for every issuer it verifies.
    const [crlA, crlB] = await Promise.all([writeCrl(clientsA), writeCrl(clientsB)]);
    crlPem = crlA.crlPem + crlB.crlPem;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const defaultType of ['ec', 'rsa'] as const) {
    it(`serves each SNI name its own certificate, ECDSA and RSA mixed, with an ${defaultType.toUpperCase()} default`, async () => {
      const certs = [resolved(ec, defaultType === 'ec'), resolved(rsa, defaultType === 'rsa'), resolved(encrypted)];
      const gw = await startGateway(certs, {
        clientCA: null,
        crl: null,
        tls: tlsConfig(),
        ticketKeys: generateTicketKeys(),
      });
      try {
        const defaultLeaf = defaultType === 'ec' ? ec : rsa;
        for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
          const cases: Array<[string | undefined, LeafHandle]> = [
            ['ec.test', ec],
            ['rsa.test', rsa],
            ['enc.test', encrypted],
            ['unknown.test', defaultLeaf],
            [undefined, defaultLeaf],
          ];
          for (const [servername, expected] of cases) {
            const hs = await connect(gw.port, { servername, maxVersion, ca: serverRoot.certPem });
            assert.ok(hs.ok, `${maxVersion} ${servername}: ${hs.error}`);
            assert.equal(hs.serial, expected.serial, `${maxVersion} SNI ${servername} gets ${expected.name}`);
            assert.equal(hs.protocol, maxVersion);
          }
          // A client that only accepts ECDSA signatures still gets the ECDSA name, and an RSA-only
          // client the RSA name: the SNI context is never mixed with the default's key type.
          const ecOnly = await connect(gw.port, { servername: 'ec.test', maxVersion, sigalgs: 'ECDSA+SHA256' });
          assert.equal(ecOnly.serial, ec.serial);
          const rsaOnly = await connect(gw.port, {
            servername: 'rsa.test',
            maxVersion,
            sigalgs: 'RSA-PSS+SHA256:RSA+SHA256',
          });
          assert.equal(rsaOnly.serial, rsa.serial);
          assert.equal(rsaOnly.keyType, 'rsa');
          // The same with a client we did not write.
          for (const leaf of [ec, rsa]) {
            const flag = maxVersion === 'TLSv1.3' ? '-tls1_3' : '-tls1_2';
            const { stdout } = await execFileAsync(
              'openssl',
              ['s_client', '-connect', `127.0.0.1:${gw.port}`, '-servername', leaf.cn, flag, '-showcerts'],
              { timeout: 10_000 },
            ).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
            const served = stdout.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/)?.[0];
            assert.ok(served, `openssl s_client ${flag} ${leaf.cn} got a certificate`);
            assert.equal(inspectCertificate(served).serial, leaf.serial, `openssl s_client ${flag} ${leaf.cn}`);
          }
        }
      } finally {
        gw.server.close();
      }
    });
  }

  it('allows TLS 1.2 and 1.3 with AEAD ciphers only', async () => {
    const gw = await startGateway([resolved(ec, true)], {
      clientCA: null,
      crl: null,
      tls: tlsConfig(),
      ticketKeys: generateTicketKeys(),
    });
    try {
      const old = await connect(gw.port, { servername: 'ec.test', minVersion: 'TLSv1', maxVersion: 'TLSv1.1' });
      assert.equal(old.ok, false, 'TLS 1.1 refused');
      const cbc = await connect(gw.port, {
        servername: 'ec.test',
        maxVersion: 'TLSv1.2',
        ciphers: 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA',
      });
      assert.equal(cbc.ok, false, 'CBC suites refused');
      const t13 = await connect(gw.port, { servername: 'ec.test', minVersion: 'TLSv1.3' });
      assert.equal(t13.protocol, 'TLSv1.3', 'TLS 1.3 suites stay on when the config lists TLS 1.2 ciphers only');
    } finally {
      gw.server.close();
    }
    const only13 = await startGateway([resolved(ec, true)], {
      clientCA: null,
      crl: null,
      tls: tlsConfig({ minVersion: 'TLSv1.3' }),
      ticketKeys: generateTicketKeys(),
    });
    try {
      assert.equal((await connect(only13.port, { maxVersion: 'TLSv1.2' })).ok, false);
      assert.equal((await connect(only13.port, {})).protocol, 'TLSv1.3');
    } finally {
      only13.server.close();
    }
  });

  it('verifies client certificates against a CA bundle and a CRL, identically for every SNI name', async () => {
    const gw = await startGateway([resolved(ec, true), resolved(rsa)], {
      clientCA: clientsA.certPem + clientsB.certPem,
      crl: crlPem,
      tls: tlsConfig(),
      ticketKeys: generateTicketKeys(),
    });
    try {
      for (const servername of ['ec.test', 'rsa.test', undefined]) {
        const verdict = async (leaf: LeafHandle | null) => {
          const hs = await connect(gw.port, { servername, ...(leaf ? { cert: leaf.certPem, key: leaf.keyPem } : {}) });
          assert.ok(hs.ok && hs.answer, `${servername} ${leaf?.name}: ${hs.error}`);
          return hs.answer;
        };
        assert.deepEqual(await verdict(clients.a!), {
          authorized: true,
          error: null,
          peer: 'O=Gatehouse Dev, CN=client-a',
        });
        assert.equal((await verdict(clients.b!)).authorized, true, 'second CA of the bundle');
        assert.equal((await verdict(clients.rogue!)).error, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'another CA');
        assert.equal((await verdict(clients.expired!)).error, 'CERT_HAS_EXPIRED');
        assert.equal((await verdict(clients.revoked!)).error, 'CERT_REVOKED');
        assert.equal((await verdict(null)).error, 'UNABLE_TO_GET_ISSUER_CERT', 'no certificate: not authorized');
      }
    } finally {
      gw.server.close();
    }
  });

  it('resumes a session on another server (worker) built from the same ticket keys, and only there', async () => {
    const ticketKeys = generateTicketKeys();
    const shared = { clientCA: clientsA.certPem, crl: null, tls: tlsConfig(), ticketKeys };
    const certs = () => [resolved(ec, true), resolved(rsa)];
    const [w1, w2, stranger] = await Promise.all([
      startGateway(certs(), shared),
      startGateway(certs(), shared),
      startGateway(certs(), { ...shared, ticketKeys: generateTicketKeys() }),
    ]);
    try {
      for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
        const auth = { cert: clients.a!.certPem, key: clients.a!.keyPem, maxVersion };
        for (const servername of ['ec.test', 'rsa.test']) {
          const first = await connect(w1.port, { ...auth, servername });
          assert.equal(first.reused, false);
          const session = first.sessions.at(-1);
          assert.ok(session, `${maxVersion}: the server issued a ticket`);
          const again = await connect(w2.port, { ...auth, servername, session });
          assert.equal(again.reused, true, `${maxVersion} ${servername}: resumed on the other worker`);
          assert.equal(again.answer?.authorized, true, 'the resumed session keeps the verified client');
          const elsewhere = await connect(stranger.port, { ...auth, servername, session });
          assert.equal(elsewhere.reused, false, 'other ticket keys: full handshake');
        }
      }
    } finally {
      for (const g of [w1, w2, stranger]) g.server.close();
    }
  });

  it('resumed sessions: no session from before a CA removal or a CRL change resumes (TLS 1.2 and 1.3)', async () => {
    const ticketKeys = generateTicketKeys();
    const before = { clientCA: clientsA.certPem + clientsB.certPem, crl: null, tls: tlsConfig(), ticketKeys };
    const certs = () => [resolved(ec, true), resolved(rsa)];
    const [old, same, caRemoved, crlAdded, modeChanged] = await Promise.all([
      startGateway(certs(), before),
      startGateway(certs(), { ...before }),
      startGateway(certs(), { ...before, clientCA: clientsA.certPem }),
      startGateway(certs(), { ...before, crl: crlPem }),
      startGateway(certs(), { ...before, clientAuthMode: 'required' }),
    ]);
    try {
      for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
        const auth = { cert: clients.b!.certPem, key: clients.b!.keyPem, maxVersion, servername: 'rsa.test' };
        const first = await connect(old.port, auth);
        const session = first.sessions.at(-1);
        assert.ok(session, `${maxVersion}: a ticket`);
        assert.equal((await connect(same.port, { ...auth, session })).reused, true, 'same material: resumes');
        const afterRemoval = await connect(caRemoved.port, { ...auth, session });
        assert.equal(afterRemoval.reused, false, `${maxVersion}: CA removed, no resumption`);
        assert.equal(afterRemoval.answer?.authorized, false, 'the full handshake no longer verifies client-b');
        assert.equal((await connect(crlAdded.port, { ...auth, session })).reused, false, `${maxVersion}: new CRL`);
        assert.equal((await connect(modeChanged.port, { ...auth, session })).reused, false, `${maxVersion}: mode`);
      }
    } finally {
      for (const g of [old, same, caRemoved, crlAdded, modeChanged]) g.server.close();
    }
  });

  it("no empty trust: without a client CA the context trusts nobody, never Node's root store", async () => {
    const shared = { clientCA: null, crl: null, tls: tlsConfig(), ticketKeys: generateTicketKeys() };
    const options = serverContextOptions(resolved(ec, true), shared);
    assert.deepEqual(options.ca, []);
    assert.equal(options.sessionTimeout, 300);
    const gw = await startGateway([resolved(ec, true)], shared);
    try {
      const server = gw.server as tls.Server & { requestCert: boolean };
      server.requestCert = true;
      const hs = await connect(gw.port, { cert: clients.a!.certPem, key: clients.a!.keyPem });
      assert.equal(hs.answer?.authorized, false);
    } finally {
      gw.server.close();
    }
  });

  it('builds outbound agent options: CA bundle as a list, identity fields, system roots when no CA', () => {
    const withCa = upstreamTlsOptions({
      ca: clientsA.certPem + clientsB.certPem,
      cert: clients.a!.certPem,
      key: clients.a!.keyPem,
      rejectUnauthorized: true,
      servername: 'backend.test',
      identity: 'x',
    });
    assert.equal((withCa.ca as string[]).length, 2);
    assert.equal(withCa.servername, 'backend.test');
    assert.equal(withCa.cert, clients.a!.certPem);
    const system = upstreamTlsOptions({
      ca: null,
      cert: null,
      key: null,
      rejectUnauthorized: false,
      servername: null,
      identity: 'y',
    });
    assert.deepEqual(system, { rejectUnauthorized: false, minVersion: 'TLSv1.2' });
  });
  it('uses the current 48-byte ticket key of a current+previous pair, and refuses short keys', () => {
    const current = generateTicketKeys();
    const pair = Buffer.concat([current, generateTicketKeys()]);
    assert.equal(current.length, 48);
    assert.ok(currentTicketKeys(pair).equals(current));
    assert.ok(currentTicketKeys(current).equals(current));
    assert.throws(() => currentTicketKeys(Buffer.alloc(16)), { code: 'GH_TICKET_KEYS' });
    const options = serverContextOptions(resolved(ec, true), {
      clientCA: null,
      crl: null,
      tls: tlsConfig(),
      ticketKeys: pair,
    });
    assert.ok((options.ticketKeys as Buffer).equals(current));
    assert.doesNotThrow(() => tls.createSecureContext(options));
  });
});
