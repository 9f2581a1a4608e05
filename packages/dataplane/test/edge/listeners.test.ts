// The worker's listeners on real sockets: bind from a generation, serve through a real Forwarder,
// take a new generation's limits at commit, count connections, refuse a busy address with the
// address and reason, and stop accepting on drain without cutting the open connection.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { Listeners } from '../../src/edge/listeners.ts';
import { ListenerBindError } from '../../src/errors.ts';
import { Generation, HealthTable } from '../../src/generation.ts';
import type { Snapshot } from '../../src/messages.ts';
import { Forwarder } from '../../src/request/forwarder.ts';
import { UpstreamPool } from '../../src/upstream/pool.ts';
import { backend, gatewayConfig, route } from '../fixtures.ts';

function snapshot(generation: number, origin: string, address: string, maxHeaderCount: number): Snapshot {
  const config = gatewayConfig([route({ name: 'o', path: '/', backends: [backend(origin)] })], {
    limits: { maxHeaderCount },
    log: { accessLog: false },
  });
  const [host, port] = [
    address.slice(0, address.lastIndexOf(':')),
    Number(address.slice(address.lastIndexOf(':') + 1)),
  ];
  config.gateway.entryPoints.web = { raw: address, host, port };
  return {
    generation,
    config,
    tls: { certificates: [], clientCA: null, crl: null, ticketKeys: Buffer.alloc(48, 1).toString('base64') },
    upstreamTls: {},
    redisTls: null,
    health: {},
  };
}

function get(port: number, agent: http.Agent, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

describe('listeners', () => {
  let origin: http.Server;
  let originUrl = '';
  const pool = new UpstreamPool();
  const health = new HealthTable();
  const listeners = new Listeners();
  let forwarder: Forwarder;
  let port = 0;

  before(async () => {
    origin = http.createServer((_req, res) => res.end('ok'));
    origin.listen(0, '127.0.0.1');
    await once(origin, 'listening');
    originUrl = `http://127.0.0.1:${(origin.address() as net.AddressInfo).port}`;
    const first = Generation.build(snapshot(1, originUrl, '127.0.0.1:0', 100), pool, health);
    forwarder = new Forwarder(first, { logger: pino({ level: 'silent' }), sendPassive: () => {} });
    const addresses = await listeners.bind(first, forwarder);
    assert.equal(addresses.length, 1);
    port = Number(addresses[0]?.slice(addresses[0].lastIndexOf(':') + 1));
  });

  after(() => {
    listeners.destroyAll();
    origin.closeAllConnections();
    origin.close();
    pool.closeIdle();
  });

  it('serves through the forwarder and counts the open connection', async () => {
    const agent = new http.Agent({ keepAlive: true });
    assert.equal(await get(port, agent), 200);
    assert.equal(listeners.activeConnections(), 1);
    agent.destroy();
  });

  it("takes a new generation's parser limits at commit", async () => {
    const agent = new http.Agent({ keepAlive: false });
    const many: Record<string, string> = {};
    for (let i = 0; i < 10; i++) many[`x-h${i}`] = 'v';
    assert.equal(await get(port, agent, many), 200);
    const next = Generation.build(snapshot(2, originUrl, `127.0.0.1:${port}`, 5), pool, health);
    forwarder.generation = next;
    listeners.commit(next);
    assert.equal(await get(port, agent, many), 431);
  });

  it('names the address and the reason when a port is taken', async () => {
    const taken = net.createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const busy = `127.0.0.1:${(taken.address() as net.AddressInfo).port}`;
    const other = new Listeners();
    try {
      await assert.rejects(
        other.bind(Generation.build(snapshot(3, originUrl, busy, 100), pool, health), forwarder),
        (e: Error) => e instanceof ListenerBindError && e.address === busy && /EADDRINUSE/.test(e.reason),
      );
    } finally {
      taken.close();
    }
  });

  it('stops accepting on drain and lets the open keep-alive connection finish its request', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    assert.equal(await get(port, agent), 200);
    listeners.stopAccepting(500);
    assert.equal(await get(port, agent), 200, 'the open connection still serves');
    await assert.rejects(
      new Promise((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => resolve(s));
        s.on('error', reject);
      }),
      /ECONNREFUSED/,
    );
    agent.destroy();
  });
});
