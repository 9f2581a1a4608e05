import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { closeIdleSockets, UpstreamPool, UpstreamTlsAgent } from '../../src/upstream/pool.ts';

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

  it('closes a pooled socket once it has been idle for upstreamIdle', async () => {
    const pool = new UpstreamPool();
    const agent = pool.acquire('http:', null, 200, 1);
    assert.equal(await get(agent), 200);
    assert.equal(pool.stats().freeSockets, 1, 'the keep-alive socket went back to the pool');
    await until(() => open === 0);
    assert.equal(open, 0, 'the backend saw the idle connection closed');
    assert.equal(pool.stats().freeSockets, 0, 'and the pool no longer offers it');
    pool.releaseGeneration(1);
  });

  it('the idle sweep: a socket closes between 3/4 and all of the idle time after its last byte', () => {
    let destroyed = 0;
    const socket = { bytesRead: 100, bytesWritten: 50, destroy: () => destroyed++ };
    const agent = { freeSockets: { backend: [socket] } } as unknown as http.Agent;
    const sweep = (now: number) => closeIdleSockets(agent, 4_000, 500, now);
    sweep(0); // first seen: idle from the sweep before, -500 at the latest
    sweep(2_500);
    assert.equal(destroyed, 0);
    socket.bytesRead += 10; // used between the sweeps at 2500 and 3000
    sweep(3_000);
    sweep(5_000);
    assert.equal(destroyed, 0, 'last byte between 2.5 and 3 s: idle for 2.5 s at most');
    sweep(6_000);
    assert.equal(destroyed, 1, 'idle 3 to 3.5 s: the next sweep would come after 4 s');
  });
});
