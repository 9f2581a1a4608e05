// Issue 4 (inbound): mutual TLS, SNI certificates, TLS policy and client identity, through the real
// `gatehouse run` with a PKI made by openssl at test time, driven by real clients: curl, openssl
// s_client and Node's tls/https/http2. One gateway (2 workers) with `required: false` carries the
// per-route cases; a second, small one with `required: true` shows the handshake refusals.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CaHandle, createCa, issueCertificate, type LeafHandle, revoke, writeCrl } from '@gatehouse/pki';
import { freePort, GatewayProcess, tempDir } from '../support/gateway.ts';
import { h2Reply } from '../support/h2-client.ts';

interface Seen {
  method: string;
  url: string;
  httpVersion: string;
  headers: http.IncomingHttpHeaders;
}

let dir: string;
let root: CaHandle;
let inter: CaHandle;
let other: CaHandle;
const servers: Record<string, LeafHandle> = {};
const clients: Record<string, LeafHandle> = {};
let backend: http.Server;
let backendPort = 0;
const seen: Seen[] = [];
let gateway: GatewayProcess;
let port = 0;
let strictGateway: GatewayProcess;
/** Outbound (gateway → backend) TLS backends, by name. */
const upstreams: Record<string, { server: https.Server | null; port: number; seen: string[] }> = {};
let sServer: ReturnType<typeof execFile> | null = null;
let strictPort = 0;

function run(
  cmd: string,
  args: string[],
  input = '',
  timeoutMs = 10_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    child.stdin?.end(input);
  });
}

before(async () => {
  dir = tempDir('gh-mtls-');
  root = await createCa(dir, { name: 'root' });
  inter = await createCa(dir, { name: 'inter', parent: root });
  other = await createCa(dir, { name: 'other' });
  const day = 86_400_000;
  const now = Date.now();
  const [fallback, ec, rsa, wild] = await Promise.all([
    issueCertificate(inter, {
      name: 's-default',
      cn: 'default.test',
      dns: ['default.test'],
      usage: 'server',
      keyType: 'ec',
    }),
    issueCertificate(inter, { name: 's-ec', cn: 'ec.test', dns: ['ec.test'], usage: 'server', keyType: 'ec' }),
    issueCertificate(inter, {
      name: 's-rsa',
      cn: 'rsa.test',
      dns: [
        'rsa.test',
        'open.test',
        'strict.test',
        'admin.test',
        'off.test',
        'svc.test',
        'ipsan.test',
        'ipsan-typed.test',
      ],
      usage: 'server',
      keyType: 'rsa',
    }),
    issueCertificate(inter, { name: 's-wild', cn: 'wild', dns: ['*.wild.test'], usage: 'server', keyType: 'rsa' }),
  ]);
  Object.assign(servers, { fallback, ec, rsa, wild });
  const [good, admin, expired, future, revoked] = await Promise.all([
    issueCertificate(inter, {
      name: 'c-good',
      cn: 'good-client',
      dns: ['good.clients.test', 'alt.clients.test'],
      uris: ['spiffe://test/good'],
      usage: 'client',
    }),
    issueCertificate(inter, { name: 'c-admin', cn: 'admin', usage: 'client', keyType: 'rsa' }),
    issueCertificate(inter, {
      name: 'c-expired',
      cn: 'expired',
      usage: 'client',
      notBefore: new Date(now - 10 * day),
      notAfter: new Date(now - day),
    }),
    issueCertificate(inter, {
      name: 'c-future',
      cn: 'future',
      usage: 'client',
      notBefore: new Date(now + day),
      notAfter: new Date(now + 10 * day),
    }),
    issueCertificate(inter, { name: 'c-revoked', cn: 'revoked', usage: 'client' }),
  ]);
  const stranger = await issueCertificate(other, { name: 'c-stranger', cn: 'good-client', usage: 'client' });
  const [svc, forgedSvc, ipOnly] = await Promise.all([
    issueCertificate(inter, { name: 'c-svc', cn: 'svc-a', usage: 'client' }),
    // Its subject is `CN=svc-x\,O=Gatehouse Dev,O=Gatehouse Dev`: a string glob would let `*` take `x\,O=...`.
    issueCertificate(inter, { name: 'c-svc-forged', cn: 'svc-x,O=Gatehouse Dev', usage: 'client' }),
    issueCertificate(inter, { name: 'c-ip-only', cn: 'ip-only', ips: ['127.0.0.1'], usage: 'client' }),
  ]);
  Object.assign(clients, { good, admin, expired, future, revoked, stranger, svc, forgedSvc, ipOnly });
  await revoke(inter, revoked);
  // CRL checking covers the whole chain: each CA in it publishes one.
  const crlPath = join(dir, 'crls.pem');
  writeFileSync(crlPath, (await writeCrl(inter)).crlPem + (await writeCrl(root)).crlPem);

  backend = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', httpVersion: req.httpVersion, headers: req.headers });
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ url: req.url, xfcc: req.headers['x-forwarded-client-cert'] ?? null }));
  });
  backend.listen(0, '127.0.0.1');
  await once(backend, 'listening');
  backendPort = (backend.address() as AddressInfo).port;

  const target = `http://127.0.0.1:${backendPort}`;
  const certs = [fallback, ec, rsa, wild]
    .map((l) => `      - {cert: ${l.fullchainPath}, key: ${l.keyPath}}`)
    .join('\n');
  port = await freePort();
  const config = join(dir, 'gatehouse.yaml');
  writeFileSync(
    config,
    `version: 2
gateway:
  entryPoints:
    web: {enabled: false}
    webSecure: {address: "127.0.0.1:${port}"}
  admin: {address: "127.0.0.1:${await freePort()}"}
  tls:
    certificates:
${certs}
    clientAuth:
      clientCA: ${root.certPath}
      required: false
      crl: ${crlPath}
routes:
  - name: open
    path: /
    hosts: [open.test, ec.test, rsa.test, default.test, "*.wild.test"]
    target: ${target}
  - name: strict
    path: /
    hosts: [strict.test]
    target: ${target}
    clientAuth: {mode: required}
  - name: admin
    path: /
    hosts: [admin.test]
    target: ${target}
    clientAuth: {mode: required, allowedSubjects: ["CN=admin,O=*"]}
  - name: nocert
    path: /
    hosts: [off.test]
    target: ${target}
    clientAuth: {mode: off}
  - name: svc
    path: /
    hosts: [svc.test]
    target: ${target}
    clientAuth: {mode: required, allowedSubjects: ["CN=svc-*,O=Gatehouse Dev"]}
  - name: ipsan
    path: /
    hosts: [ipsan.test]
    target: ${target}
    clientAuth: {mode: required, allowedSANs: ["127.0.0.1"]}
  - name: ipsan-typed
    path: /
    hosts: [ipsan-typed.test]
    target: ${target}
    clientAuth: {mode: required, allowedSANs: ["IP:127.0.0.1"]}
`,
  );
  // ---- outbound: TLS backends for the routes of the second gateway ----
  const otherServer = await issueCertificate(other, {
    name: 'u-other',
    cn: 'localhost',
    dns: ['localhost'],
    ips: ['127.0.0.1'],
    usage: 'server',
  });
  const [upGood, upExpired, upWrongName, gatewayClient] = await Promise.all([
    issueCertificate(inter, {
      name: 'u-good',
      cn: 'localhost',
      dns: ['localhost'],
      ips: ['127.0.0.1'],
      usage: 'server',
    }),
    issueCertificate(inter, {
      name: 'u-expired',
      cn: 'localhost',
      dns: ['localhost'],
      ips: ['127.0.0.1'],
      usage: 'server',
      notBefore: new Date(now - 10 * day),
      notAfter: new Date(now - day),
    }),
    issueCertificate(inter, { name: 'u-wrongname', cn: 'elsewhere.test', dns: ['elsewhere.test'], usage: 'server' }),
    issueCertificate(inter, { name: 'gw-client', cn: 'gatehouse-gateway', usage: 'client' }),
  ]);
  async function upstream(name: string, leaf: LeafHandle, requireClientCert: boolean): Promise<void> {
    const entry = { server: null as https.Server | null, port: 0, seen: [] as string[] };
    const server = https.createServer(
      {
        key: leaf.keyPem,
        cert: leaf.fullchainPem,
        ca: root.certPem,
        requestCert: requireClientCert,
        rejectUnauthorized: requireClientCert,
      },
      (req, res) => {
        const peer = (req.socket as tls.TLSSocket).getPeerCertificate();
        entry.seen.push(`${req.url} ${peer?.subject?.CN ?? '-'}`);
        res.end(`${name} saw client ${peer?.subject?.CN ?? 'none'}`);
      },
    );
    server.on('tlsClientError', () => {});
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    entry.server = server;
    entry.port = (server.address() as AddressInfo).port;
    upstreams[name] = entry;
  }
  await Promise.all([
    upstream('mtls', upGood, true),
    upstream('plain', upGood, false),
    upstream('expired', upExpired, false),
    upstream('wrongname', upWrongName, false),
    upstream('othermtls', otherServer, true),
  ]);
  // A backend that is not Node: openssl s_server demanding a client certificate.
  const sPort = await freePort();
  sServer = execFile('openssl', [
    's_server',
    '-accept',
    `127.0.0.1:${sPort}`,
    '-cert',
    upGood.certPath,
    '-key',
    upGood.keyPath,
    '-cert_chain',
    inter.certPath,
    '-CAfile',
    root.certPath,
    '-Verify',
    '1',
    '-verify_return_error',
    '-www',
    '-naccept',
    '100',
  ]);
  sServer.on('error', () => {});
  for (let i = 0; i < 50; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const probe = net.connect(sPort, '127.0.0.1', () => {
        probe.destroy();
        resolve(true);
      });
      probe.on('error', () => resolve(false));
    });
    if (ok) break;
    await sleep(100);
  }
  upstreams.sserver = { server: null, port: sPort, seen: [] };
  const u = (n: string) => `https://127.0.0.1:${upstreams[n]?.port}`;
  const tlsBlock = (o: { root?: boolean; client?: boolean; insecure?: boolean }) => {
    const lines = [];
    if (o.root) lines.push(`rootCAs: ${root.certPath}`);
    if (o.client) lines.push(`clientCert: ${gatewayClient.fullchainPath}`, `clientKey: ${gatewayClient.keyPath}`);
    if (o.insecure) lines.push('insecureSkipVerify: true');
    return `{${lines.join(', ')}}`;
  };
  const outboundRoutes: Array<[string, string, string]> = [
    ['up-mtls', u('mtls'), tlsBlock({ root: true, client: true })],
    ['up-rootcas', u('plain'), tlsBlock({ root: true })],
    ['up-nocert', u('mtls'), tlsBlock({ root: true })],
    ['up-systemroots', u('plain'), tlsBlock({ client: true })],
    ['up-systemroots-mtls', u('othermtls'), tlsBlock({ client: true })],
    ['up-insecure', u('expired'), tlsBlock({ insecure: true })],
    ['up-expired', u('expired'), tlsBlock({ root: true })],
    ['up-wrongname', u('wrongname'), tlsBlock({ root: true })],
    ['up-sserver', u('sserver'), tlsBlock({ root: true, client: true })],
    ['up-sserver-nocert', u('sserver'), tlsBlock({ root: true })],
  ];
  const outbound = outboundRoutes
    .map(
      ([name, endpoint, block]) => `  - name: ${name}
    path: /
    hosts: [${name}.test]
    target: ${endpoint}
    security:
      tls: ${block}
`,
    )
    .join('');

  strictPort = await freePort();
  const strictConfig = join(dir, 'strict.yaml');
  writeFileSync(
    strictConfig,
    `version: 2
gateway:
  entryPoints:
    web: {enabled: false}
    webSecure: {address: "127.0.0.1:${strictPort}"}
  admin: {address: "127.0.0.1:${await freePort()}"}
  tls:
    certificates:
      - {cert: ${rsa.fullchainPath}, key: ${rsa.keyPath}}
    clientAuth:
      clientCA: ${root.certPath}
      required: true
      crl: ${crlPath}
    minVersion: TLSv1.3
routes:
${outbound}  - name: all
    path: /
    target: ${target}
`,
  );
  gateway = new GatewayProcess(['run', '--config', config, '--workers', '2'], { GATEHOUSE_LOG_FORMAT: 'json' });
  // The "system roots" of this gateway are Node's plus the second CA, so that a route without
  // rootCAs can be shown to verify against them.
  strictGateway = new GatewayProcess(['run', '--config', strictConfig, '--workers', '1'], {
    GATEHOUSE_LOG_FORMAT: 'json',
    NODE_EXTRA_CA_CERTS: other.certPath,
  });
  await Promise.all([gateway.ready(), strictGateway.ready()]);
});

after(async () => {
  await Promise.all([gateway?.stop(), strictGateway?.stop()]);
  sServer?.kill();
  for (const u of Object.values(upstreams)) {
    u.server?.closeAllConnections();
    u.server?.close();
  }
  backend?.closeAllConnections();
  backend?.close();
});

/** curl against the gateway; returns [exit code, HTTP status, body]. */
async function curl(
  name: string,
  opts: { leaf?: LeafHandle; host?: string; headers?: string[]; path?: string; gwPort?: number; extra?: string[] } = {},
): Promise<[number, number, string]> {
  const p = opts.gwPort ?? port;
  const args = [
    '-sS',
    '--max-time',
    '10',
    '--cacert',
    root.certPath,
    '--resolve',
    `${name}:${p}:127.0.0.1`,
    '-w',
    '\n%{http_code}',
  ];
  if (opts.leaf) args.push('--cert', opts.leaf.fullchainPath, '--key', opts.leaf.keyPath);
  if (opts.host) args.push('-H', `Host: ${opts.host}`);
  for (const h of opts.headers ?? []) args.push('-H', h);
  args.push(...(opts.extra ?? []), `https://${name}:${p}${opts.path ?? '/'}`);
  const r = await run('curl', args);
  const nl = r.stdout.lastIndexOf('\n');
  return [r.code, Number(r.stdout.slice(nl + 1)), r.stdout.slice(0, Math.max(0, nl))];
}

describe('clientAuth required: false, with per-route policies', () => {
  it('no certificate is fine; a good one is forwarded as XFCC', async () => {
    const [code, status, body] = await curl('open.test');
    assert.equal(code, 0);
    assert.equal(status, 200);
    assert.equal(JSON.parse(body).xfcc, null);
    const [, status2, body2] = await curl('open.test', { leaf: clients.good });
    assert.equal(status2, 200);
    const xfcc = JSON.parse(body2).xfcc as string;
    assert.match(
      xfcc,
      /^Hash=[0-9a-f]{64};Subject="CN=good-client,O=Gatehouse Dev";URI=spiffe:\/\/test\/good;DNS=good\.clients\.test;DNS=alt\.clients\.test$/,
    );
  });

  it('a client-sent X-Forwarded-Client-Cert or X-Client-Cert* never reaches the backend', async () => {
    seen.length = 0;
    const spoof = [
      'X-Forwarded-Client-Cert: Hash=00;Subject="CN=root"',
      'X-Client-Cert: forged',
      'X-Client-Cert-Chain: forged',
    ];
    const [, status] = await curl('open.test', { headers: spoof, path: '/spoof-anon' });
    assert.equal(status, 200);
    const [, status2, body2] = await curl('open.test', { headers: spoof, path: '/spoof-cert', leaf: clients.good });
    assert.equal(status2, 200);
    const anon = seen.find((s) => s.url === '/spoof-anon');
    const withCert = seen.find((s) => s.url === '/spoof-cert');
    assert.ok(anon && withCert);
    assert.equal(anon.headers['x-forwarded-client-cert'], undefined);
    assert.equal(anon.headers['x-client-cert'], undefined);
    assert.equal(anon.headers['x-client-cert-chain'], undefined);
    assert.match(String(withCert.headers['x-forwarded-client-cert']), /^Hash=[0-9a-f]{64};Subject="CN=good-client/);
    assert.equal(withCert.headers['x-client-cert'], undefined);
    assert.equal(JSON.parse(body2).xfcc, withCert.headers['x-forwarded-client-cert']);
  });

  for (const [leaf, reason] of [
    ['expired', 'client certificate expired'],
    ['future', 'client certificate not yet valid'],
    ['stranger', 'client certificate signed by an unknown CA'],
    ['revoked', 'client certificate revoked'],
  ] as const) {
    it(`a presented ${leaf} certificate gets 401 "${reason}"`, async () => {
      seen.length = 0;
      const [code, status, body] = await curl('open.test', { leaf: clients[leaf], path: `/bad-${leaf}` });
      assert.equal(code, 0, 'the handshake itself succeeds');
      assert.equal(status, 401);
      assert.match(body, new RegExp(reason));
      assert.equal(seen.length, 0);
    });
  }

  it('a route with mode required: 401 without a certificate, 200 with one', async () => {
    assert.equal((await curl('strict.test'))[1], 401);
    assert.equal((await curl('strict.test', { leaf: clients.good }))[1], 200);
    assert.equal((await curl('strict.test', { leaf: clients.expired }))[1], 401);
  });

  it('a route with mode off ignores the certificate', async () => {
    assert.equal((await curl('off.test'))[1], 200);
    assert.equal((await curl('off.test', { leaf: clients.expired }))[1], 200);
  });

  it('allowedSubjects: 403 for another verified identity', async () => {
    assert.equal((await curl('admin.test', { leaf: clients.admin }))[1], 200);
    const [, status, body] = await curl('admin.test', { leaf: clients.good });
    assert.equal(status, 403);
    assert.match(body, /subject not allowed/);
  });

  it('globs: an allowedSubjects `*` matches within one RDN value, never across an escaped `\\,`', async () => {
    assert.equal((await curl('svc.test', { leaf: clients.svc }))[1], 200);
    const [, status, body] = await curl('svc.test', { leaf: clients.forgedSvc });
    assert.equal(status, 403, 'CN "svc-x,O=Gatehouse Dev" is one RDN value, not svc-* plus an O');
    assert.match(body, /subject not allowed/);
  });

  it('globs: an allowedSANs entry without a type prefix matches DNS names only; IP: matches the IP SAN', async () => {
    const [, status, body] = await curl('ipsan.test', { leaf: clients.ipOnly });
    assert.equal(status, 403, '"127.0.0.1" is a DNS pattern: the IP SAN 127.0.0.1 does not match it');
    assert.match(body, /not allowed/);
    assert.equal((await curl('ipsan-typed.test', { leaf: clients.ipOnly }))[1], 200);
    assert.equal((await curl('ipsan-typed.test', { leaf: clients.good }))[1], 403);
  });

  it('a certificate must be present: a TLS 1.3 session made without one, resumed, still gets 401 on a required route', async () => {
    // Node 22.12 reports such a resumption `authorized`: there only Gatehouse's
    // own presence check refuses it (checked: without it this test fails on 22.12). Node versions
    // such as 24.21 refuse it themselves, so on them this test holds either way.
    const file = join(dir, 'nocert-tls13.sess');
    const get = (session: string[]) =>
      run(
        'openssl',
        [
          's_client',
          '-connect',
          `127.0.0.1:${port}`,
          '-servername',
          'strict.test',
          '-tls1_3',
          '-CAfile',
          root.certPath,
          '-ign_eof',
          ...session,
        ],
        'GET / HTTP/1.1\r\nHost: strict.test\r\nConnection: close\r\n\r\n',
      );
    const first = await get(['-sess_out', file]);
    assert.match(first.stdout, /^New, TLSv1\.3/m, first.stdout + first.stderr);
    assert.match(first.stdout, /HTTP\/1\.1 401 /, 'full handshake without a certificate');
    let resumed = false;
    // Either worker may answer; a resumption is what is under test.
    for (let i = 0; i < 6 && !resumed; i++) {
      seen.length = 0;
      const again = await get(['-sess_in', file]);
      if (!/^Reused, /m.test(again.stdout)) continue;
      resumed = true;
      assert.match(again.stdout, /HTTP\/1\.1 401 /, 'resumed without a certificate: still refused');
      assert.equal(seen.length, 0, 'nothing forwarded');
    }
    assert.ok(resumed, 'the session resumed');
  });

  it('421 when the SNI name and the Host belong to different policies', async () => {
    const [, status] = await curl('open.test', { leaf: clients.good, host: 'strict.test' });
    assert.equal(status, 421);
    // same policy on both names: served
    assert.equal((await curl('open.test', { host: 'ec.test' }))[1], 200);
  });
});

describe('clientAuth required: true refuses at the handshake', () => {
  it('a good certificate is served', async () => {
    const [code, status] = await curl('rsa.test', { leaf: clients.good, gwPort: strictPort });
    assert.equal(code, 0);
    assert.equal(status, 200);
  });
  for (const leaf of [null, 'expired', 'future', 'stranger', 'revoked'] as const) {
    it(`${leaf ?? 'no'} certificate: the handshake fails, nothing is forwarded`, async () => {
      seen.length = 0;
      const [code, status] = await curl('rsa.test', { ...(leaf ? { leaf: clients[leaf] } : {}), gwPort: strictPort });
      assert.notEqual(code, 0, 'curl reports a TLS failure');
      assert.equal(status, 0);
      assert.equal(seen.length, 0);
    });
  }
  it('honours a configured minVersion (TLSv1.3 here): TLS 1.2 is refused', async () => {
    const r = await run(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${strictPort}`, '-servername', 'rsa.test', '-tls1_2'],
      'Q\n',
    );
    assert.match(r.stdout + r.stderr, /alert protocol version|unsupported protocol/i);
    assert.match(r.stdout, /no peer certificate available/);
  });

  it('openssl s_client without a certificate gets an alert', async () => {
    const r = await run(
      'openssl',
      // -ign_eof: in TLS 1.3 the server's verdict arrives after the client's Finished, so wait for it.
      [
        's_client',
        '-connect',
        `127.0.0.1:${strictPort}`,
        '-servername',
        'rsa.test',
        '-CAfile',
        root.certPath,
        '-ign_eof',
      ],
      'GET / HTTP/1.1\r\nHost: rsa.test\r\nConnection: close\r\n\r\n',
    );
    assert.match(r.stdout + r.stderr, /alert certificate required|alert handshake failure|certificate required/i);
    assert.doesNotMatch(r.stdout, /HTTP\/1\.1 200/);
  });
});

describe('SNI and TLS policy', () => {
  async function sclient(name: string | null, extra: string[]): Promise<string> {
    const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', root.certPath, ...extra];
    if (name) args.push('-servername', name);
    else args.push('-noservername');
    const r = await run('openssl', args, 'Q\n');
    return r.stdout + r.stderr;
  }

  for (const version of ['-tls1_2', '-tls1_3']) {
    it(`each name gets its own certificate, ECDSA and RSA mixed (${version})`, async () => {
      const cases: Array<[string | null, string, RegExp]> = [
        ['ec.test', 'CN = ec.test', /Server public key is 256 bit|Peer signature type: ECDSA/],
        ['rsa.test', 'CN = rsa.test', /Server public key is 2048 bit|Peer signature type: RSA/],
        ['a.wild.test', 'CN = wild', /Server public key is 2048 bit|Peer signature type: RSA/],
        ['b.a.wild.test', 'CN = default.test', /Server public key is 256 bit|Peer signature type: ECDSA/],
        ['unknown.test', 'CN = default.test', /Server public key is 256 bit/],
        [null, 'CN = default.test', /Server public key is 256 bit/],
      ];
      for (const [name, subject, keyType] of cases) {
        const out = await sclient(name, [version]);
        const line = out.split('\n').find((l) => l.startsWith('subject=')) ?? '';
        assert.ok(line.endsWith(subject), `${name}: ${line}`);
        assert.match(out, keyType, `${name} key type`);
        assert.match(out, /Verify return code: 0 \(ok\)/, `${name} verifies`);
      }
    });
  }

  it('refuses TLS 1.0 and 1.1', async () => {
    for (const version of ['-tls1', '-tls1_1']) {
      const out = await sclient('ec.test', [version, '-cipher', 'DEFAULT@SECLEVEL=0']);
      assert.match(out, /no peer certificate available/, version);
      assert.match(
        out,
        /alert protocol version|no protocols available|unsupported protocol|wrong version number/i,
        version,
      );
    }
  });

  it('refuses non-AEAD ciphers in TLS 1.2', async () => {
    for (const cipher of [
      'ECDHE-RSA-AES128-SHA256',
      'ECDHE-ECDSA-AES256-SHA',
      'AES128-SHA',
      'ECDHE-RSA-AES256-SHA384',
    ]) {
      const out = await sclient('rsa.test', ['-tls1_2', '-cipher', cipher]);
      assert.match(out, /alert handshake failure|no shared cipher/i, cipher);
      assert.match(out, /Cipher is \(NONE\)/, cipher);
      assert.match(out, /no peer certificate available/, cipher);
    }
    const ok = await sclient('rsa.test', ['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256']);
    assert.match(ok, /Cipher is ECDHE-RSA-AES128-GCM-SHA256/);
  });

  it('offers h2 by ALPN and forwards HTTP/2 to an HTTP/1.1 backend', async () => {
    seen.length = 0;
    const client = http2.connect(`https://ec.test:${port}`, {
      ca: root.certPem,
      host: '127.0.0.1',
      servername: 'ec.test',
    } as http2.SecureClientSessionOptions);
    client.on('error', () => {});
    const req = client.request({ ':path': '/over-h2', 'x-forwarded-client-cert': 'forged' });
    req.end();
    const { headers, body } = await h2Reply(req);
    client.close();
    assert.equal(headers[':status'], 200);
    assert.equal(JSON.parse(body).url, '/over-h2');
    const got = seen.find((s) => s.url === '/over-h2');
    assert.ok(got);
    assert.equal(got.httpVersion, '1.1');
    assert.equal(got.headers['x-forwarded-client-cert'], undefined);
    // The backend streams its body (no Content-Length): the access line still counts it.
    assert.equal(headers['content-length'], undefined);
    const line = await gateway.waitForLog((l) => l.path === '/over-h2', 10_000, 'the h2 access line');
    assert.equal(line.status, 200);
    assert.equal(line.bytes, Buffer.byteLength(body));
  });

  it('over h2, a verified client certificate is forwarded as XFCC too', async () => {
    seen.length = 0;
    const client = http2.connect(`https://open.test:${port}`, {
      ca: root.certPem,
      host: '127.0.0.1',
      servername: 'open.test',
      cert: clients.good!.fullchainPem,
      key: clients.good!.keyPem,
    } as http2.SecureClientSessionOptions);
    client.on('error', () => {});
    for (const path of ['/h2-cert-1', '/h2-cert-2']) {
      const req = client.request({ ':path': path, 'x-forwarded-client-cert': 'forged' });
      req.end();
      const { headers } = await h2Reply(req);
      assert.equal(headers[':status'], 200);
    }
    client.close();
    const values = seen.map((s) => s.headers['x-forwarded-client-cert']);
    assert.equal(values.length, 2);
    for (const v of values) assert.match(String(v), /^Hash=[0-9a-f]{64};Subject="CN=good-client,O=Gatehouse Dev";/);
  });

  it('resumes TLS 1.2 sessions (tickets) whichever worker answers', async () => {
    const sess = join(dir, 'session.pem');
    const first = await run(
      'openssl',
      [
        's_client',
        '-connect',
        `127.0.0.1:${port}`,
        '-servername',
        'ec.test',
        '-tls1_2',
        '-CAfile',
        root.certPath,
        '-sess_out',
        sess,
      ],
      'Q\n',
    );
    assert.match(first.stdout, /New, TLSv1\.2/);
    let reused = 0;
    const total = 16;
    for (let i = 0; i < total; i++) {
      const r = await run(
        'openssl',
        [
          's_client',
          '-connect',
          `127.0.0.1:${port}`,
          '-servername',
          'ec.test',
          '-tls1_2',
          '-CAfile',
          root.certPath,
          '-sess_in',
          sess,
        ],
        'Q\n',
      );
      if (/^Reused, /m.test(r.stdout)) reused++;
    }
    // Two workers behind one port: a ticket key per worker would fail about half of these.
    assert.ok(reused >= total - 2, `${reused} of ${total} resumed`);
  });

  it('resumes TLS 1.3 sessions across many connections (Node tls client)', async () => {
    const session = await new Promise<Buffer>((resolve, reject) => {
      const s = tls.connect({
        port,
        host: '127.0.0.1',
        servername: 'ec.test',
        ca: root.certPem,
        maxVersion: 'TLSv1.3',
      });
      s.once('session', (data: Buffer) => {
        resolve(data);
        s.end();
      });
      s.on('error', reject);
    });
    const total = 16;
    const reusedPaths = new Set<string>();
    for (let i = 0; i < total; i++) {
      const s = tls.connect({
        port,
        host: '127.0.0.1',
        servername: 'ec.test',
        ca: root.certPem,
        session,
        ALPNProtocols: ['http/1.1'],
      });
      await once(s, 'secureConnect');
      if (s.isSessionReused()) reusedPaths.add(`/resume13-${i}`);
      s.end(`GET /resume13-${i} HTTP/1.1\r\nHost: ec.test\r\nConnection: close\r\n\r\n`);
      s.resume();
      await once(s, 'close');
    }
    // The access log names the worker (pid) that served each connection: each worker must have
    // resumed some, which a ticket key per worker would make impossible. (A rare full handshake
    // is tolerated: it costs a client nothing but a round trip.)
    const deadline = Date.now() + 5000;
    let lines = [] as typeof gateway.lines;
    while (Date.now() < deadline) {
      lines = gateway.lines.filter((l) => typeof l.path === 'string' && l.path.startsWith('/resume13-'));
      if (lines.length === total) break;
      await sleep(50);
    }
    assert.equal(lines.length, total);
    assert.ok(reusedPaths.size >= total - 2, `${reusedPaths.size} of ${total} resumed`);
    const resumedOn = new Set(lines.filter((l) => reusedPaths.has(String(l.path))).map((l) => l.pid));
    assert.equal(resumedOn.size, 2, 'sessions resumed on both workers');
  });
});

describe('outbound TLS (gateway → backends)', () => {
  const call = (route: string) =>
    curl('rsa.test', { leaf: clients.good, gwPort: strictPort, host: `${route}.test`, path: `/${route}` });

  it('rootCAs plus a client certificate: a backend that requires one is served, and sees the gateway', async () => {
    const [, status, body] = await call('up-mtls');
    assert.equal(status, 200, body);
    assert.equal(body, 'mtls saw client gatehouse-gateway');
  });

  it('rootCAs alone verifies the backend against that CA', async () => {
    const [, status, body] = await call('up-rootcas');
    assert.equal(status, 200, body);
  });

  it('a client certificate without rootCAs uses the system roots', async () => {
    // Backend certified by the test CA, which is not a system root: refused.
    const [, refused, body] = await call('up-systemroots');
    assert.equal(refused, 502, body);
    assert.match(body, /unknown CA/);
    // Backend certified by a CA the system roots hold (NODE_EXTRA_CA_CERTS), requiring our certificate.
    const [, status, body2] = await call('up-systemroots-mtls');
    assert.equal(status, 200, body2);
    assert.equal(body2, 'othermtls saw client gatehouse-gateway');
  });

  it('insecureSkipVerify reaches a backend with an expired certificate, and warned at load', async () => {
    const [, status, body] = await call('up-insecure');
    assert.equal(status, 200, body);
    const warning = strictGateway.lines.find((l) => /insecureSkipVerify/.test(JSON.stringify(l)));
    assert.ok(warning, 'a warning names insecureSkipVerify');
  });

  for (const [route, reason] of [
    ['up-nocert', 'upstream rejected client certificate'],
    ['up-expired', 'upstream certificate expired'],
    ['up-wrongname', 'upstream certificate name mismatch'],
    ['up-sserver-nocert', 'upstream rejected client certificate'],
  ] as const) {
    it(`${route}: 502 "${reason}", in the body and the access log`, async () => {
      const [, status, body] = await call(route);
      assert.equal(status, 502, body);
      assert.match(body, new RegExp(reason));
      const line = await strictGateway.waitForLog(
        (l) => l.path === `/${route}` && l.status === 502,
        5000,
        `access line of ${route}`,
      );
      assert.equal(line.error, 'GH_UPSTREAM_TLS');
    });
  }

  it('openssl s_server -Verify 1 accepts the gateway client certificate', async () => {
    const [, status, body] = await call('up-sserver');
    assert.equal(status, 200, body);
    assert.match(body, /Client certificate|CN\s*=\s*gatehouse-gateway|s_server/i);
  });
});
