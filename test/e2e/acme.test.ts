// Automatic certificates through the real `gatehouse run`, against Debian's pebble (an ACME server)
// with real validation: pebble-challtestsrv resolves the test names to 127.0.0.1, and pebble
// validates HTTP-01 on the gateway's web port and TLS-ALPN-01 on its HTTPS port. The results are
// looked at with `openssl s_client`, verified against pebble's issuing root.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, type GatewayProcess, startGateway, tempDir, writeFile } from '../support/gateway.ts';
import { Pebble } from '../support/pebble.ts';
import { missingPackage } from '../support/services.ts';

const skip = missingPackage('pebble', 'pebble', 'pebble-challtestsrv');

function run(cmd: string, args: string[], input = '', timeoutMs = 10_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: timeoutMs }, (_error, stdout, stderr) => {
      resolve({ stdout: String(stdout), stderr: String(stderr) });
    });
    child.stdin?.end(input);
  });
}

/** What `openssl s_client` sees for `name`: the leaf's subject and serial, and the verify result. */
async function served(
  port: number,
  name: string,
  caFile: string,
): Promise<{ subject: string; serial: string; verify: string }> {
  const r = await run(
    'openssl',
    ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', name, '-CAfile', caFile, '-showcerts'],
    'Q\n',
  );
  const leaf = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(r.stdout)?.[0] ?? '';
  const x509 = await new Promise<string>((resolve) => {
    const child = execFile('openssl', ['x509', '-noout', '-subject', '-serial'], (_e, stdout) =>
      resolve(String(stdout)),
    );
    child.stdin?.end(leaf);
  });
  return {
    subject: /subject=(.*)/.exec(x509)?.[1]?.trim() ?? '',
    serial: /serial=(.*)/.exec(x509)?.[1]?.trim() ?? '',
    verify: /Verify return code: (\d+ \([^)]*\))/.exec(r.stdout)?.[1] ?? r.stdout + r.stderr,
  };
}

function get(url: string, options: https.RequestOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = (url.startsWith('https:') ? https : http).get(url, { ...options, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.setTimeout(10_000, () => request.destroy(new Error('timeout')));
  });
}

async function startBackend(): Promise<http.Server> {
  const server = http.createServer((req, res) => res.end(`backend ${req.headers.host}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

interface Setup {
  dir: string;
  web: number;
  secure: number;
  admin: number;
  backend: http.Server;
  pebble: Pebble;
  config: string;
}

async function setUp(prefix: string, validitySeconds?: number): Promise<Setup> {
  const dir = tempDir(prefix);
  const [web, secure, admin] = await Promise.all([freePort(), freePort(), freePort()]);
  const backend = await startBackend();
  const pebble = await Pebble.create({
    dir,
    httpPort: web,
    tlsPort: secure,
    ...(validitySeconds ? { validitySeconds } : {}),
  });
  const backendPort = (backend.address() as AddressInfo).port;
  const provider = (challengeType: string, name: string) => [
    `    ${name}:`,
    '      type: acme',
    '      acme:',
    '        email: ops@acme.test',
    `        directoryUrl: ${pebble.directoryUrl}`,
    `        caBundle: ${pebble.caBundlePath}`,
    `        storageFile: ${join(dir, 'acme', `${name}.json`)}`,
    `        challengeType: ${challengeType}`,
  ];
  const config = writeFile(
    dir,
    'gatehouse.yaml',
    [
      'gateway:',
      `  entryPoints: { web: { address: "127.0.0.1:${web}" }, webSecure: { address: "127.0.0.1:${secure}" } }`,
      `  admin: { address: "127.0.0.1:${admin}" }`,
      '  log: { accessLog: false }',
      'certManager:',
      '  defaultProvider: http',
      '  providers:',
      ...provider('http-01', 'http'),
      ...provider('tls-alpn-01', 'alpn'),
      'routes:',
      '  - name: a',
      '    path: /',
      '    hosts: [a.acme.test]',
      `    target: http://127.0.0.1:${backendPort}`,
      '  - name: b',
      '    path: /',
      '    hosts: [b.acme.test]',
      '    tls: { provider: alpn }',
      `    target: http://127.0.0.1:${backendPort}`,
      '  - name: plain',
      '    path: /',
      '    hosts: [plain.test]',
      '    tls: { provider: none }',
      `    target: http://127.0.0.1:${backendPort}`,
      '',
    ].join('\n'),
  );
  return { dir, web, secure, admin, backend, pebble, config };
}

/** Waits (bounded) until /status lists an ACME certificate for each of `names`: installed on every worker. */
async function installed(admin: number, names: string[]): Promise<void> {
  for (let attempt = 0; attempt < 150; attempt++) {
    const status = JSON.parse((await get(`http://127.0.0.1:${admin}/status`)).body) as {
      certificates: Array<{ names: string[]; provider?: string }>;
    };
    const missing = names.filter((n) => !status.certificates.some((c) => c.provider && c.names.includes(n)));
    if (missing.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.fail(`no ACME certificate installed for ${names.join(', ')}`);
}

function issued(gateway: GatewayProcess, name: string, what = 'ACME certificate issued', timeoutMs = 90_000) {
  return gateway.waitForLog((l) => l.msg === what && l.name === name, timeoutMs, `"${what}" for ${name}`);
}

describe('ACME certificates from pebble', { skip }, () => {
  let s: Setup;
  let gateway: GatewayProcess | null = null;
  let root: string;

  before(async () => {
    s = await setUp('gh-acme-');
  });
  after(async () => {
    await gateway?.stop();
    await s?.pebble.stop();
    s?.backend.close();
  });

  it('starts while the ACME server is down, serves the default certificate, and orders once it is up', async () => {
    gateway = await startGateway(s.config, { workers: 2 });
    const failure = await gateway.waitForLog((l) => l.msg === 'ACME order failed', 60_000, 'a failed order');
    assert.ok(typeof failure.error === 'string' && failure.error.length > 0, JSON.stringify(failure));
    assert.equal(typeof failure.retryInMs, 'number');
    // Meanwhile the name gets the default certificate (and a log line says so), and the gateway serves.
    await gateway.waitForLog(
      (l) => String(l.msg).startsWith('no ACME certificate yet') && l.name === 'a.acme.test',
      5_000,
    );
    const fallback = await served(s.secure, 'a.acme.test', s.pebble.caBundlePath);
    assert.match(fallback.subject, /gatehouse-default/);
    assert.equal((await get(`http://127.0.0.1:${s.web}/`, { headers: { host: 'a.acme.test' } })).status, 200);
    await s.pebble.start();
    await Promise.all([issued(gateway, 'a.acme.test'), issued(gateway, 'b.acme.test')]);
    await installed(s.admin, ['a.acme.test', 'b.acme.test']);
    root = join(s.dir, 'pebble-root.pem');
    writeFile(s.dir, 'pebble-root.pem', await s.pebble.issuingRoot());
  });

  it('issues through HTTP-01: openssl s_client sees the certificate, verified up to pebble’s root', async () => {
    const result = await served(s.secure, 'a.acme.test', root);
    assert.equal(result.verify, '0 (ok)', JSON.stringify(result));
    const body = await get(`https://127.0.0.1:${s.secure}/`, {
      servername: 'a.acme.test',
      headers: { host: 'a.acme.test' },
      ca: await import('node:fs/promises').then((f) => f.readFile(root, 'utf8')),
    });
    assert.deepEqual(body, { status: 200, body: 'backend a.acme.test' });
  });

  it('issues through TLS-ALPN-01 (validated on the HTTPS entry point)', async () => {
    const result = await served(s.secure, 'b.acme.test', root);
    assert.equal(result.verify, '0 (ok)', JSON.stringify(result));
    // A route with `tls.provider: none` got nothing.
    assert.match((await served(s.secure, 'plain.test', root)).subject, /gatehouse-default/);
  });

  it('stores keys with mode 0600, and reports provider, expiry and next renewal in /status and /metrics', async () => {
    for (const file of ['http/account.key', 'http/a.acme.test.key', 'alpn/b.acme.test.key']) {
      assert.equal(statSync(join(s.dir, 'acme', file)).mode & 0o777, 0o600, file);
    }
    const status = JSON.parse((await get(`http://127.0.0.1:${s.admin}/status`)).body) as {
      certificates: Array<{ names: string[]; provider?: string; notAfter: string; nextRenewal?: string }>;
    };
    const a = status.certificates.find((c) => c.names.includes('a.acme.test'));
    assert.equal(a?.provider, 'http');
    assert.ok(a?.nextRenewal && Date.parse(a.nextRenewal) < Date.parse(a.notAfter), JSON.stringify(a));
    const metrics = (await get(`http://127.0.0.1:${s.admin}/metrics`)).body;
    assert.match(metrics, /gatehouse_acme_orders_total\{provider="http",result="success"\} 1/);
    assert.match(metrics, /gatehouse_acme_orders_total\{provider="http",result="failure"\} [1-9]/);
    assert.match(metrics, /gatehouse_certificate_not_after_seconds\{name="a.acme.test",/);
  });

  it('after a restart, serves the stored certificates and places no new order', async () => {
    const before = await served(s.secure, 'a.acme.test', root);
    const orders = s.pebble.orders();
    await gateway?.stop();
    gateway = await startGateway(s.config, { workers: 2 });
    const after = await served(s.secure, 'a.acme.test', root);
    assert.equal(after.serial, before.serial);
    assert.equal(after.verify, '0 (ok)');
    assert.equal((await served(s.secure, 'b.acme.test', root)).verify, '0 (ok)');
    assert.equal(
      gateway.lines.filter((l) => String(l.msg).startsWith('no ACME certificate yet')).length,
      0,
      'both names had a stored certificate',
    );
    assert.equal(s.pebble.orders(), orders);
  });
});

describe('ACME renewal of short-lived certificates under load', { skip }, () => {
  let s: Setup;
  let gateway: GatewayProcess | null = null;

  before(async () => {
    // Pebble issues 30-second certificates: a renewal is due after 20 s (a third of the lifetime left).
    s = await setUp('gh-acme-renew-', 30);
    await s.pebble.start();
  });
  after(async () => {
    await gateway?.stop();
    await s?.pebble.stop();
    s?.backend.close();
  });

  it('renews before expiry and installs the new certificates with zero failed requests', async () => {
    gateway = await startGateway(s.config, { workers: 2 });
    const names = ['a.acme.test', 'b.acme.test'] as const; // HTTP-01 and TLS-ALPN-01
    const firsts = await Promise.all(names.map((name) => issued(gateway as GatewayProcess, name)));
    await installed(s.admin, [...names]);
    const root = await s.pebble.issuingRoot();
    const serials = new Map<string, Set<string>>(names.map((n) => [n, new Set<string>()]));
    const renewedSerials = new Map<string, string>();
    const servedRenewed = new Map<string, number>(names.map((n) => [n, 0]));
    let requests = 0;
    const failures: string[] = [];
    const renewals = Promise.all(
      names.map((name) =>
        issued(gateway as GatewayProcess, name, 'ACME certificate renewed', 60_000).then((line) => {
          renewedSerials.set(name, String(line.serial));
          return line;
        }),
      ),
    );
    // Two clients, a fresh TLS connection per request to each name in turn, verified against
    // pebble's root. While b's TLS-ALPN-01 renewal is pending, each of these handshakes goes
    // through the ClientHello look. Bounded by count and time; done once each renewed certificate
    // has served 20 requests.
    const started = Date.now();
    const done = () => names.every((n) => (servedRenewed.get(n) ?? 0) >= 20);
    const client = async () => {
      while (requests < 20_000 && Date.now() - started < 90_000 && !done()) {
        const name = names[requests++ % 2] as string;
        await new Promise<void>((resolve) => {
          const request = https.get(
            { host: '127.0.0.1', port: s.secure, servername: name, headers: { host: name }, ca: root, agent: false },
            (res) => {
              const serial = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().serialNumber;
              serials.get(name)?.add(serial);
              if (serial === renewedSerials.get(name)) servedRenewed.set(name, (servedRenewed.get(name) ?? 0) + 1);
              res.resume();
              res.on('end', () => {
                if (res.statusCode !== 200) failures.push(`${name}: status ${res.statusCode}`);
                resolve();
              });
            },
          );
          request.on('error', (error) => {
            failures.push(`${name}: ${error.message}`);
            resolve();
          });
        });
      }
    };
    await Promise.all([client(), client()]);
    const lines = await renewals;
    assert.deepEqual(failures, [], `${failures.length} of ${requests} requests failed`);
    for (const [i, name] of names.entries()) {
      assert.notEqual(lines[i]?.serial, firsts[i]?.serial);
      assert.ok((serials.get(name)?.size ?? 0) >= 2, `${name}: one certificate served throughout`);
      assert.ok((servedRenewed.get(name) ?? 0) > 0, `${name}: the renewed certificate served no request`);
    }
  });

  it('keeps the current certificate when a renewal fails, retries with backoff, and says so in metrics', async () => {
    assert.ok(gateway);
    const running = gateway;
    await s.pebble.stopServer();
    const failed = await running.waitForLog(
      (l) => l.msg === 'ACME renewal failed' && l.name === 'a.acme.test',
      60_000,
      'a failed renewal',
    );
    assert.match(String(failed.error), /ECONNREFUSED|connect/i);
    assert.ok(Number(failed.retryInMs) >= 5_000, JSON.stringify(failed));
    const keeps = /serial (\S+)/.exec(String(failed.keepsServing))?.[1];
    const now = await served(s.secure, 'a.acme.test', s.pebble.caBundlePath);
    assert.equal(now.serial, keeps, 'the certificate in place still serves');
    const metrics = (await get(`http://127.0.0.1:${s.admin}/metrics`)).body;
    assert.match(metrics, /gatehouse_acme_consecutive_failures\{provider="http",name="a.acme.test"\} [1-9]/);
    assert.match(metrics, /gatehouse_acme_orders_total\{provider="http",result="failure"\} [1-9]/);
    // Back up (a fresh pebble: new account database, new roots): the retry renews, the alert clears.
    const since = running.lines.length;
    await s.pebble.start();
    await running.waitForLog(
      (l) => running.lines.indexOf(l) >= since && l.msg === 'ACME certificate renewed' && l.name === 'a.acme.test',
      90_000,
      'the renewal after the server came back',
    );
    const cleared = (await get(`http://127.0.0.1:${s.admin}/metrics`)).body;
    assert.doesNotMatch(cleared, /gatehouse_acme_consecutive_failures\{provider="http",name="a.acme.test"\}/);
  });
});

describe('ACME across two instances sharing a redis-server', {
  skip: skip || missingPackage('redis-server', 'redis-server'),
}, () => {
  let dir: string;
  let redis: ChildProcess;
  let pebble: Pebble;
  let backend: http.Server;
  const gateways: GatewayProcess[] = [];

  after(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await pebble?.stop();
    redis?.kill('SIGTERM');
    backend?.close();
  });

  it('one instance orders, another answers its challenge, all serve the result, and a renewal is ordered once', async () => {
    dir = tempDir('gh-acme-redis-');
    const [redisPort, webA, secureA, webB, secureB] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    redis = spawn(
      'redis-server',
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    backend = await startBackend();
    // Pebble validates on instance B only; A is the one with the name at first, so A orders and B
    // must answer A's challenge from the shared store. 30-second certificates: renewals come quickly.
    pebble = await Pebble.create({ dir, httpPort: webB, tlsPort: secureB, validitySeconds: 30 });
    await pebble.start();
    const backendPort = (backend.address() as AddressInfo).port;
    const config = (name: string, web: number, secure: number, provider: string) =>
      writeFile(
        dir,
        `${name}.yaml`,
        [
          'gateway:',
          `  entryPoints: { web: { address: "127.0.0.1:${web}" }, webSecure: { address: "127.0.0.1:${secure}" } }`,
          '  admin: { address: "" }',
          '  log: { accessLog: false }',
          `  redis: { addr: "127.0.0.1:${redisPort}" }`,
          'certManager:',
          '  providers:',
          '    http:',
          '      type: acme',
          '      acme:',
          `        directoryUrl: ${pebble.directoryUrl}`,
          `        caBundle: ${pebble.caBundlePath}`,
          `        storageFile: ${join(dir, name, 'acme.json')}`,
          'routes:',
          '  - name: a',
          '    path: /',
          '    hosts: [a.acme.test]',
          `    tls: { provider: ${provider} }`,
          `    target: http://127.0.0.1:${backendPort}`,
          '',
        ].join('\n'),
      );
    const configB = config('b', webB, secureB, 'none');
    const b = await startGateway(configB, { workers: 1 });
    gateways.push(b);
    await b.waitForLog((l) => String(l.msg).startsWith('ACME shares challenges'), 20_000);
    const a = await startGateway(config('a', webA, secureA, 'http'), { workers: 1 });
    gateways.push(a);
    const first = await issued(a, 'a.acme.test', 'ACME certificate issued', 60_000);
    assert.equal(pebble.orders(), 1);
    const root = join(dir, 'pebble-root.pem');
    writeFile(dir, 'pebble-root.pem', await pebble.issuingRoot());
    await a.waitForLog((l) => l.msg === 'reload accepted' && l.trigger === 'acme', 20_000);
    assert.equal((await served(secureA, 'a.acme.test', root)).serial, first.serial);

    // B takes the name too: it serves A's certificate from the store, without an order of its own.
    writeFile(dir, 'b.yaml', readFileSync(configB, 'utf8').replace('provider: none', 'provider: http'));
    b.child.kill('SIGHUP');
    await b.waitForLog(
      (l) => l.msg === 'ACME certificate taken from the shared store' && l.serial === first.serial,
      30_000,
    );
    await b.waitForLog((l) => l.msg === 'reload accepted' && l.trigger === 'acme', 20_000);
    const onB = await served(secureB, 'a.acme.test', root);
    assert.deepEqual([onB.serial, onB.verify], [first.serial, '0 (ok)']);
    assert.equal(pebble.orders(), 1, 'B placed no order');

    // Both are due for renewal at the same moment: the lock lets one of them order, the other takes it.
    const renewed = await Promise.race([
      issued(a, 'a.acme.test', 'ACME certificate renewed', 60_000),
      issued(b, 'a.acme.test', 'ACME certificate renewed', 60_000),
    ]);
    const taker = a.lines.includes(renewed) ? b : a;
    await taker.waitForLog(
      (l) => l.msg === 'ACME certificate taken from the shared store' && l.serial === renewed.serial,
      30_000,
    );
    assert.equal(pebble.orders(), 2, 'one renewal order for two instances');
  });
});
