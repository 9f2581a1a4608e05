// Health checking through the real CLI: active probes from the primary's pool, passive ejection
// from the workers' reports, retries, and what clients see. One gateway (2 workers) serves every
// scenario; each scenario has its own route and its own real loopback backends.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import type { Agent, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCa, issueCertificate } from '@gatehouse/pki';
import { freePort, type GatewayProcess, type LogLine, startGateway, tempDir, writeFile } from '../support/gateway.ts';
import { call, type Reply } from '../support/http.ts';
import { startLoad } from '../support/load.ts';

// ---- real backends ----

interface Backend {
  name: string;
  port: number;
  /** Status of GET /healthz. */
  health: number;
  /** `ok` answers; `hang` accepts and never answers; `reset` resets every connection. */
  mode: 'ok' | 'hang' | 'reset';
  probes: number[];
  /** Probes that came with a verified client certificate (https backends). */
  authorizedProbes: number;
  traffic: number;
  connections: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

async function startBackend(name: string, tls?: ServerOptions): Promise<Backend> {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  const backend: Backend = {
    name,
    port: 0,
    health: 200,
    mode: 'ok',
    probes: [],
    authorizedProbes: 0,
    traffic: 0,
    connections: 0,
    async stop() {
      const s = server;
      if (!s) return;
      server = null;
      s.close();
      for (const socket of sockets) socket.destroy();
      await once(s, 'close');
    },
    async start() {
      if (server) return;
      const s = tls ? createHttpsServer(tls, handle) : createHttpServer(handle);
      s.on('connection', (socket: Socket) => {
        backend.connections++;
        if (backend.mode === 'reset') {
          socket.resetAndDestroy();
          return;
        }
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      s.on('tlsClientError', () => {});
      s.listen(backend.port, '127.0.0.1');
      await once(s, 'listening');
      backend.port = (s.address() as AddressInfo).port;
      server = s;
    },
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (backend.mode === 'reset') {
      req.socket.resetAndDestroy();
      return;
    }
    if (backend.mode === 'hang') return;
    if (req.url === '/healthz') {
      backend.probes.push(Date.now());
      if ((req.socket as TLSSocket).authorized) backend.authorizedProbes++;
      res.writeHead(backend.health, { 'content-type': 'text/plain' }).end(`health ${backend.health}`);
      return;
    }
    backend.traffic++;
    res.writeHead(200, { 'content-type': 'text/plain' }).end(name);
  };
  await backend.start();
  return backend;
}

// ---- client side ----

function get(port: number, path: string, agent: Agent | false = false): Promise<Reply> {
  return call({ port, path, agent });
}

// ---- the gateway ----

// Short enough for a quick suite, long enough that a loopback probe on a busy two-core machine
// does not time out (a new backend's first failed probe takes it down).
const INTERVAL = 500;
const TIMEOUT = 450;
/** The hanging backend's route: a timeout much longer than INTERVAL, so serialised probes would show. */
const HANG_INTERVAL = 2_000;
const HANG_TIMEOUT = 1_500;
const FALL = 2;
const RISE = 2;
/** Room for IPC, logging and a busy two-core machine; the bounds stay semantic. */
const SLACK = 2_000;

let gateway: GatewayProcess;
let port: number;
let adminPort: number;
const b: Record<string, Backend> = {};
let configFile: string;
let gatewayStartedAt: number;
let renderConfig: (opts: { steady: boolean; fresh: boolean }) => string;

const transitionLine =
  (msg: string, route: string, backend: Backend, since = 0) =>
  (line: LogLine) =>
    line.msg === msg &&
    line.route === route &&
    line.backend === `${route.startsWith('mtls') ? 'https' : 'http'}://127.0.0.1:${backend.port}` &&
    Number(line.time ?? 0) >= since;

function healthCheck(interval = INTERVAL, timeout = TIMEOUT): string {
  return `    healthCheck:
      path: /healthz
      interval: ${interval}ms
      timeout: ${timeout}ms
      fall: ${FALL}
      rise: ${RISE}
`;
}

function route(name: string, backends: Backend[], hc: string, extra = ''): string {
  const scheme = name.startsWith('mtls') ? 'https' : 'http';
  return `  - name: ${name}
    path: /${name}
    backends:
${backends.map((x) => `      - ${scheme}://127.0.0.1:${x.port}`).join('\n')}
${hc}${extra}`;
}

before(async () => {
  const dir = tempDir('gatehouse-health-e2e-');
  const ca = await createCa(dir, { name: 'ca' });
  const serverCert = await issueCertificate(ca, {
    name: 'backend',
    cn: 'backend',
    ips: ['127.0.0.1'],
    usage: 'server',
  });
  const clientCert = await issueCertificate(ca, { name: 'gateway', cn: 'gatehouse', usage: 'client' });

  for (const name of ['load', 'fresh', 'hang', 'steady', 'o1', 'o2', 'a1', 'a2', 'p1', 'p2'])
    b[name] = await startBackend(name);
  b.hang!.mode = 'hang';
  b.mtls = await startBackend('mtls', {
    cert: serverCert.certPem,
    key: serverCert.keyPem,
    ca: ca.certPem,
    requestCert: true,
    rejectUnauthorized: true,
  });

  port = await freePort();
  adminPort = await freePort();
  const tls = (withClient: boolean) => `    security:
      tls:
        rootCAs: ${ca.certPath}
${withClient ? `        clientCert: ${clientCert.certPath}\n        clientKey: ${clientCert.keyPath}\n` : ''}`;
  renderConfig = (opts) => `version: 2
gateway:
  entryPoints:
    web:
      address: 127.0.0.1:${port}
    webSecure:
      enabled: false
  admin:
    address: 127.0.0.1:${adminPort}
  log:
    level: info
    accessLog: false
  watch:
    enabled: false
routes:
${route('load', opts.fresh ? [b.load!, b.fresh!] : [b.load!], healthCheck())}
${route('hang', [b.hang!], healthCheck(HANG_INTERVAL, HANG_TIMEOUT).replace(`rise: ${RISE}`, `rise: ${opts.fresh ? RISE + 1 : RISE}`))}
${opts.steady ? route('steady', [b.steady!], healthCheck()) : ''}
${route('mtls', [b.mtls!], healthCheck(), tls(true))}
${route('mtls-nocert', [b.mtls!], healthCheck(), tls(false))}
${route('outage', [b.o1!, b.o2!], healthCheck())}
${route('alldown', [b.a1!, b.a2!], healthCheck())}
${route('passive', [b.p1!, b.p2!], healthCheck(120_000, 3_000))}
`;
  configFile = writeFile(dir, 'gatehouse.yaml', renderConfig({ steady: true, fresh: false }));
  gatewayStartedAt = Date.now();
  gateway = await startGateway(configFile, { workers: 2 });
});

after(async () => {
  await gateway?.stop('SIGKILL');
  for (const backend of Object.values(b)) await backend.stop();
});

test('probe load: one probe per interval per backend, whatever the worker count', async () => {
  await sleep(500); // past the first probe and the pool's start-up
  const from = b.load!.probes.length;
  const start = Date.now();
  await sleep(3_000);
  const elapsed = Date.now() - start;
  const probes = b.load!.probes.length - from;
  // One prober: about elapsed / interval (±10 % jitter). One per worker would be twice that.
  const expected = elapsed / INTERVAL;
  assert.ok(probes >= expected / 1.1 - 2, `${probes} probes in ${elapsed} ms at ${INTERVAL} ms: too few`);
  assert.ok(probes <= expected / 0.9 + 2, `${probes} probes in ${elapsed} ms at ${INTERVAL} ms with 2 workers`);
});

test('a hanging backend is marked down by timeout while the others stay on schedule', async () => {
  const hangStart = gatewayStartedAt;
  const down = await gateway.waitForLog(transitionLine('backend down', 'hang', b.hang!), 10_000, 'hang down');
  assert.match(String(down.reason), new RegExp(`timeout after ${HANG_TIMEOUT} ms`));
  assert.equal(down.from, 'up');
  assert.equal(down.to, 'down');
  assert.equal((down.probe as { error: string }).error, `timeout after ${HANG_TIMEOUT} ms`);

  // While the hanging backend's probes each wait 1.5 s, another backend is still probed every
  // INTERVAL: about 8 probes in 4 s. Probes queued behind the hanging one would give 2 or 3.
  const from = b.steady!.probes.length;
  const start = Date.now();
  await sleep(4_000);
  const probes = b.steady!.probes.length - from;
  const elapsed = Date.now() - start;
  assert.ok(probes >= elapsed / (INTERVAL * 2), `steady backend: ${probes} probes in ${elapsed} ms`);
  assert.ok(b.hang!.probes.length <= Math.ceil((Date.now() - hangStart) / HANG_INTERVAL) + 2, 'no probe storm');
});

test('mTLS probes pass with the route client certificate and fail without it', async () => {
  const down = await gateway.waitForLog(transitionLine('backend down', 'mtls-nocert', b.mtls!), 10_000, 'nocert down');
  assert.match(String(down.reason), /client certificate|connection (reset|closed)/);
  const before = b.mtls!.authorizedProbes;
  const deadline = Date.now() + 10_000;
  while (b.mtls!.authorizedProbes - before < 2 && Date.now() < deadline) await sleep(50);
  assert.ok(b.mtls!.authorizedProbes - before >= 2, 'probes with the client certificate reached the backend');
  assert.equal(gateway.lines.filter(transitionLine('backend down', 'mtls', b.mtls!)).length, 0);

  const routes = await get(adminPort, '/healthz/routes');
  assert.equal(routes.status, 503, 'a route without a healthy backend makes /healthz/routes 503');
  const body = JSON.parse(routes.body) as unknown;
  const list = (Array.isArray(body) ? body : (body as { routes: unknown[] }).routes) as Array<{
    name: string;
    backends: Array<{ up: boolean; transitions: number; lastProbe: { ok: boolean; latencyMs: number | null } | null }>;
  }>;
  const withCert = list.find((r) => r.name === 'mtls')?.backends[0];
  assert.equal(withCert?.up, true);
  assert.equal(withCert?.lastProbe?.ok, true);
  assert.equal(typeof withCert?.lastProbe?.latencyMs, 'number');
  const withoutCert = list.find((r) => r.name === 'mtls-nocert')?.backends[0];
  assert.equal(withoutCert?.up, false);
  assert.equal(withoutCert?.lastProbe?.ok, false);
  assert.equal(withoutCert?.transitions, 1);
});

test('outage under load: mark-down in time, no failed GET with retries, mark-up in time', async (t) => {
  const load = startLoad(t, {
    concurrency: 4,
    maxRequests: 20_000,
    maxMs: 30_000,
    pauseMs: 5, // steady, not flat out: two cores are shared with the gateway and the backends
    async request(_loop, agent) {
      const reply = await get(port, '/outage/x', agent);
      return reply.status === 200 ? null : `status ${reply.status}: ${reply.body.slice(0, 120)}`;
    },
  });
  await sleep(500);
  const stoppedAt = Date.now();
  await b.o1!.stop();
  const down = await gateway.waitForLog(transitionLine('backend down', 'outage', b.o1!, stoppedAt), 10_000, 'o1 down');
  const downMs = Number(down.time) - stoppedAt;
  assert.ok(downMs <= INTERVAL * 1.1 * FALL + TIMEOUT + SLACK, `marked down after ${downMs} ms`);
  assert.match(String(down.reason), /connection refused/);

  await sleep(1_000);
  const restartedAt = Date.now();
  await b.o1!.start();
  const up = await gateway.waitForLog(transitionLine('backend up', 'outage', b.o1!, restartedAt), 10_000, 'o1 up');
  const upMs = Number(up.time) - restartedAt;
  assert.ok(upMs <= INTERVAL * 1.1 * RISE + SLACK, `marked up after ${upMs} ms`);
  // One line per transition, never per probe.
  assert.equal(gateway.lines.filter(transitionLine('backend down', 'outage', b.o1!, stoppedAt)).length, 1);
  assert.equal(gateway.lines.filter(transitionLine('backend up', 'outage', b.o1!, stoppedAt)).length, 1);
  const trafficAfter = b.o1!.traffic;
  await sleep(1_000);
  assert.ok(b.o1!.traffic > trafficAfter, 'the restarted backend is back in rotation');
  const result = await load.stop();
  assert.equal(result.failed, 0, `failed requests:\n${result.errors.slice(0, 10).join('\n')}`);
  assert.ok(result.ok > 100, `${result.ok} requests made it`);
});

test('every backend down: 503 with Retry-After, then the route recovers by itself', async () => {
  const ok = await get(port, '/alldown/x');
  assert.equal(ok.status, 200);
  const since = Date.now();
  b.a1!.health = 503;
  b.a2!.health = 503;
  await gateway.waitForLog(transitionLine('backend down', 'alldown', b.a1!, since), 10_000, 'a1 down');
  await gateway.waitForLog(transitionLine('backend down', 'alldown', b.a2!, since), 10_000, 'a2 down');
  await sleep(300); // the gh:health messages reach both workers

  const traffic = b.a1!.traffic + b.a2!.traffic;
  for (let i = 0; i < 4; i++) {
    const reply = await get(port, '/alldown/x');
    assert.equal(reply.status, 503);
    assert.ok(reply.headers['retry-after'], 'Retry-After is set');
    assert.ok(reply.body.length > 0, 'with a body that says why');
  }
  assert.equal(b.a1!.traffic + b.a2!.traffic, traffic, 'nothing was sent to a down backend');

  const recoverFrom = Date.now();
  b.a1!.health = 200;
  b.a2!.health = 200;
  await gateway.waitForLog(transitionLine('backend up', 'alldown', b.a1!, recoverFrom), 10_000, 'a1 up');
  const deadline = Date.now() + 5_000;
  let last = 0;
  while (Date.now() < deadline) {
    last = (await get(port, '/alldown/x')).status;
    if (last === 200) break;
    await sleep(100);
  }
  assert.equal(last, 200, 'the route answers again without any operator action');
});

test('passive ejection: a backend that resets every connection is ejected before probes notice', async () => {
  // Its first probe (at start) passed; the next one is two minutes away.
  assert.ok(b.p1!.probes.length >= 1, 'the first probe reached p1');
  assert.equal(gateway.lines.filter(transitionLine('backend down', 'passive', b.p1!)).length, 0, 'p1 is up');
  const since = Date.now();
  b.p1!.mode = 'reset';
  const replies: number[] = [];
  let ejected: LogLine | undefined;
  for (let i = 0; i < 60 && !ejected; i++) {
    replies.push((await get(port, '/passive/x')).status);
    ejected = gateway.lines.find(transitionLine('backend ejected', 'passive', b.p1!, since));
    if (i % 10 === 9) await sleep(300); // the workers report in batches
  }
  ejected ??= await gateway.waitForLog(transitionLine('backend ejected', 'passive', b.p1!, since), 5_000, 'p1 ejected');
  assert.equal(ejected.to, 'ejected');
  assert.match(String(ejected.reason), /consecutive failures/);
  // Every GET that met a reset was retried once on the other backend, so no client saw a failure.
  assert.deepEqual(
    replies.filter((s) => s !== 200),
    [],
    'a GET reset before any response byte is retried on the other backend',
  );
  assert.equal(gateway.lines.filter(transitionLine('backend down', 'passive', b.p1!)).length, 0, 'no probe noticed');

  await sleep(300);
  const connections = b.p1!.connections;
  for (let i = 0; i < 10; i++) assert.equal((await get(port, '/passive/x')).status, 200);
  assert.equal(b.p1!.connections, connections, 'the ejected backend gets no traffic');
});

test('reload (route backends and health check changed) keeps the state of backends that stayed, stops removed ones, probes added ones at once', async () => {
  const hangDowns = () => gateway.lines.filter(transitionLine('backend down', 'hang', b.hang!)).length;
  assert.equal(hangDowns(), 1);
  assert.equal(b.fresh!.probes.length, 0, 'not configured yet');
  const since = Date.now();
  writeFileSync(configFile, renderConfig({ steady: false, fresh: true }));
  gateway.child.kill('SIGHUP');
  await gateway.waitForLog((l) => l.msg === 'reload accepted' && Number(l.time) >= since, 15_000, 'reload accepted');
  const reloadedAt = Date.now();
  while (b.fresh!.probes.length === 0 && Date.now() - reloadedAt < 5_000) await sleep(20);
  assert.ok(b.fresh!.probes.length >= 1, 'the added backend was probed');
  assert.ok(
    (b.fresh!.probes[0] ?? 0) - reloadedAt < INTERVAL + SLACK,
    'the first probe of an added backend does not wait an interval',
  );

  await sleep(TIMEOUT + 200); // a probe of the removed backend may have been in flight
  const steadyProbes = b.steady!.probes.length;
  await sleep(INTERVAL * 4);
  assert.equal(b.steady!.probes.length, steadyProbes, 'no probes for the backend of a removed route');
  assert.equal(hangDowns(), 1, 'the hanging backend stayed down: no new transition, no reset to up');
  const routes = JSON.parse((await get(adminPort, '/healthz/routes')).body) as unknown;
  const list = (Array.isArray(routes) ? routes : (routes as { routes: unknown[] }).routes) as Array<{
    name: string;
    backends: Array<{ endpoint: string; up: boolean; transitions: number }>;
  }>;
  const hang = list.find((r) => r.name === 'hang');
  assert.deepEqual(
    hang?.backends.map((x) => [x.endpoint, x.up, x.transitions]),
    [[`http://127.0.0.1:${b.hang!.port}`, false, 1]],
  );
});
