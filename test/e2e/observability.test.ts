// The admin surface of a real gateway (2 workers) through the real CLI: exact request counts
// aggregated over both workers in one /metrics scrape, /status across a certificate rotation, a
// rejected POST /reload while traffic keeps flowing, the health endpoints, the `gatehouse status`
// and `gatehouse reload` commands over the unix socket, and `promtool check metrics` when promtool is
// installed. Reloads here are explicit (watching is off), so every generation is caused by the test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { type CaHandle, createCa, issueCertificate, type LeafHandle } from '@gatehouse/pki';
import { freePort, type GatewayProcess, runCli, startGateway, tempDir } from '../support/gateway.ts';
import { type GatewayHead, gatewayHead } from '../support/gateway-config.ts';
import { call } from '../support/http.ts';

const hasPromtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;

/** Parses `name{a="x",b="y"} value` lines of one metric into label maps and values. */
function samples(text: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  const out: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]!] = pair[2]!;
    }
    out.push({ labels, value: Number(match[3]) });
  }
  return out;
}

function sampleValue(text: string, name: string, want: Record<string, string> = {}): number | undefined {
  return samples(text, name).find((s) => Object.entries(want).every(([k, v]) => s.labels[k] === v))?.value;
}

function peerCertificate(
  port: number,
  servername: string,
  ca: string,
): Promise<{ serial: string; fingerprint256: string }> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername, ca }, () => {
      const cert = socket.getPeerCertificate();
      socket.destroy();
      resolve({ serial: cert.serialNumber.toUpperCase(), fingerprint256: cert.fingerprint256 });
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error('handshake timed out')));
    socket.on('error', reject);
  });
}

interface StatusDoc {
  version: string;
  pid: number;
  generation: number;
  workers: Array<{
    id: number;
    pid: number;
    generation: number;
    requests: number;
    activeConnections: number;
    eventLoopLagMs: number;
    eventLoopUtilization: number;
    rssBytes: number;
    heapUsedBytes: number;
  }>;
  routes: Array<{ name: string; backends: Array<{ endpoint: string; weight: number; up: boolean }> }>;
  certificates: Array<{ role: string; names: string[]; serial: string; fingerprint256: string; daysLeft: number }>;
  lastReload: { accepted: boolean; message: string } | null;
}

describe('observability and admin', () => {
  let dir = '';
  let gateway: GatewayProcess;
  let backend: Server;
  let backendPort = 0;
  let head: GatewayHead;
  let webPort = 0;
  let tlsPort = 0;
  let adminPort = 0;
  let socket = '';
  let configFile = '';
  let ca: CaHandle;
  let leaf: LeafHandle;
  const certFile = () => join(dir, 'server.crt');
  const keyFile = () => join(dir, 'server.key');

  const configText = (extra = '') => `${head.text}routes:
  - name: api
    path: /api
    backends:
      - endpoint: http://127.0.0.1:${backendPort}
${extra}`;

  /** Replaces a file the way a careful operator does: write a temporary file, rename it over. */
  const replace = (path: string, text: string) => {
    writeFileSync(`${path}.tmp`, text);
    renameSync(`${path}.tmp`, path);
  };
  const admin = (path: string, method = 'GET') => call({ port: adminPort, path, method });
  const status = async () => JSON.parse((await admin('/status')).body) as StatusDoc;

  before(async () => {
    dir = tempDir('gatehouse-observability-');
    ca = await createCa(dir, { name: 'root', cn: 'Observability Test Root' });
    leaf = await issueCertificate(ca, { name: 'leaf1', cn: 'localhost', dns: ['localhost'], usage: 'server' });
    writeFileSync(certFile(), leaf.certPem);
    writeFileSync(keyFile(), leaf.keyPem);
    backend = createServer((req, res) => {
      req.resume();
      res.end('ok');
    });
    backend.listen(0, '127.0.0.1');
    await once(backend, 'listening');
    const address = backend.address();
    backendPort = typeof address === 'object' && address ? address.port : 0;
    socket = join(dir, 'run', 'admin.sock');
    head = await gatewayHead({
      tls: { cert: certFile(), key: keyFile() },
      admin: { socket, pidFile: join(dir, 'gatehouse.pid') },
      gateway: ['  log: { accessLog: false }', '  watch: { enabled: false }'],
    });
    ({ webPort, webSecurePort: tlsPort, adminPort } = head);
    configFile = join(dir, 'gatehouse.yaml');
    writeFileSync(configFile, configText());
    gateway = await startGateway(configFile, { workers: 2 });
    // The admin listener starts right after the workers are ready.
    await gateway.waitForLog((l) => l.msg === 'admin listening', 10_000, '"admin listening"');
  });

  after(async () => {
    await gateway?.stop();
    backend?.close();
  });

  it('answers the health endpoints', async () => {
    assert.equal((await admin('/healthz')).status, 200);
    const ready = await admin('/readyz');
    assert.equal(ready.status, 200, ready.body);
    const routes = await admin('/healthz/routes');
    assert.equal(routes.status, 200, routes.body);
    assert.deepEqual(JSON.parse(routes.body).routesWithoutHealthyBackend, []);
    const wrong = await admin('/reload', 'GET');
    assert.equal(wrong.status, 405);
    assert.equal((await admin('/no-such-thing')).status, 404);
  });

  it('aggregates exact request counts over both workers in one scrape', async () => {
    const before = (await admin('/metrics')).body;
    const ok = { route: 'api', method: 'GET', code: '200' };
    const post = { route: 'api', method: 'POST', code: '200' };
    const okBefore = sampleValue(before, 'gatehouse_requests_total', ok) ?? 0;
    const postBefore = sampleValue(before, 'gatehouse_requests_total', post) ?? 0;

    // One connection per request, so the kernel spreads them over both workers' reusePort sockets.
    const gets = 60;
    const posts = 7;
    for (let i = 0; i < gets; i++) assert.equal((await call({ port: webPort, path: `/api/item/${i}` })).status, 200);
    for (let i = 0; i < posts; i++) {
      assert.equal((await call({ port: webPort, path: '/api/form', method: 'POST' })).status, 200);
    }

    const perWorker = (await status()).workers.map((w) => w.requests);
    assert.equal(perWorker.length, 2);
    assert.ok(
      perWorker.every((n) => n > 0),
      `both workers served some of the requests: ${perWorker.join(', ')}`,
    );

    const scrape = await admin('/metrics');
    assert.equal(scrape.status, 200);
    assert.match(String(scrape.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.equal(sampleValue(scrape.body, 'gatehouse_requests_total', ok), okBefore + gets);
    assert.equal(sampleValue(scrape.body, 'gatehouse_requests_total', post), postBefore + posts);
    assert.equal(sampleValue(scrape.body, 'gatehouse_config_generation'), (await status()).generation);
    assert.ok(
      samples(scrape.body, 'gatehouse_certificate_not_after_seconds').some(
        (s) => s.labels.name === 'localhost' && s.labels.role === 'server' && s.labels.serial === leaf.serial,
      ),
      'the serving certificate has an expiry series',
    );
    const families = [...scrape.body.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]);
    assert.equal(new Set(families).size, families.length, 'every metric family appears once');
    if (hasPromtool) {
      const check = spawnSync('promtool', ['check', 'metrics'], { input: scrape.body, encoding: 'utf8' });
      assert.equal(check.status, 0, `promtool check metrics:\n${check.stdout}${check.stderr}`);
    }
  });

  it("/status reports each worker's own process: pid, requests, open connections, event loop and memory", async () => {
    const before = await status();
    assert.equal(before.workers.length, 2);
    for (const w of before.workers) {
      // A real child of this primary, and the memory figures are that process's.
      const proc = readFileSync(`/proc/${w.pid}/status`, 'utf8');
      assert.equal(Number(/^PPid:\s+(\d+)/m.exec(proc)?.[1]), before.pid, `worker ${w.pid} is the primary's child`);
      const vmRss = Number(/^VmRSS:\s+(\d+) kB/m.exec(proc)?.[1]) * 1024;
      assert.ok(Math.abs(w.rssBytes - vmRss) < vmRss * 0.25, `rss ${w.rssBytes} against /proc's ${vmRss}`);
      assert.ok(w.heapUsedBytes > 0 && w.heapUsedBytes < w.rssBytes, `heap used ${w.heapUsedBytes}`);
      assert.ok(Number.isFinite(w.eventLoopLagMs) && w.eventLoopLagMs >= 0, `lag ${w.eventLoopLagMs}`);
      assert.ok(w.eventLoopUtilization >= 0 && w.eventLoopUtilization <= 1, `utilisation ${w.eventLoopUtilization}`);
    }
    const served = (doc: StatusDoc) => doc.workers.reduce((n, w) => n + w.requests, 0);
    const open = (doc: StatusDoc) => doc.workers.reduce((n, w) => n + w.activeConnections, 0);

    const count = 9;
    for (let i = 0; i < count; i++) assert.equal((await call({ port: webPort, path: `/api/count/${i}` })).status, 200);
    assert.equal(served(await status()), served(before) + count, 'requests counted exactly');

    // Held-open client connections show up as open connections, and go away when closed. The
    // requests above closed their connections; wait until the workers have seen that.
    const openNow = async (until: (n: number) => boolean): Promise<number> => {
      let n = open(await status());
      for (let i = 0; i < 100 && !until(n); i++) {
        await new Promise((r) => setTimeout(r, 20));
        n = open(await status());
      }
      return n;
    };
    assert.equal(await openNow((n) => n === 0), 0, 'no client connection left open');
    const held: Socket[] = [];
    for (let i = 0; i < 4; i++) {
      const s = netConnect(webPort, '127.0.0.1');
      await once(s, 'connect');
      held.push(s);
    }
    assert.equal(await openNow((n) => n === 4), 4, 'four held connections are open');
    for (const s of held) s.destroy();
    assert.equal(await openNow((n) => n === 0), 0, 'closed connections are no longer counted');
  });

  it('shows the certificate rotation in /status: new fingerprint, new generation', async () => {
    const before = await status();
    const served = before.certificates.find((c) => c.role === 'server');
    assert.ok(served, 'a server certificate is listed');
    assert.equal(served.serial, leaf.serial);
    assert.deepEqual(served.names, ['localhost']);
    assert.ok(served.daysLeft >= 29 && served.daysLeft <= 30, `days left ${served.daysLeft}`);
    assert.equal((await peerCertificate(tlsPort, 'localhost', ca.certPem)).fingerprint256, served.fingerprint256);
    assert.equal(before.workers.length, 2);
    for (const worker of before.workers) assert.equal(worker.generation, before.generation);

    const next = await issueCertificate(ca, { name: 'leaf2', cn: 'localhost', dns: ['localhost'], usage: 'server' });
    replace(keyFile(), next.keyPem);
    replace(certFile(), next.certPem);
    const reload = await admin('/reload', 'POST');
    assert.equal(reload.status, 200, reload.body);
    const outcome = JSON.parse(reload.body);
    assert.equal(outcome.accepted, true);
    assert.equal(outcome.generation, before.generation + 1);

    const afterRotation = await status();
    assert.equal(afterRotation.generation, before.generation + 1);
    const rotated = afterRotation.certificates.find((c) => c.role === 'server');
    assert.ok(rotated);
    assert.equal(rotated.serial, next.serial);
    assert.notEqual(rotated.fingerprint256, served.fingerprint256);
    for (const worker of afterRotation.workers) assert.equal(worker.generation, afterRotation.generation);
    const handshake = await peerCertificate(tlsPort, 'localhost', ca.certPem);
    assert.equal(handshake.serial, next.serial);
    assert.equal(handshake.fingerprint256, rotated.fingerprint256);
    leaf = next;

    const scrape = (await admin('/metrics')).body;
    assert.equal(sampleValue(scrape, 'gatehouse_config_generation'), afterRotation.generation);
    assert.equal(sampleValue(scrape, 'gatehouse_config_last_reload_success'), 1);
    assert.ok(
      samples(scrape, 'gatehouse_certificate_not_after_seconds').every((s) => s.labels.serial !== served.serial),
      'the replaced certificate has no expiry series any more',
    );
  });

  it('rejects a bad config through POST /reload with its validation errors, and keeps serving', async () => {
    const before = await status();
    const rejectedBefore =
      sampleValue((await admin('/metrics')).body, 'gatehouse_config_reloads_total', { result: 'rejected' }) ?? 0;
    replace(configFile, configText('  - name: broken\n    path: /broken\n    backends:\n      - endpoint: ftp://x\n'));

    const reload = await admin('/reload', 'POST');
    assert.equal(reload.status, 422, reload.body);
    const outcome = JSON.parse(reload.body);
    assert.equal(outcome.accepted, false);
    assert.equal(outcome.generation, before.generation);
    assert.ok(outcome.errors.length > 0);
    const error = outcome.errors[0];
    assert.equal(error.file, configFile);
    assert.ok(error.line > 0 && error.col > 0, JSON.stringify(error));
    assert.match(error.path, /^routes\[1\]/);

    // The running generation still serves.
    assert.equal((await call({ port: webPort, path: '/api/still' })).status, 200);
    assert.equal((await status()).generation, before.generation);
    const scrape = (await admin('/metrics')).body;
    assert.equal(sampleValue(scrape, 'gatehouse_config_last_reload_success'), 0);
    assert.equal(sampleValue(scrape, 'gatehouse_config_reloads_total', { result: 'rejected' }), rejectedBefore + 1);

    // The CLI says the same over the unix socket, found through the config file, and exits 1.
    const cli = await runCli(['reload', '--config', configFile]);
    assert.equal(cli.code, 1, cli.stderr);
    assert.match(cli.stderr, /reload rejected/);
    assert.match(cli.stderr, new RegExp(`${configFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+`));

    replace(configFile, configText());
    const healed = await runCli(['reload', '--socket', socket]);
    assert.equal(healed.code, 0, healed.stderr);
    assert.match(healed.stdout, /reload accepted/);
  });

  it('/healthz/routes answers 503 naming a route without a healthy backend; /readyz stays 200', async () => {
    const closed = await freePort(); // nothing listens here
    const dead = `  - name: dead
    path: /dead
    backends:
      - endpoint: http://127.0.0.1:${closed}
    healthCheck:
      path: /health
      interval: 200ms
      timeout: 100ms
      fall: 1
`;
    replace(configFile, configText(dead));
    const reload = await admin('/reload', 'POST');
    assert.equal(reload.status, 200, reload.body);
    try {
      let routes = await admin('/healthz/routes');
      for (let i = 0; i < 100 && routes.status === 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        routes = await admin('/healthz/routes');
      }
      assert.equal(routes.status, 503, routes.body);
      const body = JSON.parse(routes.body);
      assert.deepEqual(body.routesWithoutHealthyBackend, ['dead']);
      const deadRoute = body.routes.find((r: { name: string }) => r.name === 'dead');
      assert.equal(deadRoute.backends[0].up, false);
      assert.equal((await admin('/readyz')).status, 200, 'a route being down does not make the instance unready');
      const scrape = (await admin('/metrics')).body;
      assert.equal(
        sampleValue(scrape, 'gatehouse_backend_up', { route: 'dead', backend: `http://127.0.0.1:${closed}` }),
        0,
      );
    } finally {
      replace(configFile, configText());
      assert.equal((await admin('/reload', 'POST')).status, 200);
    }
    assert.equal((await admin('/healthz/routes')).status, 200);
    // The removed route's backend leaves the scrape, so a `gatehouse_backend_up == 0` alert ends.
    const scrape = (await admin('/metrics')).body;
    assert.equal(sampleValue(scrape, 'gatehouse_backend_up', { route: 'dead' }), undefined);
  });

  it('gatehouse status prints workers, routes and certificates; --json is the /status document', async () => {
    const human = await runCli(['status', '--socket', socket]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /WORKERS \(2\)/);
    assert.match(human.stdout, new RegExp(`api\\s+/api\\s+\\*\\s+http://127\\.0\\.0\\.1:${backendPort}`));
    assert.match(human.stdout, new RegExp(`server\\s+localhost\\s+${leaf.serial}`));
    const json = await runCli(['status', '--json', '--admin', `127.0.0.1:${adminPort}`]);
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout) as StatusDoc;
    assert.equal(doc.pid, gateway.child.pid);
    assert.equal(doc.workers.length, 2);
    assert.equal(doc.routes[0]?.name, 'api');
  });

  it('gatehouse reload falls back to SIGHUP through the pid file when no admin endpoint answers', async () => {
    // A config whose admin socket is gone and whose TCP admin is off, but whose pid file is right.
    const clientConfig = join(dir, 'client.yaml');
    writeFileSync(
      clientConfig,
      configText()
        .replace(`address: 127.0.0.1:${adminPort}`, 'address: false')
        .replace(`socket: ${socket}`, `socket: ${join(dir, 'gone.sock')}`),
    );
    const mark = gateway.lines.length;
    const cli = await runCli(['reload', '--config', clientConfig]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, new RegExp(`sent SIGHUP to pid ${gateway.child.pid}`));
    assert.match(cli.stderr, /no running gateway answered/);
    await gateway.waitForLog(
      (l) =>
        (l.msg === 'reload unchanged' || l.msg === 'reload accepted') &&
        l.trigger === 'signal' &&
        gateway.lines.lastIndexOf(l) >= mark,
      10_000,
      'a reload triggered by the signal',
    );
  });

  it('the TLS listener serves the route too', async () => {
    const reply = await call({ port: tlsPort, path: '/api/tls', https: { ca: ca.certPem, servername: 'localhost' } });
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'ok');
  });
});
