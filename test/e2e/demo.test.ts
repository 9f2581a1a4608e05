// `gatehouse demo` as a newcomer runs it: start it, wait for its instructions, run the curl lines it
// prints exactly as printed, and check each behaves as its comment says; then Ctrl-C (SIGINT) must
// stop the gateway and the backends and exit 0.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, connect } from 'node:net';
import { after, before, test } from 'node:test';
import { cliPath, repoRoot, runCli, tempDir } from '../support/gateway.ts';

const OFFSETS = [0, 1, 363, 364, 1100];

async function portFree(port: number): Promise<boolean> {
  const server = createServer();
  server.listen(port, '127.0.0.1');
  try {
    await once(server, 'listening');
  } catch {
    return false;
  }
  server.close();
  await once(server, 'close');
  return true;
}

/**
 * A base whose five demo ports are all free right now. It is drawn below Linux's ephemeral range
 * (32768-60999): there, the machine's own outgoing loopback connections can take one of the ports
 * between this check and the demo's bind.
 */
async function freePortBase(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = 29_000 + Math.floor(Math.random() * 2_500);
    const free = await Promise.all(OFFSETS.map((o) => portFree(base + o)));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no free port base found');
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

interface Printed {
  title: string;
  command: string;
}

/** The numbered `# N. title` / `$ command` pairs the demo prints. */
function printedCommands(stdout: string): Printed[] {
  const lines = stdout.split('\n');
  const out: Printed[] = [];
  for (let i = 0; i < lines.length - 1; i++) {
    const title = /^\s+# \d+\. (.*)$/.exec(lines[i] as string);
    const command = /^\s+\$ (curl .*)$/.exec(lines[i + 1] as string);
    if (title && command) out.push({ title: title[1] as string, command: command[1] as string });
  }
  return out;
}

function sh(command: string): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync('sh', ['-c', command], { cwd: repoRoot, encoding: 'utf8', timeout: 20_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const dir = tempDir('gatehouse-demo-');
let base = 0;
let demo: ReturnType<typeof spawn>;
let stdout = '';
let stderr = '';
let exited: Promise<[number | null, NodeJS.Signals | null]>;
let commands: Printed[] = [];

before(async () => {
  base = await freePortBase();
  demo = spawn(process.execPath, [cliPath, 'demo', '--dir', dir, '--port-base', String(base)], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  exited = once(demo, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  demo.stdout?.setEncoding('utf8');
  demo.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`demo printed no instructions in 90 s:\n${stdout}\n${stderr}`)),
      90_000,
    );
    demo.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`demo exited (${code}) before it was ready:\n${stdout}\n${stderr}`));
    });
    demo.stdout?.on('data', (d: string) => {
      stdout += d;
      if (stdout.includes('Press Ctrl-C to stop.')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  commands = printedCommands(stdout);
});

after(() => {
  if (demo && demo.exitCode === null && demo.signalCode === null) demo.kill('SIGKILL');
});

test('prints the config path and the curl lines to try', () => {
  assert.match(stdout, new RegExp(`config\\s+${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/gatehouse\\.yaml`));
  assert.equal(commands.length, 10, stdout);
});

test('plain HTTP reaches both backends, shared by weight', () => {
  const line = commands[0] as Printed;
  assert.match(line.title, /Plain HTTP/);
  const seen = new Set<string>();
  for (let i = 0; i < 8; i++) {
    const result = sh(line.command);
    assert.equal(result.code, 0, result.stderr);
    const backend = /Hello from the demo backend "(blue|green)"/.exec(result.stdout);
    assert.ok(backend, result.stdout);
    seen.add(backend[1] as string);
    assert.match(result.stdout, /x-forwarded-proto http,/);
    assert.match(result.stdout, /HTTP 200\n$/);
  }
  assert.deepEqual([...seen].sort(), ['blue', 'green']);
});

test('HTTPS with the demo client certificate reaches the mTLS-only backend through Gatehouse', () => {
  const line = commands[1] as Printed;
  assert.match(line.command, /--cert .*client\.crt --key .*client\.key https:\/\/localhost:\d+\/secure/);
  const result = sh(line.command);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /Hello from the demo backend "green"/);
  // green saw Gatehouse's own client certificate, not the caller's
  assert.match(result.stdout, /CN=gatehouse, issued by "Gatehouse Demo Backend CA"/);
  assert.match(result.stdout, /x-forwarded-proto https/);
  // and the caller's verified identity, forwarded by Gatehouse
  assert.match(result.stdout, /Subject="CN=demo-client/);
  assert.match(result.stdout, /HTTP 200\n$/);
});

test('HTTPS without a client certificate gets 401 and reaches no backend', () => {
  const line = commands[2] as Printed;
  assert.doesNotMatch(line.command, /--cert/);
  const result = sh(line.command);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /HTTP 401\n$/);
  assert.match(result.stdout, /client certificate required/);
  assert.doesNotMatch(result.stdout, /Hello from/);
});

test('HTTPS with a certificate from an untrusted CA gets 401 with the reason', () => {
  const line = commands[3] as Printed;
  assert.match(line.command, /rogue-client\.crt/);
  const result = sh(line.command);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /HTTP 401\n$/);
  assert.match(result.stdout, /unknown CA/);
  assert.doesNotMatch(result.stdout, /Hello from/);
});

test("the mTLS backend refuses the user's own client certificate at the handshake", () => {
  const line = commands[4] as Printed;
  const result = sh(line.command);
  assert.notEqual(result.code, 0, result.stdout);
  // TLS 1.3 checks the client certificate after the client finished: curl sees an alert, a reset or
  // a closed connection, depending on timing
  assert.match(result.stderr, /alert|SSL|reset|Empty reply/i);
  assert.doesNotMatch(result.stdout, /Hello from/);
});

test('basicAuth: the demo user passes and its name reaches the backend; no credentials get a 401 challenge', () => {
  const ok = sh((commands[5] as Printed).command);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /Hello from the demo backend "blue"/);
  assert.match(ok.stdout, /HTTP 200\n$/);
  const none = sh((commands[6] as Printed).command);
  assert.match(none.stdout, /HTTP 401\n$/);
  assert.match(none.stdout, /www-authenticate: Basic realm="gatehouse-demo"/i);
  assert.doesNotMatch(none.stdout, /Hello from/);
});

test('jwtAuth: the printed token passes, a forged one gets 401 with the reason', () => {
  const ok = sh((commands[7] as Printed).command);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /Hello from the demo backend "blue"/);
  assert.match(ok.stdout, /HTTP 200\n$/);
  const forged = sh((commands[8] as Printed).command);
  assert.match(forged.stdout, /HTTP 401\n$/);
  assert.match(forged.stdout, /www-authenticate: Bearer realm="gatehouse", error="invalid_token"/i);
  assert.doesNotMatch(forged.stdout, /Hello from/);
});

test('the admin status line answers JSON', () => {
  const line = commands[9] as Printed;
  const result = sh(line.command);
  assert.equal(result.code, 0, result.stderr);
  const status = JSON.parse(result.stdout) as { generation?: unknown; routes?: unknown[] };
  assert.equal(typeof status.generation, 'number');
  assert.equal(status.routes?.length, 4);
});

test('SIGINT drains the gateway, closes the backends and exits 0', async () => {
  demo.kill('SIGINT');
  const timer = setTimeout(() => demo.kill('SIGKILL'), 45_000);
  const [code, signal] = await exited;
  clearTimeout(timer);
  assert.equal(signal, null, stderr);
  assert.equal(code, 0, `${stdout}\n${stderr}`);
  for (const offset of OFFSETS) assert.ok(await refused(base + offset), `port ${base + offset} still open`);
});

test('a taken port gives a clear message that names --port-base', async () => {
  const blocker = createServer();
  blocker.listen(base + 1, '127.0.0.1');
  await once(blocker, 'listening');
  try {
    const result = await runCli(['demo', '--dir', dir, '--port-base', String(base)], { timeoutMs: 60_000 });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stderr, new RegExp(`port ${base + 1}.*in use.*--port-base`));
  } finally {
    blocker.close();
  }
});
