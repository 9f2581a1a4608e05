// Revocation and CA changes take effect at once, through the real `gatehouse run` (2 workers) with a
// PKI made by openssl at test time:
// - resumed sessions: `openssl s_client -sess_out/-sess_in`, TLS 1.2 and 1.3, around a CRL change
//   and around a CA removal: no session from before the change resumes, and the full handshake that
//   follows refuses the certificate;
// - open connections: a keep-alive HTTP/1.1 client and an h2 session opened before a revocation get
//   401 on their next request; connections whose certificates still pass are not disturbed, also
//   one whose client sent an intermediate that no bundle holds, across a change of the CA bundle.
// - a revoked intermediate: connections through it get 401, also one made by resuming a session
//   (which shows the server the leaf alone).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CaHandle, createCa, issueCertificate, type LeafHandle, revoke, writeCrl } from '@gatehouse/pki';
import { type GatewayProcess, startGateway, tempDir, writeConfig } from '../support/gateway.ts';
import { gatewayHead } from '../support/gateway-config.ts';

const dir = tempDir('gh-revocation-');
let serverCa: CaHandle;
let caA: CaHandle;
let caB: CaHandle;
/** An intermediate of CA A that is in no bundle: its clients send it. */
let interA: CaHandle;
/** Another one, revoked by CA A in the last test. */
let interR: CaHandle;
let backend: http.Server;
let gateway: GatewayProcess;
let port = 0;
const bundlePath = join(dir, 'clients-ca.pem');
const crlPath = join(dir, 'clients.crl');

function replace(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/** Rewrites a watched file and waits until every worker serves the new generation. */
async function change(path: string, text: string): Promise<void> {
  const mark = gateway.lines.length;
  replace(path, text);
  await gateway.waitForLogAfter(
    mark,
    (l) => l.msg === 'reload accepted' || l.msg === 'reload rejected',
    20_000,
    `a reload after rewriting ${path}`,
  );
  const last = gateway.lines.slice(mark).find((l) => l.msg === 'reload accepted' || l.msg === 'reload rejected');
  assert.equal(last?.msg, 'reload accepted', JSON.stringify(last));
}

/** A CRL from every CA of the test (the gateway checks the whole chain: X509_V_FLAG_CRL_CHECK_ALL). */
async function currentCrls(): Promise<string> {
  return (await Promise.all([caA, caB, interA, interR].map((ca) => writeCrl(ca)))).map((c) => c.crlPem).join('');
}

type TlsVersion = '-tls1_2' | '-tls1_3';

function opensslGet(leaf: LeafHandle, version: TlsVersion, session: ['-sess_out' | '-sess_in', string]) {
  return new Promise<{ stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      'openssl',
      [
        's_client',
        '-connect',
        `127.0.0.1:${port}`,
        '-servername',
        'localhost',
        version,
        '-CAfile',
        serverCa.certPath,
        '-cert',
        leaf.certPath,
        '-key',
        leaf.keyPath,
        '-ign_eof',
        ...session,
      ],
      { timeout: 15_000 },
      (_error, stdout, stderr) => resolve({ stdout: String(stdout), stderr: String(stderr) }),
    );
    child.stdin?.end('GET /secure HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  });
}

/** A session from a full handshake that reached the backend, then whether `-sess_in` still resumes it. */
/** A saved session of `leaf` for TLS 1.2 and one for TLS 1.3, each checked to resume before the change. */
async function sessionsFor(leaf: LeafHandle, name: string): Promise<Array<[TlsVersion, string]>> {
  const out: Array<[TlsVersion, string]> = [];
  for (const version of ['-tls1_2', '-tls1_3'] as const) out.push([version, await sessionFor(leaf, version, name)]);
  return out;
}

async function sessionFor(leaf: LeafHandle, version: TlsVersion, name: string): Promise<string> {
  const file = join(dir, `${name}${version}.sess`);
  const first = await opensslGet(leaf, version, ['-sess_out', file]);
  assert.match(first.stdout, /^New, TLSv1\.[23]/m, first.stdout + first.stderr);
  assert.match(first.stdout, /HTTP\/1\.1 200 /, 'the certificate passes before the change');
  const again = await opensslGet(leaf, version, ['-sess_in', file]);
  assert.match(again.stdout, /^Reused, /m, `${version}: resumes before the change (either worker)`);
  return file;
}

before(async () => {
  serverCa = await createCa(dir, { name: 'server-ca' });
  [caA, caB] = await Promise.all([createCa(dir, { name: 'clients-a' }), createCa(dir, { name: 'clients-b' })]);
  [interA, interR] = await Promise.all([
    createCa(dir, { name: 'clients-a-inter', parent: caA }),
    createCa(dir, { name: 'clients-a-inter-r', parent: caA }),
  ]);
  const server = await issueCertificate(serverCa, {
    name: 'server',
    cn: 'localhost',
    dns: ['localhost'],
    usage: 'server',
  });
  writeFileSync(bundlePath, caA.certPem + caB.certPem);
  writeFileSync(crlPath, await currentCrls());
  backend = http.createServer((req, res) => {
    req.resume();
    res.end(`ok ${req.url}`);
  });
  backend.listen(0, '127.0.0.1');
  await once(backend, 'listening');
  const head = await gatewayHead({
    tls: { cert: server.certPath, key: server.keyPath },
    gateway: ['  watch: { debounce: 50ms, pollInterval: 0s }'],
  });
  port = head.webSecurePort;
  const config = writeConfig(dir, [
    ...head.lines,
    '    clientAuth:',
    `      clientCA: ${bundlePath}`,
    `      crl: ${crlPath}`,
    '      required: false',
    'routes:',
    '  - name: secure',
    '    path: /secure',
    `    target: http://127.0.0.1:${(backend.address() as AddressInfo).port}`,
    '    clientAuth: { mode: required }',
  ]);
  gateway = await startGateway(config, { workers: 2 });
});

after(async () => {
  await gateway?.stop();
  backend?.close();
});

/** Resumption attempts after a change, each on whichever worker the kernel picks. */
const ATTEMPTS = 4;

describe('revocation and CA changes vs resumed sessions', () => {
  it('resumed sessions: a certificate revoked by a new CRL cannot resume a TLS 1.2 or 1.3 session from before', async () => {
    const victim = await issueCertificate(caA, { name: 'victim-resume', cn: 'victim-resume', usage: 'client' });
    const sessions = await sessionsFor(victim, 'victim');
    await revoke(caA, victim);
    await change(crlPath, await currentCrls());
    for (const [version, file] of sessions) {
      // Several tries: the kernel spreads them over both workers, and none may resume.
      for (let i = 0; i < ATTEMPTS; i++) {
        const after = await opensslGet(victim, version, ['-sess_in', file]);
        assert.doesNotMatch(after.stdout, /^Reused, /m, `${version}: no resumption across the CRL change`);
        assert.match(after.stdout, /HTTP\/1\.1 401 /, `${version}: the full handshake finds the revocation`);
      }
    }
  });

  it('resumed sessions: a certificate whose CA was removed from clientCA cannot resume a session from before', async () => {
    const leaf = await issueCertificate(caB, { name: 'b-resume', cn: 'b-resume', usage: 'client' });
    const sessions = await sessionsFor(leaf, 'b');
    await change(bundlePath, caA.certPem);
    try {
      for (const [version, file] of sessions) {
        for (let i = 0; i < ATTEMPTS; i++) {
          const after = await opensslGet(leaf, version, ['-sess_in', file]);
          assert.doesNotMatch(after.stdout, /^Reused, /m, `${version}: no resumption across the CA removal`);
          assert.match(after.stdout, /HTTP\/1\.1 401 /, `${version}: CA B is no longer trusted`);
        }
      }
    } finally {
      await change(bundlePath, caA.certPem + caB.certPem);
    }
  });
});

interface Answer {
  status: number;
  reused: boolean;
}

function get(agent: https.Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/secure', servername: 'localhost', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end();
  });
}

function h2Get(session: http2.ClientHttp2Session): Promise<number> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': '/secure' });
    stream.on('response', (headers) => {
      stream.resume();
      stream.on('end', () => resolve(Number(headers[':status'])));
    });
    stream.on('error', reject);
    stream.end();
  });
}

describe('revocation vs open connections', () => {
  it('open connections: a keep-alive HTTP/1.1 connection and an h2 session from before a revocation get 401 on their next request; others are not disturbed', async () => {
    const [victim, bystander] = await Promise.all([
      issueCertificate(caA, { name: 'victim-open', cn: 'victim-open', usage: 'client' }),
      issueCertificate(caA, { name: 'bystander', cn: 'bystander', usage: 'client' }),
    ]);
    const tlsOf = (leaf: LeafHandle) => ({ ca: serverCa.certPem, cert: leaf.certPem, key: leaf.keyPem });
    const victimAgent = new https.Agent({ keepAlive: true, maxSockets: 1, ...tlsOf(victim) });
    const bystanderAgent = new https.Agent({ keepAlive: true, maxSockets: 1, ...tlsOf(bystander) });
    const victimH2 = http2.connect(`https://localhost:${port}`, { ...tlsOf(victim), host: '127.0.0.1' });
    const bystanderH2 = http2.connect(`https://localhost:${port}`, { ...tlsOf(bystander), host: '127.0.0.1' });
    try {
      assert.equal((await get(victimAgent)).status, 200);
      assert.equal((await get(bystanderAgent)).status, 200);
      assert.equal(await h2Get(victimH2), 200);
      assert.equal(await h2Get(bystanderH2), 200);
      // Still the same connections after a request each: keep-alive works.
      assert.deepEqual(await get(victimAgent), { status: 200, reused: true });

      await revoke(caA, victim);
      await change(crlPath, await currentCrls());

      assert.deepEqual(await get(victimAgent), { status: 401, reused: true }, 'HTTP/1.1, same connection');
      assert.equal(await h2Get(victimH2), 401, 'h2, same session');
      assert.deepEqual(await get(bystanderAgent), { status: 200, reused: true }, 'bystander, same connection');
      assert.equal(await h2Get(bystanderH2), 200, 'bystander h2 session');
      // And again: the verdict holds on the connection.
      assert.equal((await get(victimAgent)).status, 401);
      assert.equal(await h2Get(bystanderH2), 200);
    } finally {
      victimAgent.destroy();
      bystanderAgent.destroy();
      victimH2.close();
      bystanderH2.close();
    }
  });
});

describe('CA changes vs open connections', () => {
  it('open connections: after a CA leaves clientCA its open connections get 401; a client whose intermediate is in no bundle keeps its connection', async () => {
    const [viaInter, ofB] = await Promise.all([
      issueCertificate(interA, { name: 'via-inter-open', cn: 'via-inter-open', usage: 'client' }),
      issueCertificate(caB, { name: 'b-open', cn: 'b-open', usage: 'client' }),
    ]);
    // The client sends its intermediate, as it must: the gateway's bundle holds only the roots.
    const viaInterTls = { ca: serverCa.certPem, cert: viaInter.fullchainPem, key: viaInter.keyPem };
    const ofBTls = { ca: serverCa.certPem, cert: ofB.certPem, key: ofB.keyPem };
    const viaInterAgent = new https.Agent({ keepAlive: true, maxSockets: 1, ...viaInterTls });
    const ofBAgent = new https.Agent({ keepAlive: true, maxSockets: 1, ...ofBTls });
    const viaInterH2 = http2.connect(`https://localhost:${port}`, { ...viaInterTls, host: '127.0.0.1' });
    const ofBH2 = http2.connect(`https://localhost:${port}`, { ...ofBTls, host: '127.0.0.1' });
    try {
      assert.equal((await get(viaInterAgent)).status, 200);
      assert.equal((await get(ofBAgent)).status, 200);
      assert.equal(await h2Get(viaInterH2), 200);
      assert.equal(await h2Get(ofBH2), 200);

      await change(bundlePath, caA.certPem);

      assert.deepEqual(await get(ofBAgent), { status: 401, reused: true }, 'CA B removed: HTTP/1.1, same connection');
      assert.equal(await h2Get(ofBH2), 401, 'CA B removed: h2, same session');
      assert.deepEqual(
        await get(viaInterAgent),
        { status: 200, reused: true },
        'the chain it sent still ends at CA A: HTTP/1.1, same connection',
      );
      assert.equal(await h2Get(viaInterH2), 200, 'the chain it sent still ends at CA A: h2, same session');
    } finally {
      viaInterAgent.destroy();
      ofBAgent.destroy();
      viaInterH2.close();
      ofBH2.close();
      await change(bundlePath, caA.certPem + caB.certPem);
    }
  });
});

function getOnSocket(agent: https.Agent): Promise<Answer & { resumed: boolean }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/secure', servername: 'localhost', agent }, (res) => {
      const resumed = (res.socket as import('node:tls').TLSSocket).isSessionReused();
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket, resumed }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('a revoked intermediate vs open connections', () => {
  it('open connections: after a CRL revokes the intermediate a client sent, its connections get 401, a resumed one too', async () => {
    const leaf = await issueCertificate(interR, {
      name: 'via-revoked-inter',
      cn: 'via-revoked-inter',
      usage: 'client',
    });
    const tlsOfLeaf = { ca: serverCa.certPem, cert: leaf.fullchainPem, key: leaf.keyPem };
    const full = new https.Agent({ keepAlive: true, maxSockets: 1, ...tlsOfLeaf });
    // Same agent, two sockets: the second resumes the first one's session and carries only the leaf.
    const resuming = new https.Agent({ keepAlive: true, maxSockets: 2, ...tlsOfLeaf });
    try {
      assert.deepEqual(await getOnSocket(full), { status: 200, reused: false, resumed: false });
      const first = await getOnSocket(resuming);
      assert.equal(first.status, 200);
      // Take the first socket out of the pool: the next request opens a second one, which resumes.
      const [pooled] = Object.values(
        (resuming as unknown as { freeSockets: Record<string, import('node:net').Socket[]> }).freeSockets,
      ).flat();
      pooled?.destroy();
      const resumed = await getOnSocket(resuming);
      assert.deepEqual(resumed, { status: 200, reused: false, resumed: true }, 'a resumed connection');

      await revoke(caA, interR);
      await change(crlPath, await currentCrls());

      assert.deepEqual(
        await getOnSocket(full),
        { status: 401, reused: true, resumed: false },
        'full handshake, same connection',
      );
      assert.deepEqual(
        await getOnSocket(resuming),
        { status: 401, reused: true, resumed: true },
        'resumed, same connection',
      );
    } finally {
      full.destroy();
      resuming.destroy();
    }
  });
});
