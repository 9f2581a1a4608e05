// Goma's monitoring endpoints on the traffic listeners, through `gatehouse run` (2 workers):
// /healthz and /readyz on `web` and `webSecure` ahead of a catch-all route, /readyz 503 while the
// gateway starts and while it drains, /healthz/routes and the aggregated metrics behind
// `monitoring.host`, and gatehouse_backend_up for every backend from the first scrape.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { Agent, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCa, issueCertificate } from '@gatehouse/pki';
import { GatewayProcess, tempDir, writeConfig } from '../support/gateway.ts';
import { gatewayHead } from '../support/gateway-config.ts';
import { call, type Reply } from '../support/http.ts';

interface Target {
  port: number;
  tls?: { ca: string };
  agent?: Agent;
}

function get(target: Target, path: string, host = 'gateway.test', method = 'GET'): Promise<Reply> {
  const https = target.tls ? { ca: target.tls.ca, servername: 'gateway.test' } : undefined;
  return call({ port: target.port, path, method, headers: { host }, agent: target.agent ?? false, https });
}

/** The value of `name{labels}` in a Prometheus exposition, or null when the series is absent. */
function sample(exposition: string, name: string, labels: string): number | null {
  const line = exposition.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? null : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('monitoring endpoints on the traffic listeners', () => {
  const seen: string[] = [];
  let probeStatus = 200;
  let backend: Server;
  let backendPort: number;
  let gateway: GatewayProcess;
  let web: Target;
  let webSecure: Target;
  const startup: Array<{ status: number; reason: string }> = [];

  before(async () => {
    backend = createServer((req, res) => {
      seen.push(req.url ?? '');
      if (req.url === '/b1/probe') return void res.writeHead(probeStatus).end('probe');
      if (req.url === '/b2/slow' || req.url === '/b3/slow') return void setTimeout(() => res.end('slow'), 1_500);
      res.end(`backend ${req.url}`);
    });
    backend.listen(0, '127.0.0.1');
    await once(backend, 'listening');
    backendPort = (backend.address() as AddressInfo).port;
    const dir = tempDir('gatehouse-monitoring-');
    const ca = await createCa(dir, { name: 'ca', cn: 'Monitoring Test CA' });
    const leaf = await issueCertificate(ca, { name: 'gw', cn: 'gateway.test', dns: ['gateway.test'], usage: 'server' });
    const head = await gatewayHead({
      tls: { cert: leaf.certPath, key: leaf.keyPath },
      gateway: [
        '  watch: { enabled: false }',
        '  timeouts: { drain: 5s }',
        '  monitoring:',
        '    enableMetrics: true',
        '    metricsPath: /internal/metrics',
        '    enableRouteHealthCheck: true',
        '    host: ops.example.com',
      ],
    });
    const b = (n: number) => `http://127.0.0.1:${backendPort}/b${n}`;
    const config = writeConfig(
      dir,
      `${head.text}routes:
  - name: checked
    path: /
    backends: [${b(1)}]
    healthCheck: { path: /probe, interval: 300ms, timeout: 200ms, fall: 1, rise: 1 }
  - name: unchecked
    path: /unchecked
    backends:
      - ${b(2)}
      - ${b(3)}
`,
    );
    web = { port: head.webPort };
    webSecure = { port: head.webSecurePort, tls: { ca: readFileSync(ca.certPath, 'utf8') } };
    // Probe /readyz from before the first worker binds until the gateway says it is ready.
    gateway = new GatewayProcess(['run', '--config', config, '--workers', '2'], {
      GATEHOUSE_LOG_FORMAT: 'json',
    });
    const ready = gateway.ready();
    let isReady = false;
    void ready.then(() => {
      isReady = true;
    });
    const deadline = Date.now() + 60_000;
    while (!isReady && Date.now() < deadline) {
      try {
        const r = await get(web, '/readyz');
        startup.push({ status: r.status, reason: (JSON.parse(r.body) as { reason: string }).reason });
      } catch {
        // Not bound yet.
      }
      await sleep(5);
    }
    await ready;
  });

  after(async () => {
    await gateway?.stop();
    backend?.close();
  });

  it('answers /readyz 503 while starting, 200 once every worker serves', async () => {
    for (const answer of startup) {
      if (answer.status !== 200) assert.deepEqual(answer, { status: 503, reason: 'starting' });
    }
    const first200 = startup.findIndex((a) => a.status === 200);
    if (first200 !== -1)
      assert.ok(
        startup.slice(first200).every((a) => a.status === 200),
        JSON.stringify(startup),
      );
    const now = await get(web, '/readyz');
    assert.equal(now.status, 200);
    assert.equal(JSON.parse(now.body).status, 'ready');
  });

  it('serves /healthz and /readyz on web and webSecure, ahead of the catch-all route', async () => {
    for (const target of [web, webSecure]) {
      const live = await get(target, '/healthz');
      assert.equal(live.status, 200);
      assert.deepEqual(JSON.parse(live.body), { status: 'alive' });
      const ready = await get(target, '/readyz?full=1');
      assert.equal(ready.status, 200);
      const head = await get(target, '/healthz', 'gateway.test', 'HEAD');
      assert.equal(head.status, 200);
      assert.equal(head.body, '');
    }
    assert.deepEqual(
      seen.filter((u) => u.includes('healthz') || u.includes('readyz')),
      [],
      'no probe reached the backend',
    );
    // Anything else still goes to the routes.
    assert.equal((await get(web, '/healthzz')).body, 'backend /b1/healthzz');
  });

  it('serves /healthz/routes and the metrics only for monitoring.host; other hosts reach the routes', async () => {
    const routes = await get(webSecure, '/healthz/routes', 'ops.example.com');
    assert.equal(routes.status, 200, routes.body);
    const report = JSON.parse(routes.body) as { status: string; routes: Array<{ name: string; backends: unknown[] }> };
    assert.equal(report.status, 'healthy');
    assert.deepEqual(
      report.routes.map((r) => [r.name, r.backends.length]),
      [
        ['checked', 1],
        ['unchecked', 2],
      ],
    );
    const elsewhere = await get(web, '/healthz/routes', 'www.example.com');
    assert.equal(elsewhere.body, 'backend /b1/healthz/routes');

    const metrics = await get(web, '/internal/metrics', 'ops.example.com');
    assert.equal(metrics.status, 200);
    assert.match(String(metrics.headers['content-type']), /^text\/plain/);
    assert.match(metrics.body, /# TYPE gatehouse_requests_total counter/);
    const refused = await get(web, '/internal/metrics', 'www.example.com');
    assert.equal(refused.body, 'backend /b1/internal/metrics');
  });

  it('has gatehouse_backend_up for every backend from the first scrape, checked or not', async () => {
    const exposition = (await get(web, '/internal/metrics', 'ops.example.com')).body;
    for (const [route, n] of [
      ['checked', 1],
      ['unchecked', 2],
      ['unchecked', 3],
    ] as const) {
      const labels = `route="${route}",backend="http://127.0.0.1:${backendPort}/b${n}"`;
      assert.equal(sample(exposition, 'gatehouse_backend_up', labels), 1, `${labels}\n${exposition}`);
    }
  });

  it('answers /healthz/routes 503 once a route has no backend in rotation, and backend_up says 0', async () => {
    probeStatus = 500;
    let last: Reply | null = null;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      last = await get(web, '/healthz/routes', 'ops.example.com');
      if (last.status === 503) break;
      await sleep(100);
    }
    assert.equal(last?.status, 503, last?.body);
    assert.deepEqual(JSON.parse(last?.body ?? '{}').routesWithoutHealthyBackend, ['checked']);
    const exposition = (await get(web, '/internal/metrics', 'ops.example.com')).body;
    const labels = `route="checked",backend="http://127.0.0.1:${backendPort}/b1"`;
    assert.equal(sample(exposition, 'gatehouse_backend_up', labels), 0);
    probeStatus = 200;
  });

  it('answers /readyz 503 on an open connection while the worker drains', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const kept: Target = { port: web.port, agent };
    assert.equal((await get(kept, '/readyz')).status, 200);
    // A slow request keeps the gateway draining for a while after SIGTERM.
    const slow = get(web, '/unchecked/slow').catch(() => null);
    await sleep(100);
    gateway.child.kill('SIGTERM');
    await gateway.waitForLog((l) => l.msg === 'draining', 10_000, '"draining"');
    let answer: Reply | null = null;
    for (let i = 0; i < 100; i++) {
      answer = await get(kept, '/readyz');
      if (answer.status !== 200) break;
      await sleep(20);
    }
    agent.destroy();
    assert.equal(answer?.status, 503, answer?.body);
    assert.deepEqual(JSON.parse(answer?.body ?? '{}'), { status: 'not ready', reason: 'draining' });
    await slow;
  });
});
