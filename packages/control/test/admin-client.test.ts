import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { callAdmin, locateAdmin, parseAdminAddress, parseAdminArgs, signalPidFile } from '../src/admin-client.ts';
import { startAdminServer } from '../src/admin-server.ts';
import type { GatewayApi } from '../src/gateway-api.ts';
import { createPrimaryMetrics } from '../src/metrics.ts';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-admin-client-'));
  dirs.push(dir);
  return dir;
}

const config = (admin: string) => `gateway:
  entryPoints:
    web:
      address: "127.0.0.1:8080"
  admin:
${admin}
routes:
  - name: api
    path: /
    target: http://127.0.0.1:3000
`;

describe('parseAdminAddress', () => {
  it('reads host:port forms and reaches wildcard hosts on loopback', () => {
    assert.deepEqual(parseAdminAddress('127.0.0.1:9180'), { kind: 'tcp', host: '127.0.0.1', port: 9180 });
    assert.deepEqual(parseAdminAddress('[::1]:9180'), { kind: 'tcp', host: '::1', port: 9180 });
    assert.deepEqual(parseAdminAddress(':9180'), { kind: 'tcp', host: '127.0.0.1', port: 9180 });
    assert.deepEqual(parseAdminAddress('0.0.0.0:9180'), { kind: 'tcp', host: '127.0.0.1', port: 9180 });
    assert.deepEqual(parseAdminAddress('[::]:9180'), { kind: 'tcp', host: '::1', port: 9180 });
    assert.deepEqual(parseAdminAddress('localhost:1'), { kind: 'tcp', host: 'localhost', port: 1 });
    for (const bad of ['9180', 'host:', 'host:99999', 'a:b', '[::1]']) {
      assert.throws(() => parseAdminAddress(bad), { code: 'GH_ADMIN_ADDRESS' }, bad);
    }
  });
});

describe('parseAdminArgs', () => {
  it('parses the shared options and rejects unknown ones', () => {
    assert.deepEqual(parseAdminArgs(['--socket', '/s', '--timeout', '5'], { timeoutMs: 1, json: false }), {
      config: null,
      socket: '/s',
      admin: null,
      tokenFile: null,
      json: false,
      timeoutMs: 5,
    });
    assert.equal(parseAdminArgs(['--token-file', '/t'], { timeoutMs: 1 }).tokenFile, '/t');
    assert.equal(parseAdminArgs(['-c', 'f.yaml', '--json'], { timeoutMs: 1, json: false }).json, true);
    assert.throws(() => parseAdminArgs(['--json'], { timeoutMs: 1 }), /Unknown option/);
    assert.throws(() => parseAdminArgs(['--timeout', 'x'], { timeoutMs: 1 }), { code: 'GH_USAGE' });
  });
});

describe('locateAdmin', () => {
  it('prefers --socket and --admin over the config', async () => {
    assert.deepEqual(await locateAdmin({ socket: '/run/x.sock', config: '/nonexistent', env: {} }), {
      endpoints: [{ kind: 'socket', path: '/run/x.sock' }],
      pidFile: null,
      token: null,
      source: '--socket',
    });
    assert.equal((await locateAdmin({ admin: '127.0.0.1:1', config: '/nonexistent' })).source, '--admin');
  });

  it('reads socket, address and pid file from the config, relative to its directory', async () => {
    const dir = tempDir();
    const file = join(dir, 'gatehouse.yaml');
    writeFileSync(file, config('    address: "127.0.0.1:9999"\n    socket: ./admin.sock\n    pidFile: run/gh.pid'));
    const location = await locateAdmin({ config: file });
    assert.deepEqual(location.endpoints, [
      { kind: 'socket', path: join(dir, 'admin.sock') },
      { kind: 'tcp', host: '127.0.0.1', port: 9999 },
    ]);
    assert.equal(location.pidFile, join(dir, 'run', 'gh.pid'));
    assert.equal(location.source, `config ${file}`);
  });

  it('still finds the running gateway when the edited config no longer validates', async () => {
    const dir = tempDir();
    const file = join(dir, 'gatehouse.yaml');
    writeFileSync(
      file,
      `${config(`    socket: ${join(dir, 'a.sock')}\n    pidFile: ${join(dir, 'p')}`)}  - name: broken\n    weight: many\n`,
    );
    const location = await locateAdmin({ config: file, env: { GATEHOUSE_CONFIG: '/ignored' } });
    assert.deepEqual(location.endpoints, [{ kind: 'socket', path: join(dir, 'a.sock') }]);
    assert.equal(location.pidFile, join(dir, 'p'));
  });

  it('takes the admin token from --token-file, else $GATEHOUSE_ADMIN_TOKEN, else the config', async () => {
    const dir = tempDir();
    const file = join(dir, 'gatehouse.yaml');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's ${ENV} syntax
    writeFileSync(file, config('    socket: ./admin.sock\n    token: ${ADMIN_TOKEN}'));
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'from-the-token-file-0001\n');
    const fromConfig = await locateAdmin({ config: file, env: { ADMIN_TOKEN: 'from-the-config-file-001' } });
    assert.equal(fromConfig.token, 'from-the-config-file-001');
    const env = { ADMIN_TOKEN: 'from-the-config-file-001', GATEHOUSE_ADMIN_TOKEN: 'from-the-environment-01' };
    assert.equal((await locateAdmin({ config: file, env })).token, 'from-the-environment-01');
    assert.equal((await locateAdmin({ config: file, env, tokenFile })).token, 'from-the-token-file-0001');
    assert.equal((await locateAdmin({ socket: '/s', env, tokenFile })).token, 'from-the-token-file-0001');
    assert.equal((await locateAdmin({ admin: '127.0.0.1:1', env })).token, 'from-the-environment-01');
    // A config that no longer validates still gives its token.
    writeFileSync(file, `${config('    token: still-the-token-000001')}  - name: broken\n    weight: many\n`);
    assert.equal((await locateAdmin({ config: file, env: {} })).token, 'still-the-token-000001');
    writeFileSync(tokenFile, '\n');
    await assert.rejects(locateAdmin({ socket: '/s', tokenFile, env: {} }), { code: 'GH_ADMIN_TOKEN' });
  });

  it('falls back to $GATEHOUSE_CONFIG and names the file it could not read', async () => {
    await assert.rejects(locateAdmin({ env: { GATEHOUSE_CONFIG: '/nonexistent/g.yaml' } }), (error: Error) => {
      assert.equal((error as Error & { code: string }).code, 'GH_CONFIG_UNREADABLE');
      assert.match(error.message, /\/nonexistent\/g\.yaml/);
      assert.match(error.message, /--socket/);
      return true;
    });
  });
});

describe('callAdmin', () => {
  it('tries each endpoint in order and reports every one that did not answer', async () => {
    const dir = tempDir();
    const api: GatewayApi = {
      reload: async () => ({
        accepted: true,
        generation: 2,
        unchanged: false,
        errors: [],
        warnings: [],
        message: 'routes changed',
      }),
      restart: async () => {},
      status: async () => {
        throw new Error('not used');
      },
      readiness: () => ({ ready: true, reason: 'serving generation 2' }),
      routeHealth: () => [],
    };
    const server = await startAdminServer({
      address: { raw: '127.0.0.1:0', host: '127.0.0.1', port: 0 },
      socket: null,
      token: null,
      api,
      metrics: createPrimaryMetrics(),
      logger: pino({ level: 'silent' }),
    });
    try {
      const live = parseAdminAddress(server.addresses[0]!);
      const missingSocket = { kind: 'socket' as const, path: join(dir, 'none.sock') };
      const answer = await callAdmin(
        { endpoints: [missingSocket, live], pidFile: null, token: null, source: 'test' },
        'POST',
        '/reload',
        5000,
      );
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.endpoint, live);
      assert.equal(JSON.parse(answer.text).message, 'routes changed');

      await assert.rejects(
        callAdmin({ endpoints: [missingSocket], pidFile: null, token: null, source: 'test' }, 'GET', '/status', 5000),
        (error: Error & { code?: string }) =>
          error.code === 'GH_ADMIN_UNREACHABLE' && error.message.includes(`unix:${missingSocket.path}`),
      );
      await assert.rejects(
        callAdmin({ endpoints: [], pidFile: null, token: null, source: 'test' }, 'GET', '/status', 5000),
        {
          code: 'GH_ADMIN_UNREACHABLE',
        },
      );
    } finally {
      await server.close();
    }
  });
});

describe('signalPidFile', () => {
  it('signals the process named in the pid file, and explains a stale one', async () => {
    const dir = tempDir();
    const child = spawn(
      process.execPath,
      [
        '-e',
        "process.on('SIGHUP', () => { console.log('hup'); process.exit(0) }); console.log('up'); setInterval(() => {}, 1000)",
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    child.stdout.setEncoding('utf8');
    await once(child.stdout, 'data');
    const pidFile = join(dir, 'gatehouse.pid');
    writeFileSync(pidFile, `${child.pid}\n`);
    const heard = once(child.stdout, 'data');
    assert.equal(await signalPidFile(pidFile, 'SIGHUP'), child.pid);
    assert.equal(String((await heard)[0]).trim(), 'hup');
    await once(child, 'exit');

    await assert.rejects(signalPidFile(pidFile, 'SIGHUP'), /cannot signal pid/);
    writeFileSync(pidFile, 'garbage');
    await assert.rejects(signalPidFile(pidFile, 'SIGHUP'), /does not hold a pid/);
    await assert.rejects(signalPidFile(join(dir, 'missing.pid'), 'SIGHUP'), /cannot read pid file/);
  });
});
