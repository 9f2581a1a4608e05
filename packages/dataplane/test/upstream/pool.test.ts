import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { UpstreamPool, UpstreamTlsAgent } from '../../src/upstream/pool.ts';

const tls = (identity: string) => ({
  ca: null,
  cert: null,
  key: null,
  rejectUnauthorized: true,
  servername: null,
  identity,
});

let server: http.Server;
let port = 0;
let open = 0;
const held: http.ServerResponse[] = [];

before(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/hold') held.push(res);
    else res.end('ok');
  });
  server.on('connection', (s: Socket) => {
    open++;
    s.on('close', () => open--);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as { port: number }).port;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

function get(agent: http.Agent, path = '/'): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

async function until(test: () => boolean, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!test() && Date.now() < end) await sleep(20);
}

describe('upstream pool', () => {
  it('one agent per identity, shared by generations; other identities get their own', () => {
    const pool = new UpstreamPool();
    const a1 = pool.acquire('https:', tls('id-a'), 4_000, 1);
    assert.equal(pool.acquire('https:', tls('id-a'), 4_000, 2), a1);
    assert.notEqual(pool.acquire('https:', tls('id-b'), 4_000, 2), a1);
    assert.ok(a1 instanceof UpstreamTlsAgent);
    const plain = pool.acquire('http:', null, 4_000, 1);
    assert.equal(pool.acquire('http:', null, 4_000, 2), plain);
    assert.equal(pool.stats().agents, 3);
  });

  it('an agent survives while a generation uses it, then drains without cutting a busy socket', async () => {
    const pool = new UpstreamPool();
    const agent = pool.acquire('http:', null, 4_000, 1);
    assert.equal(await get(agent), 200);
    assert.equal(open, 1, 'the keep-alive socket stays in the pool');
    assert.equal(pool.acquire('http:', null, 4_000, 2), agent);
    pool.releaseGeneration(1);
    assert.equal(await get(agent), 200, 'still usable by generation 2');
    assert.equal(open, 1, 'and the warm socket was reused');

    await Promise.all([get(agent), get(agent)]);
    assert.equal(open, 2, 'two warm sockets');
    const busy = get(agent, '/hold');
    await until(() => held.length === 1);
    pool.releaseGeneration(2);
    await until(() => open === 1);
    assert.equal(open, 1, 'idle sockets are closed at once, the busy one is left to finish');
    held.shift()?.end('late');
    assert.equal(await busy, 200, 'the in-flight request completes');
    await until(() => open === 0);
    assert.equal(open, 0, 'after its request the socket is closed, not pooled');
    await until(() => pool.stats().draining === 0);
    assert.equal(pool.stats().draining, 0, 'the drained agent is destroyed');
  });
});
