// The rate-limit gateway of the e2e tests: one route per rateLimit rule in front of a backend that
// answers 200, started as a real `gatehouse run`. `extra` adds lines under `gateway:` (a Redis).
// Every request goes on a fresh connection, so that consecutive requests land on any worker.
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
