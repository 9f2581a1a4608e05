// The admin server's own behaviour: where it listens, the unix socket's lifecycle and permissions,
// routing (404/405), and the endpoints that need no primary. The endpoints that do (status, reload,
// restart, readiness) are exercised against the real primary in test/e2e/observability.test.ts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { routesWithoutHealthyBackend, startAdminServer } from '../src/admin-server.ts';
import { ShuttingDownError } from '../src/errors.ts';
import type { BackendStatus, GatewayApi, RouteStatus } from '../src/gateway-api.ts';
import { createPrimaryMetrics } from '../src/metrics.ts';

const logger = pino({ level: 'silent' });
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-admin-'));
  dirs.push(dir);
  return dir;
}

/** A primary that is shutting down: every operation refuses, as the real one does then. */
const shuttingDown: GatewayApi = {
  reload: async () => {
    throw new ShuttingDownError('reload');
  },
  restart: async () => {
    throw new ShuttingDownError('restart');
  },
  status: async () => {
    throw new ShuttingDownError('status');
  },
  readiness: () => ({ ready: false, reason: 'shutting down' }),
  routeHealth: () => [],
};

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}
function call(target: { socketPath: string } | { port: number }, method: string, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ ...target, host: '127.0.0.1', method, path, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** What a crashed gateway leaves behind: a socket file nobody listens on (the listener was SIGKILLed). */
async function leaveStaleSocket(path: string): Promise<void> {
  const child = spawn(
    process.execPath,
    ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await once(child.stdout!, 'data');
  child.kill('SIGKILL');
  await once(child, 'exit');
}

const backend = (over: Partial<BackendStatus>): BackendStatus => ({
  endpoint: 'http://127.0.0.1:1',
  weight: 1,
  up: true,
  ejectedUntil: 0,
  lastProbe: null,
  transitions: 0,
  lastTransitionAt: null,
  ...over,
});

describe('routesWithoutHealthyBackend', () => {
  it('names routes whose every backend is down or ejected', () => {
    const now = 1_000_000;
    const routes: RouteStatus[] = [
      { name: 'ok', path: '/', hosts: [], backends: [backend({ up: false }), backend({ up: true })] },
      { name: 'down', path: '/d', hosts: [], backends: [backend({ up: false })] },
      { name: 'ejected', path: '/e', hosts: [], backends: [backend({ up: true, ejectedUntil: now + 1 })] },
      { name: 'ejection-over', path: '/x', hosts: [], backends: [backend({ up: true, ejectedUntil: now - 1 })] },
      { name: 'empty', path: '/n', hosts: [], backends: [] },
    ];
    assert.deepEqual(routesWithoutHealthyBackend(routes, now), ['down', 'ejected', 'empty']);
  });
});

describe('startAdminServer', () => {
  it('serves on TCP and on a 0600 unix socket, replacing a stale socket file', async () => {
    const dir = tempDir();
    const socket = join(dir, 'run', 'admin.sock');
    const staleSocket = join(dir, 'stale.sock');
    await leaveStaleSocket(staleSocket);
    assert.ok(statSync(staleSocket).isSocket());
    const metrics = createPrimaryMetrics();
    metrics.generation(3);

    const server = await startAdminServer({
      address: { raw: '127.0.0.1:0', host: '127.0.0.1', port: 0 },
      socket: staleSocket,
      token: null,
      api: shuttingDown,
      metrics,
      logger,
    });
    try {
      assert.equal(server.addresses.length, 2);
      const tcp = server.addresses[0]!;
      assert.match(tcp, /^127\.0\.0\.1:\d+$/);
      assert.equal(server.addresses[1], `unix:${staleSocket}`);
      assert.equal(statSync(staleSocket).mode & 0o777, 0o600);
      const port = Number(tcp.split(':')[1]);

      for (const target of [{ port }, { socketPath: staleSocket }]) {
        const alive = await call(target, 'GET', '/healthz');
        assert.equal(alive.status, 200);
        assert.deepEqual(JSON.parse(alive.text), { status: 'alive' });

        const scrape = await call(target, 'GET', '/metrics');
        assert.equal(scrape.status, 200);
        assert.match(String(scrape.headers['content-type']), /^text\/plain; version=0\.0\.4/);
        assert.match(scrape.text, /^gatehouse_config_generation 3$/m);
      }

      const missing = await call({ port }, 'GET', '/nope');
      assert.equal(missing.status, 404);
      assert.equal(JSON.parse(missing.text).code, 'GH_ADMIN_NOT_FOUND');

      const wrongMethod = await call({ port }, 'GET', '/reload');
      assert.equal(wrongMethod.status, 405);
      assert.equal(wrongMethod.headers.allow, 'POST');

      const notReady = await call({ port }, 'GET', '/readyz');
      assert.equal(notReady.status, 503);
      assert.deepEqual(JSON.parse(notReady.text), { status: 'not ready', reason: 'shutting down' });

      const refused = await call({ socketPath: staleSocket }, 'POST', '/reload');
      assert.equal(refused.status, 503);
      assert.equal(JSON.parse(refused.text).code, 'GH_SHUTTING_DOWN');

      const routes = await call({ port }, 'GET', '/healthz/routes');
      assert.equal(routes.status, 200);
      assert.deepEqual(JSON.parse(routes.text), { status: 'healthy', routesWithoutHealthyBackend: [], routes: [] });
    } finally {
      await server.close();
    }
    assert.throws(() => statSync(staleSocket), /ENOENT/, 'close() removes the socket file');

    // The socket's directory is created when missing.
    const second = await startAdminServer({ address: null, socket, token: null, api: shuttingDown, metrics, logger });
    try {
      assert.equal((await call({ socketPath: socket }, 'GET', '/healthz')).status, 200);
    } finally {
      await second.close();
    }
  });

  it('refuses a socket another live gateway is serving, and a busy TCP port', async () => {
    const dir = tempDir();
    const socket = join(dir, 'admin.sock');
    const metrics = createPrimaryMetrics();
    const first = await startAdminServer({
      address: { raw: '127.0.0.1:0', host: '127.0.0.1', port: 0 },
      socket,
      token: null,
      api: shuttingDown,
      metrics,
      logger,
    });
    try {
      await assert.rejects(
        startAdminServer({ address: null, socket, token: null, api: shuttingDown, metrics, logger }),
        (error: Error & { code?: string }) => error.code === 'GH_ADMIN_BIND' && /in use/.test(error.message),
      );
      // The first one still answers on its socket.
      assert.equal((await call({ socketPath: socket }, 'GET', '/healthz')).status, 200);
      const port = Number(first.addresses[0]!.split(':')[1]);
      await assert.rejects(
        startAdminServer({
          address: { raw: `127.0.0.1:${port}`, host: '127.0.0.1', port },
          socket: null,
          token: null,
          api: shuttingDown,
          metrics,
          logger,
        }),
        (error: Error & { code?: string }) => error.code === 'GH_ADMIN_BIND' && /EADDRINUSE/.test(error.message),
      );
    } finally {
      await first.close();
    }
  });
});

describe('the admin unix socket', () => {
  it('exists with mode 0600 from its first moment, never chmod-ed after listen()', async () => {
    const dir = tempDir();
    const socket = join(dir, 'admin.sock');
    // Another process stats the path in a tight loop and reports the mode of the first file it sees:
    // a socket made with the default umask and chmod-ed afterwards is caught in between.
    const watcher = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('node:fs');
         const path = process.argv[1];
         console.log('watching');
         const end = Date.now() + 20000;
         while (Date.now() < end) {
           let stat;
           try { stat = fs.lstatSync(path); } catch { continue; }
           console.log((stat.mode & 0o777).toString(8));
           process.exit(0);
         }
         console.log('never appeared');`,
        socket,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    watcher.stdout!.setEncoding('utf8').on('data', (d: string) => {
      output += d;
    });
    while (!output.includes('watching')) await once(watcher.stdout!, 'data');
    const server = await startAdminServer({
      address: null,
      socket,
      token: null,
      api: shuttingDown,
      metrics: createPrimaryMetrics(),
      logger,
    });
    try {
      await once(watcher, 'exit');
      assert.equal(output.trim().split('\n').at(-1), '600', 'mode of the socket when it first appeared');
      assert.equal(statSync(socket).mode & 0o777, 0o600);
      // The umask is the process's own again.
      const probe = join(dir, 'after');
      writeFileSync(probe, '');
      assert.equal(statSync(probe).mode & 0o777, 0o666 & ~process.umask());
    } finally {
      await server.close();
    }
  });
});
