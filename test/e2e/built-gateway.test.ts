// The gateway as installed (packages/gatehouse/launcher/gatehouse.js under --conditions=gatehouse-built)
// runs the compiled dist/ and loads no .ts module in any of its processes or threads: Node's type
// stripper costs each process or thread that loads one .ts file about 17 MiB. test/support/
// module-trace.mjs, preloaded into every process and thread (they inherit --import), lists what each
// one loaded; the same trace on the CLI run from its sources shows that it does see .ts modules.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { gatewayHead } from '../support/gateway-config.ts';
import {
  builtCli,
  cliPath,
  ensureBuilt,
  type GatewayProcess,
  repoRoot,
  runCli,
  startGateway,
  tempDir,
  writeConfig,
} from '../support/gateway.ts';
import { get } from '../support/http.ts';

const traceHook = join(repoRoot, 'test', 'support', 'module-trace.mjs');
const TS_MODULE = /\.[mc]?ts$/;
const BCRYPT_THREAD = '/packages/dataplane/dist/middleware/bcrypt-thread.js';

/** Every traced process and thread: `<pid>-<threadId>` → the module URLs it loaded. */
function readTraces(dir: string): Map<string, string[]> {
  const traces = new Map<string, string[]>();
  for (const name of readdirSync(dir)) traces.set(name, readFileSync(join(dir, name), 'utf8').trimEnd().split('\n'));
  return traces;
}

/** The threads (thread id > 0) of `pid` that loaded a module whose URL ends with `suffix`. */
function threadsLoading(traces: Map<string, string[]>, pid: number, suffix: string): string[] {
  return [...traces]
    .filter(([name, urls]) => name.startsWith(`${pid}-`) && name !== `${pid}-0` && urls.some((u) => u.endsWith(suffix)))
    .map(([name]) => name);
}

describe('the built gateway', () => {
  let origin: Server;
  let gateway: GatewayProcess;
  let traceDir: string;
  let webPort: number;
  let adminPort: number;

  before(async () => {
    ensureBuilt();
    const dir = tempDir();
    traceDir = join(dir, 'trace');
    mkdirSync(traceDir);
    origin = createServer((_req, res) => res.end('from the origin'));
    origin.listen(0, '127.0.0.1');
    await once(origin, 'listening');
    const originPort = (origin.address() as { port: number }).port;
    const head = await gatewayHead();
    webPort = head.webPort;
    adminPort = head.adminPort;
    const alice = await bcryptHash('right', 4);
    // The health check starts the primary's probe threads, basicAuth with a bcrypt user each worker's
    // bcrypt thread: every kind of process and thread the gateway runs.
    const config = writeConfig(dir, [
      ...head.lines,
      'middlewares:',
      '  - name: users',
      '    type: basicAuth',
      `    rule: { users: ["alice:${alice}"] }`,
      'routes:',
      '  - name: guarded',
      '    path: /guarded',
      '    middlewares: [users]',
      `    target: http://127.0.0.1:${originPort}`,
      '  - name: open',
      '    path: /',
      '    backends:',
      `      - endpoint: http://127.0.0.1:${originPort}`,
      '    healthCheck: { path: /, interval: 500ms, timeout: 400ms }',
    ]);
    gateway = await startGateway(config, {
      cli: ['--import', traceHook, ...builtCli],
      env: { GATEHOUSE_MODULE_TRACE_DIR: traceDir },
    });
  });

  after(async () => {
    await gateway?.stop();
    origin?.close();
  });

  it('serves, from dist/ in every process and thread, with no .ts module loaded', async () => {
    assert.equal((await get(webPort, '/')).body, 'from the origin');
    const basic = (password: string) => ({
      authorization: `Basic ${Buffer.from(`alice:${password}`).toString('base64')}`,
    });
    assert.equal((await get(webPort, '/guarded/x', basic('right'))).status, 200);
    assert.equal((await get(webPort, '/guarded/x', basic('wrong'))).status, 401);

    const status = JSON.parse((await get(adminPort, '/status')).body) as { pid: number; workers: { pid: number }[] };
    assert.equal(status.pid, gateway.child.pid, 'the launcher runs the primary in its own process');
    assert.equal(status.workers.length, 2);
    // Threads load their modules as they start: wait (bounded) until every expected one is there.
    const threadsStarted = (traces: Map<string, string[]>) =>
      threadsLoading(traces, status.pid, '/packages/health/dist/probe-task.js').length > 0 &&
      status.workers.every(({ pid }) => threadsLoading(traces, pid, BCRYPT_THREAD).length > 0);
    let traces = readTraces(traceDir);
    for (let i = 0; i < 100 && !threadsStarted(traces); i++) {
      await sleep(100);
      traces = readTraces(traceDir);
    }

    const tsLoads = [...traces].flatMap(([name, urls]) =>
      urls.filter((u) => TS_MODULE.test(u)).map((u) => `${name} ${u}`),
    );
    assert.deepEqual(tsLoads, []);
    assert.ok(traces.get(`${status.pid}-0`)?.some((u) => u.endsWith('/packages/control/dist/primary.js')));
    assert.notDeepEqual(threadsLoading(traces, status.pid, '/packages/health/dist/probe-task.js'), []);
    for (const { pid } of status.workers) {
      assert.ok(
        traces.get(`${pid}-0`)?.some((u) => u.endsWith('/packages/dataplane/dist/worker-main.js')),
        `${pid}`,
      );
      assert.notDeepEqual(threadsLoading(traces, pid, BCRYPT_THREAD), []);
    }
  });

  it('the same trace sees the .ts modules of the CLI run from its sources', async () => {
    const dir = join(tempDir(), 'trace');
    mkdirSync(dir);
    const result = await runCli(['version'], {
      cli: ['--import', traceHook, cliPath],
      env: { GATEHOUSE_MODULE_TRACE_DIR: dir },
    });
    assert.equal(result.code, 0, result.stderr);
    const urls = [...readTraces(dir).values()].flat();
    assert.ok(
      urls.some((u) => u.endsWith('/packages/gatehouse/src/bin.ts')),
      urls.join('\n'),
    );
  });
});
