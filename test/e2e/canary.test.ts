// Goma's canary backends through `gatehouse run`: requests picked by header, cookie, query parameter
// and client address, with exact counts (one worker, so one smooth weighted round-robin), exclusive
// canaries ranked by priority, and health applying to a canary as to any backend.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type GatewayProcess, startGateway, tempDir, writeConfig } from '../support/gateway.ts';
import { gatewayHead } from '../support/gateway-config.ts';
import { get as getReply } from '../support/http.ts';

const NAMES = ['stable', 'beta', 'gold', 'v3', 'office'] as const;
type Name = (typeof NAMES)[number];

/** The backend's name, or `status N` for any other answer. */
async function get(port: number, path: string, headers: Record<string, string> = {}): Promise<string> {
  const reply = await getReply(port, path, headers);
  return reply.status === 200 ? reply.body : `status ${reply.status}`;
}

async function counts(port: number, n: number, path: string, headers: Record<string, string> = {}) {
  const seen: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const who = await get(port, path, headers);
    seen[who] = (seen[who] ?? 0) + 1;
  }
  return seen;
}

describe('canary backends', () => {
  const servers: Server[] = [];
  const health: Record<Name, number> = { stable: 200, beta: 200, gold: 200, v3: 200, office: 200 };
  const url: Partial<Record<Name, string>> = {};
  let gateway: GatewayProcess;
  let port: number;

  before(async () => {
    for (const name of NAMES) {
      const server = createServer((req, res) => {
        if (req.url === '/health') return void res.writeHead(health[name]).end();
        res.end(name);
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      servers.push(server);
      url[name] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }
    const head = await gatewayHead({
      admin: false,
      gateway: ['  watch: { enabled: false }', '  proxy:', '    trustedProxies: [127.0.0.1/32]'],
    });
    port = head.webPort;
    const config = writeConfig(
      tempDir('gatehouse-canary-'),
      `${head.text}routes:
  - name: shop
    path: /
    healthCheck: { path: /health, interval: 300ms, timeout: 200ms, fall: 1, rise: 1 }
    backends:
      - endpoint: ${url.stable}
        weight: 3
      - endpoint: ${url.beta}
        weight: 1
        match:
          - { source: header, name: X-Beta, operator: equals, value: "yes" }
      - endpoint: ${url.gold}
        exclusive: true
        priority: 1
        match:
          - { source: cookie, name: plan, operator: equals, value: gold }
      - endpoint: ${url.v3}
        exclusive: true
        priority: 5
        match:
          - { source: query, name: version, operator: in, value: "3, 4" }
      - endpoint: ${url.office}
        exclusive: true
        match:
          - { source: ip, operator: regex, value: "^203\\\\.0\\\\.113\\\\." }
`,
    );
    gateway = await startGateway(config, { workers: 1 });
  });

  after(async () => {
    await gateway?.stop();
    for (const server of servers) server.close();
  });

  it('sends requests that match no canary to the stable backends only', async () => {
    assert.deepEqual(await counts(port, 8, '/'), { stable: 8 });
  });

  it('adds a matching non-exclusive canary to the weighted pool: 6 to 2 for weights 3 and 1', async () => {
    assert.deepEqual(await counts(port, 8, '/', { 'x-beta': 'yes' }), { stable: 6, beta: 2 });
    assert.deepEqual(await counts(port, 4, '/', { 'x-beta': 'no' }), { stable: 4 });
  });

  it('gives a matching exclusive canary all its traffic: by cookie, by query, by client address', async () => {
    assert.deepEqual(await counts(port, 5, '/', { cookie: 'theme=dark; plan=gold' }), { gold: 5 });
    assert.deepEqual(await counts(port, 5, '/?a=1&version=4'), { v3: 5 });
    assert.deepEqual(await counts(port, 5, '/?version=2'), { stable: 5 });
    assert.deepEqual(await counts(port, 5, '/', { 'x-forwarded-for': '203.0.113.7' }), { office: 5 });
    assert.deepEqual(await counts(port, 3, '/', { 'x-forwarded-for': '198.51.100.7' }), { stable: 3 });
  });

  it('ranks overlapping exclusive canaries by priority, the higher first', async () => {
    assert.deepEqual(await counts(port, 4, '/?version=3', { cookie: 'plan=gold', 'x-beta': 'yes' }), { v3: 4 });
  });

  it('applies health to canaries: a canary that is down takes nothing, and is back once it is up', async () => {
    health.gold = 500;
    const deadline = Date.now() + 20_000;
    while ((await get(port, '/', { cookie: 'plan=gold' })) === 'gold' && Date.now() < deadline) await sleep(50);
    assert.deepEqual(await counts(port, 4, '/', { cookie: 'plan=gold' }), { stable: 4 });
    health.gold = 200;
    while ((await get(port, '/', { cookie: 'plan=gold' })) !== 'gold' && Date.now() < deadline) await sleep(50);
    assert.deepEqual(await counts(port, 3, '/', { cookie: 'plan=gold' }), { gold: 3 });
  });
});
