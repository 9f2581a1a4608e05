// The worker's pass-through across generations, with real loopback sockets: an aborted prepare frees
// what it bound, a commit retargets new connections only and closes removed forwards after the
// drain timeout, a refused or slow dial closes the client, and UDP sessions expire and are bounded.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GatewayConfig, PassThroughForward } from '@gatehouse/config';
import pino from 'pino';
import { PassThrough } from '../../src/passthrough/pass-through.ts';
import { passThroughMetrics } from '../../src/passthrough/metrics.ts';
import { gatewayConfig } from '../fixtures.ts';

const logger = pino({ enabled: false });

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

async function tcpEcho(prefix: string): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.on('data', (chunk) => socket.write(`${prefix}${chunk}`));
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

function forward(protocol: 'tcp' | 'udp', port: number, targetPort: number): PassThroughForward {
  return {
    protocol,
    host: '127.0.0.1',
    port,
    target: `127.0.0.1:${targetPort}`,
    targetHost: '127.0.0.1',
    targetPort,
    dialTimeoutMs: 2_000,
    at: { file: 'f', line: 1, col: 1, path: 'p' },
  };
}

function config(forwards: PassThroughForward[], passThrough: { idleMs?: number; max?: number } = {}): GatewayConfig {
  return gatewayConfig([], {
    entryPoints: {
      passThrough: { forwards, udpSessionIdleMs: passThrough.idleMs ?? 60_000, udpMaxSessions: passThrough.max ?? 16 },
    },
    timeouts: { drainMs: 300 } as GatewayConfig['gateway']['timeouts'],
  });
}

/** Sends `text` on a connected socket and waits (bounded) until `expected` has been read. */
async function exchange(socket: Socket, text: string, expected: string): Promise<void> {
  let got = '';
  const onData = (chunk: Buffer) => {
    got += chunk.toString();
  };
  socket.on('data', onData);
  socket.write(text);
  for (let i = 0; i < 200 && !got.includes(expected); i++) await sleep(10);
  socket.off('data', onData);
  assert.equal(got, expected);
}

async function open(port: number): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1' });
  await once(socket, 'connect');
  return socket;
}

async function canBindExclusively(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

const gauge = async (forwardKey: string): Promise<number> =>
  (await passThroughMetrics.active.get()).values.find((v) => v.labels.forward === forwardKey)?.value ?? 0;

describe('pass-through across generations', () => {
  const servers: Server[] = [];
  after(() => {
    for (const s of servers) s.close();
  });

  it('releases what an aborted prepare bound, and keeps what was committed', async () => {
    const echo = await tcpEcho('A:');
    servers.push(echo.server);
    const [p1, p2] = [await freePort(), await freePort()];
    const passThrough = new PassThrough();
    await passThrough.prepare(1, config([forward('tcp', p1, echo.port)]), logger);
    passThrough.commit(1, logger);
    await passThrough.prepare(2, config([forward('tcp', p1, echo.port), forward('tcp', p2, echo.port)]), logger);
    assert.equal(await canBindExclusively(p2), false);
    passThrough.abort(2, logger);
    assert.equal(await canBindExclusively(p2), true);
    const socket = await open(p1);
    await exchange(socket, 'x', 'A:x');
    socket.destroy();
    passThrough.stopAccepting();
  });

  it('retargets new connections only, and cuts a removed forward after the drain timeout', async () => {
    const a = await tcpEcho('A:');
    const b = await tcpEcho('B:');
    servers.push(a.server, b.server);
    const [kept, removed] = [await freePort(), await freePort()];
    const passThrough = new PassThrough();
    await passThrough.prepare(1, config([forward('tcp', kept, a.port), forward('tcp', removed, a.port)]), logger);
    passThrough.commit(1, logger);
    const old = await open(kept);
    await exchange(old, 'x', 'A:x');
    // An open connection's bytes are in the scrape, not only once it closes.
    const bytes = async (direction: string) =>
      (await passThroughMetrics.bytes.get()).values.find(
        (v) => v.labels.forward === `tcp 127.0.0.1:${kept}` && v.labels.direction === direction,
      )?.value;
    assert.equal(await bytes('in'), 1);
    assert.equal(await bytes('out'), 3);
    assert.equal(await bytes('in'), 1);
    const onRemoved = await open(removed);
    await exchange(onRemoved, 'y', 'A:y');

    await passThrough.prepare(2, config([forward('tcp', kept, b.port)]), logger);
    passThrough.commit(2, logger);
    await exchange(old, 'z', 'A:z');
    const fresh = await open(kept);
    await exchange(fresh, 'z', 'B:z');
    // The removed forward accepts nothing more; its open connection works until the drain timeout.
    await assert.rejects(open(removed), { code: 'ECONNREFUSED' });
    await exchange(onRemoved, 'w', 'A:w');
    await once(onRemoved, 'close');
    assert.equal(passThrough.activeConnections(), 2);
    old.destroy();
    fresh.destroy();
    passThrough.stopAccepting();
    passThrough.destroyAll();
  });

  it('closes the client when the target refuses, and counts the failed dial', async () => {
    const [port, closedPort] = [await freePort(), await freePort()];
    const passThrough = new PassThrough();
    await passThrough.prepare(1, config([forward('tcp', port, closedPort)]), logger);
    passThrough.commit(1, logger);
    const socket = await open(port);
    socket.on('error', () => {});
    await once(socket, 'close');
    const failed = (await passThroughMetrics.connections.get()).values.find(
      (v) => v.labels.forward === `tcp 127.0.0.1:${port}` && v.labels.result === 'dial_failed',
    );
    assert.equal(failed?.value, 1);
    passThrough.stopAccepting();
  });

  it('gives up a dial that takes longer than the dial timeout', async () => {
    // A target that never completes a handshake: a stopped process whose accept queue is full, so
    // the kernel drops further SYNs.
    const child = spawn(
      process.execPath,
      [
        '-e',
        "const s=require('net').createServer().listen({port:0,host:'127.0.0.1',backlog:1},()=>console.log(s.address().port))",
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const held: Socket[] = [];
    const port = await freePort();
    const passThrough = new PassThrough();
    try {
      const [data] = (await once(child.stdout, 'data')) as [Buffer];
      const target = Number(String(data).trim());
      child.kill('SIGSTOP');
      for (let i = 0; i < 8; i++) {
        const filler = connect({ port: target, host: '127.0.0.1', timeout: 300 });
        filler.on('error', () => {});
        held.push(filler);
        const result = await Promise.race([
          once(filler, 'connect').then(() => 'connect'),
          once(filler, 'timeout').then(() => 'timeout'),
        ]);
        if (result === 'timeout') break;
      }
      await passThrough.prepare(1, config([{ ...forward('tcp', port, target), dialTimeoutMs: 200 }]), logger);
      passThrough.commit(1, logger);
      const socket = await open(port);
      socket.on('error', () => {});
      await once(socket, 'close');
      const timedOut = (await passThroughMetrics.connections.get()).values.find(
        (v) => v.labels.forward === `tcp 127.0.0.1:${port}` && v.labels.result === 'dial_timeout',
      );
      assert.equal(timedOut?.value, 1);
      for (let i = 0; i < 100 && passThrough.activeConnections() > 0; i++) await sleep(10);
      assert.equal(passThrough.activeConnections(), 0);
    } finally {
      passThrough.stopAccepting();
      for (const s of held) s.destroy();
      child.kill('SIGKILL');
    }
  });

  it('ends idle UDP sessions, and drops new clients while the table is full', async () => {
    const echo = createSocket('udp4');
    echo.on('message', (message, remote) => echo.send(message, remote.port, remote.address));
    echo.bind(0, '127.0.0.1');
    await once(echo, 'listening');
    const port = await freePort();
    const key = `udp 127.0.0.1:${port}`;
    const passThrough = new PassThrough();
    await passThrough.prepare(1, config([forward('udp', port, echo.address().port)], { idleMs: 200, max: 1 }), logger);
    passThrough.commit(1, logger);
    const clients = [createSocket('udp4'), createSocket('udp4')];
    for (const c of clients) {
      c.bind(0, '127.0.0.1');
      await once(c, 'listening');
    }
    const [first, second] = clients as [ReturnType<typeof createSocket>, ReturnType<typeof createSocket>];
    const reply = once(first, 'message', { signal: AbortSignal.timeout(5_000) });
    first.send('one', port, '127.0.0.1');
    assert.equal(String(((await reply) as [Buffer])[0]), 'one');
    assert.equal(await gauge(key), 1);

    // Full: the second client's datagram is dropped and counted.
    second.send('two', port, '127.0.0.1');
    let dropped = 0;
    for (let i = 0; i < 100 && dropped === 0; i++) {
      await sleep(10);
      dropped =
        (await passThroughMetrics.dropped.get()).values.find(
          (v) => v.labels.forward === key && v.labels.reason === 'sessions_full',
        )?.value ?? 0;
    }
    assert.equal(dropped, 1);

    // Idle for 200 ms: the first session ends, and the second client gets one.
    for (let i = 0; i < 200 && (await gauge(key)) > 0; i++) await sleep(10);
    assert.equal(await gauge(key), 0);
    const second2 = once(second, 'message', { signal: AbortSignal.timeout(5_000) });
    second.send('three', port, '127.0.0.1');
    assert.equal(String(((await second2) as [Buffer])[0]), 'three');
    for (const c of clients) c.close();
    echo.close();
    passThrough.stopAccepting();
    assert.equal(await gauge(key), 0);
  });
});
