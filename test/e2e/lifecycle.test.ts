// The gateway's lifecycle through the real CLI: refusing a bad config, a bind failure, SIGHUP reload,
// a killed worker being respawned, a rolling restart (SIGUSR2) under load, and a drain (SIGTERM)
// with requests in flight. One gateway serves every scenario after the start-up failures.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { after, before, type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, type GatewayProcess, runCli, startGateway, tempDir, writeFile } from '../support/gateway.ts';
import { call, type Reply } from '../support/http.ts';
import { startLoad } from '../support/load.ts';

interface Backend {
  server: Server;
  port: number;
  /** Requests to /slow that have arrived and not yet been answered. */
  slowInFlight: number;
}

async function startBackend(name: string): Promise<Backend> {
  const backend: Backend = { server: createServer(), port: 0, slowInFlight: 0 };
  backend.server.on('request', (req, res) => {
    if (req.url?.endsWith('/slow')) {
      backend.slowInFlight++;
      setTimeout(() => {
        backend.slowInFlight--;
        res.end(`${name} slow`);
      }, 1_500);
      return;
    }
    res.end(name);
  });
  backend.server.listen(0, '127.0.0.1');
  await once(backend.server, 'listening');
  const address = backend.server.address();
  backend.port = typeof address === 'object' && address ? address.port : 0;
  return backend;
}

function configText(port: number, routes: string): string {
  return `version: 2
gateway:
  entryPoints:
    web:
      address: 127.0.0.1:${port}
    webSecure:
      enabled: false
  admin:
    address: false
  timeouts:
    drain: 10s
  watch:
    enabled: false
routes:
${routes}`;
}

function route(name: string, path: string, port: number): string {
  return `  - name: ${name}
    path: ${path}
    backends:
      - endpoint: http://127.0.0.1:${port}
`;
}

/** Status and body only: the tests compare the whole answer. */
async function get(port: number, path: string, agent: Agent | false): Promise<Pick<Reply, 'status' | 'body'>> {
  const { status, body } = await call({ port, path, agent });
  return { status, body };
}

/**
 * Bounded load on /a: `concurrency` loops, half over keep-alive connections and half opening a fresh
 * connection per request; stopped when the test `t` ends at the latest.
 */
function loadA(t: TestContext, options: { concurrency: number; maxRequests: number; maxMs: number }) {
  return startLoad(t, {
    ...options,
    async request(loop, agent) {
      const fresh = loop % 2 === 1;
      const how = fresh ? 'fresh connection' : 'keep-alive';
      const reply = await get(port, '/a', fresh ? false : agent).catch((error: Error) => error);
      if (reply instanceof Error) return `${how}: ${reply.message}`;
      if (reply.status === 200 && reply.body === 'A') return null;
      return `${how}: status ${reply.status}: ${reply.body.slice(0, 100)}`;
    },
  });
}

test('a config that fails validation exits 1 with file:line:col and starts nothing', async () => {
  const dir = tempDir();
  const file = writeFile(
    dir,
    'bad.yaml',
    `version: 2
gateway:
  entryPoints:
    web:
      address: 127.0.0.1:${await freePort()}
routes:
  - name: a
    path: /a
    backends:
      - endpoint: http://127.0.0.1:1
        weight: -3
`,
  );
  const result = await runCli(['run', '--config', file, '--workers', '1']);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, new RegExp(`${file.replaceAll('.', '\\.')}:11:\\d+`));
  assert.match(result.stderr, /weight/);
  assert.doesNotMatch(result.stdout, /gateway ready/);
});

test('a listener that cannot bind stops start-up with the address and the reason', async () => {
  const blocker = createTcpServer();
  blocker.listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  const address = blocker.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  try {
    const backend = await startBackend('A');
    const file = writeFile(tempDir(), 'gatehouse.yaml', configText(port, route('a', '/a', backend.port)));
    // The guard against a hang, not a speed limit: forking two workers on a loaded 2-core CI
    // machine has taken most of the default 30 s.
    const result = await runCli(['run', '--config', file, '--workers', '2'], {
      env: { GATEHOUSE_LOG_FORMAT: 'json' },
      timeoutMs: 120_000,
    });
    backend.server.close();
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: .*(in use|EADDRINUSE)`, 'i'));
    assert.doesNotMatch(result.stdout, /gateway ready/);
  } finally {
    blocker.close();
  }
});

let gateway: GatewayProcess;
let port: number;
let configFile: string;
let backendA: Backend;
let backendB: Backend;

before(async () => {
  backendA = await startBackend('A');
  backendB = await startBackend('B');
  port = await freePort();
  configFile = writeFile(tempDir(), 'gatehouse.yaml', configText(port, route('a', '/a', backendA.port)));
  gateway = await startGateway(configFile, { workers: 2 });
});

after(async () => {
  await gateway?.stop('SIGKILL');
  backendA?.server.close();
  backendB?.server.close();
});

test('gateway ready names generation 1, both workers and the address', async () => {
  const ready = await gateway.ready();
  assert.equal(ready.generation, 1);
  assert.equal(ready.workers, 2);
  assert.deepEqual(ready.addresses, [`http://127.0.0.1:${port}`]);
  assert.equal((await get(port, '/a', false)).body, 'A');
});

test('SIGHUP reloads: a route added to the file serves, and an unchanged file makes no generation', async () => {
  assert.equal((await get(port, '/b', false)).status, 404);
  writeFile(
    configFile.slice(0, configFile.lastIndexOf('/')),
    'gatehouse.yaml',
    configText(port, route('a', '/a', backendA.port) + route('b', '/b', backendB.port)),
  );
  gateway.child.kill('SIGHUP');
  const accepted = await gateway.waitForLog((l) => l.msg === 'reload accepted', 15_000, 'reload accepted');
  assert.equal(accepted.generation, 2);
  assert.match(String(accepted.changes), /routes \+b/);
  assert.deepEqual(await get(port, '/b', false), { status: 200, body: 'B' });
  assert.deepEqual(await get(port, '/a', false), { status: 200, body: 'A' });

  gateway.child.kill('SIGHUP');
  await gateway.waitForLog((l) => l.msg === 'reload unchanged', 15_000, 'reload unchanged');
  assert.equal(gateway.lines.filter((l) => l.msg === 'reload accepted').length, 1);
});

test('a changed listener address is logged as needing a restart and the old listener keeps serving', async () => {
  const other = await freePort();
  writeFile(
    configFile.slice(0, configFile.lastIndexOf('/')),
    'gatehouse.yaml',
    configText(other, route('a', '/a', backendA.port) + route('b', '/b', backendB.port)),
  );
  gateway.child.kill('SIGHUP');
  const warning = await gateway.waitForLog(
    (l) => l.msg === 'listener address changed; needs restart',
    15_000,
    'needs restart',
  );
  assert.deepEqual(warning.configured, [`127.0.0.1:${other}`]);
  await gateway.waitForLog((l) => l.msg === 'reload accepted' && l.generation === 3, 15_000, 'generation 3');
  assert.deepEqual(await get(port, '/b', false), { status: 200, body: 'B' });
  await assert.rejects(get(other, '/b', false), /ECONNREFUSED/);
});

test('a worker killed with SIGKILL is respawned while the other keeps serving', async (t) => {
  const ready = await gateway.ready();
  const victim = (ready.pids as number[])[0]!;
  process.kill(victim, 'SIGKILL');
  const exited = await gateway.waitForLog(
    (l) => l.msg === 'worker exited' && l.pid === victim,
    10_000,
    'worker exited',
  );
  assert.equal(exited.signal, 'SIGKILL');
  // The dead worker's listener is gone with it: every new connection lands on the survivor.
  const load = loadA(t, { concurrency: 4, maxRequests: 400, maxMs: 8_000 });
  const respawned = await gateway.waitForLog((l) => l.msg === 'worker respawned', 15_000, 'worker respawned');
  assert.notEqual(respawned.pid, victim);
  assert.equal(respawned.generation, 3, 'the respawned worker runs the current generation');
  await sleep(300);
  const result = await load.stop();
  assert.ok(result.ok > 0);
  assert.equal(result.failed, 0, result.errors.slice(0, 5).join('\n'));
});

test('SIGUSR2 replaces every worker one at a time under load', async (t) => {
  const load = loadA(t, { concurrency: 6, maxRequests: 20_000, maxMs: 30_000 });
  await sleep(200);
  gateway.child.kill('SIGUSR2');
  const finished = await gateway.waitForLog(
    (l) => l.msg === 'rolling restart finished',
    30_000,
    'rolling restart finished',
  );
  await sleep(200);
  const result = await load.stop();
  assert.equal(finished.replaced, 2);
  const replaced = gateway.lines.filter((l) => l.msg === 'worker replaced');
  assert.equal(replaced.length, 2);
  process.stdout.write(
    `# rolling restart under load: ${result.ok} ok, ${result.failed} failed, tcp_migrate_req=${String(
      gateway.lines.find((l) => l.msg === 'rolling restart started')?.tcpMigrateReq,
    )}\n`,
  );
  assert.ok(result.ok > 0);
  assert.equal(result.failed, 0, result.errors.slice(0, 5).join('\n'));
  assert.deepEqual(await get(port, '/b', false), { status: 200, body: 'B' }, 'the new workers run generation 3');
});

test('SIGTERM drains: in-flight requests complete and the exit code is 0; a second signal is ignored', async () => {
  const agent = new Agent({ keepAlive: false });
  const inFlight = Array.from({ length: 4 }, () => get(port, '/a/slow', agent));
  const deadline = Date.now() + 5_000;
  while (backendA.slowInFlight < 4 && Date.now() < deadline) await sleep(20);
  assert.equal(backendA.slowInFlight, 4, 'all slow requests reached the backend');
  gateway.child.kill('SIGTERM');
  await sleep(100);
  gateway.child.kill('SIGINT');
  const replies = await Promise.all(inFlight);
  assert.deepEqual(
    replies.map((r) => r.status),
    [200, 200, 200, 200],
  );
  assert.ok(replies.every((r) => r.body === 'A slow'));
  const [code, signal] = await gateway.exited;
  assert.equal(signal, null);
  assert.equal(code, 0, gateway.stderr);
  assert.ok(gateway.lines.some((l) => l.msg === 'already draining; signal ignored'));
  assert.ok(gateway.lines.some((l) => l.msg === 'gateway stopped'));
});
