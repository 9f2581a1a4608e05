// The rate-limit gateway of the e2e tests: one route per rateLimit rule in front of a backend that
// answers 200, started as a real `gatehouse run`. `extra` adds lines under `gateway:` (a Redis).
// Every request goes on a fresh connection, so that consecutive requests land on any worker. And
// what every Redis-backed test checks the same way: one bucket across two instances, the fallback
// of each onStoreError mode while Redis is out of reach, and the way back.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort, type GatewayProcess, startGateway, tempDir, writeFile } from './gateway.ts';
import { get } from './http.ts';

export async function statuses(port: number, path: string, count: number, headers: Record<string, string> = {}) {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push((await get(port, path, headers)).status);
  return out;
}

export const allowed = (list: number[]) => list.filter((s) => s === 200).length;

export interface OkBackend {
  server: http.Server;
  port: number;
}

/** A backend on a loopback port that answers every request with 200 `ok`. */
export async function startOkBackend(): Promise<OkBackend> {
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok\n');
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { server, port: (server.address() as AddressInfo).port };
}

export function rateLimitConfig(webPort: number, adminPort: number, backendPort: number, extra = ''): string {
  return `version: 2
gateway:
  entryPoints:
    web: { address: "127.0.0.1:${webPort}" }
  admin: { address: "127.0.0.1:${adminPort}" }
  log: { accessLog: false }
${extra}
middlewares:
  - name: burst
    type: rateLimit
    rule: { unit: hour, requestsPerUnit: 15, burst: 5 }
  - name: per-second
    type: rateLimit
    rule: { unit: second, requestsPerUnit: 20 }
  - name: ban
    type: rateLimit
    rule: { unit: hour, requestsPerUnit: 2, banAfter: 3, banDuration: 1h }
  - name: by-key
    type: rateLimit
    rule: { unit: hour, requestsPerUnit: 3, keyStrategy: { source: header, name: X-API-Key } }
  - name: by-session
    type: rateLimit
    rule: { unit: hour, requestsPerUnit: 3, keyStrategy: { source: cookie, name: session } }
  - name: shared-local
    type: rateLimit
    rule: { unit: hour, requestsPerUnit: 20, onStoreError: local }
  - name: shared-deny
    type: rateLimit
    rule: { unit: hour, requestsPerUnit: 20, onStoreError: deny }
routes:
${['burst', 'per-second', 'ban', 'by-key', 'by-session', 'shared-local', 'shared-deny']
  .map(
    (name) => `  - name: ${name}
    path: /${name}
    backends: [{ endpoint: "http://127.0.0.1:${backendPort}" }]
    middlewares: [${name}]`,
  )
  .join('\n')}
`;
}

export interface RateLimitGateway {
  gw: GatewayProcess;
  port: number;
  admin: number;
}

export async function startRateLimitGateway(
  workers: number,
  backendPort: number,
  extra = '',
): Promise<RateLimitGateway> {
  const [port, admin] = [await freePort(), await freePort()];
  const dir = tempDir('gh-ratelimit-');
  const gw = await startGateway(writeFile(dir, 'gatehouse.yaml', rateLimitConfig(port, admin, backendPort, extra)), {
    workers,
    readyTimeoutMs: 120_000,
  });
  return { gw, port, admin };
}

/** The log line of a rate-limit store going out of reach (once per outage, not per request). */
export const STORE_DOWN = 'rate-limit store unreachable';

/**
 * Two instances on one Redis: 30 requests alternating between them allow `shared-local`'s bucket of
 * 20 once, and `shared-deny` answers while its store is there.
 */
export async function assertOneSharedBucket(a: RateLimitGateway, b: RateLimitGateway): Promise<void> {
  const list: number[] = [];
  for (let i = 0; i < 30; i++) list.push((await get(i % 2 === 0 ? a.port : b.port, '/shared-local')).status);
  assert.equal(allowed(list), 20, JSON.stringify(list));
  assert.ok(
    list.every((s) => s === 200 || s === 429),
    JSON.stringify(list),
  );
  for (let i = 0; i < 10; i++) assert.equal((await get(i % 2 === 0 ? a.port : b.port, '/shared-deny')).status, 200);
}

/**
 * An instance whose Redis at `redisPort` is out of reach (and whose `shared-local` bucket is still
 * full): `local` counts in the instance's own bucket, `deny` answers 503, the outage is logged once
 * and gatehouse_ratelimit_store_fallback is 1. Resolves with the log line.
 */
export async function assertStoreFallback(g: RateLimitGateway, redisPort: number) {
  const local = await statuses(g.port, '/shared-local', 25);
  assert.equal(allowed(local), 20, JSON.stringify(local));
  assert.deepEqual(await statuses(g.port, '/shared-deny', 5), [503, 503, 503, 503, 503]);
  const line = await g.gw.waitForLog((l) => String(l.msg).startsWith(STORE_DOWN));
  assert.equal(line.addr, `127.0.0.1:${redisPort}`);
  assert.equal(g.gw.lines.filter((l) => String(l.msg).startsWith(STORE_DOWN)).length, 1);
  const metrics = await (await fetch(`http://127.0.0.1:${g.admin}/metrics`)).text();
  assert.match(metrics, new RegExp(`gatehouse_ratelimit_store_fallback\\{addr="127\\.0\\.0\\.1:${redisPort}"\\} 1`));
  return line;
}

/** Redis is reachable again: `shared-deny` answers 200 and the way back is logged. */
export async function assertStoreBack(g: RateLimitGateway): Promise<void> {
  let back = false;
  // Bounded in count: each worker probes Redis again a second after its last failure, or at once on
  // a new connection.
  for (let i = 0; i < 40 && !back; i++) {
    back = (await get(g.port, '/shared-deny')).status === 200;
    if (!back) await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal(back, true, 'shared-deny answers from Redis again');
  await g.gw.waitForLog((l) => l.msg === 'rate-limit store reachable again', 20_000);
}
