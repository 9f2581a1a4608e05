// `node bench/middleware-auth.ts [--duration 10] [--connections 20] [--workers 2]`: what the
// authentication middlewares cost, through `gatehouse run` on loopback, with wrk:
//   plain    a route with no middleware (the baseline)
//   basic    basicAuth, bcrypt cost 10, the right password (verified once, then from the cache)
//   jwt      jwtAuth, HS256 token verified with jose on every request
//   burst    the plain route's latency while wrk sends wrong bcrypt passwords to the basic route at
//            the same time (each one a full bcrypt in the worker's nice-19 verifier thread): the
//            event loops must neither wait for it nor lose their CPU to it
// Every run is bounded by --duration; nothing listens beyond 127.0.0.1. Figures are printed, not
// asserted: record them in bench/RESULTS.md.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hash } from '@node-rs/bcrypt';
import { SignJWT } from 'jose';
import { builtCli, ensureBuilt } from './lib/processes.ts';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(args[i + 1]);
};
const DURATION = flag('duration', 10);
const CONNECTIONS = flag('connections', 20);
const WORKERS = flag('workers', 2);
const children: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitFor(url: string, headers: Record<string, string> = {}): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      const res = await fetch(url, { headers });
      if (res.status === 200) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never answered 200`);
}

interface WrkResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
}

function ms(text: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(text);
  if (!m) return Number.NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}

async function wrk(url: string, headers: Record<string, string>, connections = CONNECTIONS): Promise<WrkResult> {
  const argv = ['-t2', `-c${connections}`, `-d${DURATION}s`, '--latency', '--timeout', '5s'];
  for (const [k, v] of Object.entries(headers)) argv.push('-H', `${k}: ${v}`);
  const child = spawn('wrk', [...argv, url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  await once(child, 'exit');
  const p50 = /\n\s+50%\s+(\S+)/.exec(out)?.[1] ?? '';
  const p99 = /\n\s+99%\s+(\S+)/.exec(out)?.[1] ?? '';
  return {
    requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN),
    p50Ms: ms(p50),
    p99Ms: ms(p99),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-auth-'));
  const originPort = await freePort();
  const origin = spawn(
    process.execPath,
    ['-e', `require('http').createServer((q, s) => s.end('x'.repeat(1024))).listen(${originPort}, '127.0.0.1')`],
    { stdio: 'inherit' },
  );
  children.push(origin);
  const port = await freePort();
  const secret = 'bench-secret-0123456789abcdef0123456789';
  const bcrypt = await hash('right-password', 10);
  const target = `http://127.0.0.1:${originPort}`;
  writeFileSync(
    join(dir, 'gatehouse.yaml'),
    `gateway:
  entryPoints: { web: { address: "127.0.0.1:${port}" } }
  admin: { address: "" }
  log: { level: warn, accessLog: true }
routes:
  - { name: plain, path: /plain, target: "${target}" }
  - { name: basic, path: /basic, target: "${target}", middlewares: [users] }
  - { name: jwt, path: /jwt, target: "${target}", middlewares: [tokens] }
middlewares:
  - name: users
    type: basicAuth
    rule: { users: ["bench:${bcrypt}"] }
  - name: tokens
    type: jwtAuth
    rule: { secret: "${secret}", issuer: bench }
`,
  );
  ensureBuilt();
  const gateway = spawn(
    process.execPath,
    [...builtCli, 'run', '--config', join(dir, 'gatehouse.yaml'), '--workers', String(WORKERS)],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, GATEHOUSE_LOG_FORMAT: 'json' },
    },
  );
  children.push(gateway);
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/plain`);
  const basicOk = { authorization: `Basic ${Buffer.from('bench:right-password').toString('base64')}` };
  const basicWrong = { authorization: `Basic ${Buffer.from('bench:wrong-password').toString('base64')}` };
  const token = await new SignJWT({ sub: 'bench' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('bench')
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));
  const jwtOk = { authorization: `Bearer ${token}` };
  await waitFor(`${base}/basic`, basicOk);
  await waitFor(`${base}/jwt`, jwtOk);

  const rows: Array<[string, WrkResult]> = [];
  rows.push(['plain', await wrk(`${base}/plain`, {})]);
  rows.push(['basic (bcrypt 10, cached)', await wrk(`${base}/basic`, basicOk)]);
  rows.push(['jwt (HS256)', await wrk(`${base}/jwt`, jwtOk)]);
  const alone = await wrk(`${base}/plain`, {});
  rows.push(['plain, alone', alone]);
  const [beside, burst] = await Promise.all([
    wrk(`${base}/plain`, {}),
    wrk(`${base}/basic`, basicWrong, Math.max(2, Math.floor(CONNECTIONS / 2))),
  ]);
  rows.push(['plain, beside the burst', beside]);
  rows.push(['burst: wrong bcrypt passwords', burst]);

  const pad = (s: string, n: number) => s.padEnd(n);
  process.stdout.write(
    `\nmiddleware-auth: ${DURATION} s per run, ${CONNECTIONS} connections, ${WORKERS} workers\n${pad('run', 32)}${pad('req/s', 10)}${pad('p50', 10)}${pad('p99', 10)}non-2xx\n`,
  );
  for (const [name, r] of rows) {
    process.stdout.write(
      `${pad(name, 32)}${pad(r.requestsPerSecond.toFixed(0), 10)}${pad(`${r.p50Ms.toFixed(2)} ms`, 10)}${pad(`${r.p99Ms.toFixed(2)} ms`, 10)}${r.non2xx}\n`,
    );
  }
  process.stdout.write(`p99 of plain beside the burst / alone: ${(beside.p99Ms / alone.p99Ms).toFixed(2)}×\n`);
}

try {
  await main();
} finally {
  for (const child of children) child.kill('SIGTERM');
}
