// The request path end to end inside one process: a real Forwarder on a real node:http server in
// front of a real backend on loopback, built from a real Generation. What the e2e tests check
// through the CLI, checked here at the unit's edge: admission (guard, route, body limit, backend
// pick), the one error writer, retries, WebSocket upgrades through the same admission, completion.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { RouteConfig } from '@gatehouse/config';
import pino from 'pino';
import { onClientError } from '../../src/edge/client-error.ts';
import { Generation, HealthTable } from '../../src/generation.ts';
import type { PassiveMessage, Snapshot } from '../../src/messages.ts';
import { Forwarder } from '../../src/request/forwarder.ts';
import { UpstreamPool } from '../../src/upstream/pool.ts';
import { backend, gatewayConfig, route } from '../fixtures.ts';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  complete: boolean;
}

/** A port nothing listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as net.AddressInfo).port;
  s.close();
  await once(s, 'close');
  return port;
}

function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      data += d;
    });
    socket.on('close', () => resolve(data));
    socket.on('error', () => resolve(data));
    setTimeout(() => socket.destroy(), 5000).unref();
  });
}

describe('the request path (Forwarder on a real server and backend)', () => {
  const seen: Seen[] = [];
  const accessLines: Record<string, unknown>[] = [];
  const passive: PassiveMessage[] = [];
  let backendServer: http.Server;
  let gateway: http.Server;
  let forwarder: Forwarder;
  let port = 0;
  const pool = new UpstreamPool();

  before(async () => {
    backendServer = http.createServer((req, res) => {
      const entry: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: '',
        complete: false,
      };
      seen.push(entry);
      req.setEncoding('latin1');
      req.on('data', (c: string) => {
        entry.body += c;
      });
      req.on('end', () => {
        entry.complete = true;
        if (req.url === '/api/cut') {
          // Half of a declared body, then the connection is gone.
          res.writeHead(200, { 'content-length': '20' });
          res.write('0123456789', () => res.socket?.destroy());
          return;
        }
        res.writeHead(200, { 'content-type': 'text/plain', server: 'backend/1.0' }).end(`hello ${req.url}`);
      });
    });
    backendServer.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: '', complete: true });
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nupgraded');
      setTimeout(() => socket.end(), 50);
    });
    backendServer.listen(0, '127.0.0.1');
    await once(backendServer, 'listening');
    const live = `http://127.0.0.1:${(backendServer.address() as net.AddressInfo).port}`;
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const routes: RouteConfig[] = [
      route({ name: 'api', path: '/api', backends: [backend(live)], maxBodyBytes: 8 }),
      // The dead backend first: round-robin sends the first request there and the retry to `live`.
      route({ name: 'retry', path: '/retry', backends: [backend(dead), backend(live)] }),
      route({ name: 'down', path: '/down', backends: [backend(dead)], retry: { attempts: 0, on: [] } }),
      route({ name: 'ws', path: '/ws', backends: [backend(live)] }),
    ];
    const snapshot: Snapshot = {
      generation: 1,
      config: gatewayConfig(routes),
      tls: { certificates: [], clientCA: null, crl: null, ticketKeys: Buffer.alloc(48, 1).toString('base64') },
      upstreamTls: {},
      redisTls: null,
      health: {},
    };
    const generation = Generation.build(snapshot, pool, new HealthTable());
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line !== '') accessLines.push(JSON.parse(line));
        done();
      },
    });
    forwarder = new Forwarder(generation, {
      logger: pino({ level: 'info' }, sink),
      sendPassive: (message) => passive.push(message),
    });
    gateway = http.createServer(forwarder.handleRequest as http.RequestListener);
    gateway.on('upgrade', forwarder.handleUpgrade);
    gateway.on('clientError', onClientError);
    gateway.listen(0, '127.0.0.1');
    await once(gateway, 'listening');
    port = (gateway.address() as net.AddressInfo).port;
  });

  after(async () => {
    gateway.closeAllConnections();
    gateway.close();
    backendServer.closeAllConnections();
    backendServer.close();
    pool.closeIdle();
  });

  function lastAccess(): Record<string, unknown> {
    return accessLines[accessLines.length - 1] as Record<string, unknown>;
  }

  async function settle(): Promise<void> {
    // The access line is written on the response's 'close', just after the client saw the end.
    for (let i = 0; i < 50 && forwarder.inflight > 0; i++) await new Promise((r) => setTimeout(r, 10));
  }

  it('forwards an admitted request with the forwarding headers, and hides the backend software', async () => {
    seen.length = 0;
    const answer = await raw(
      port,
      'GET /api/x?q=1 HTTP/1.1\r\nHost: gw.test\r\nX-Request-ID: abc-1\r\nConnection: close\r\n\r\n',
    );
    assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(answer, /\r\nhello \/api\/x\?q=1\r\n/);
    assert.doesNotMatch(answer.toLowerCase(), /\r\nserver:/);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.headers['x-request-id'], 'abc-1');
    assert.equal(seen[0]?.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen[0]?.headers['x-forwarded-host'], 'gw.test');
    await settle();
    assert.equal(lastAccess().status, 200);
    assert.equal(lastAccess().route, 'api');
    assert.equal(forwarder.inflight, 0);
  });

  it('cuts the client off when the backend breaks off mid-body: a short body never stays open as if more were coming', async () => {
    const outcome = await new Promise<{ data: string; closedBy: 'gateway' | 'test' }>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () =>
        socket.write('GET /api/cut HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n\r\n'),
      );
      let data = '';
      let gaveUp = false;
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => {
        data += d;
      });
      socket.on('error', () => {});
      socket.on('close', () => resolve({ data, closedBy: gaveUp ? 'test' : 'gateway' }));
      setTimeout(() => {
        gaveUp = true;
        socket.destroy();
      }, 5000).unref();
    });
    assert.match(outcome.data, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\n0123456789$/);
    assert.equal(outcome.closedBy, 'gateway');
    await settle();
    assert.equal(lastAccess().error, 'GH_UPSTREAM_RESET');
    assert.equal(forwarder.inflight, 0);
  });

  it('answers a request no route takes with the one error writer: 404, JSON, the standard reason phrase', async () => {
    const answer = await raw(port, 'GET /nowhere HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 404 Not Found\r\n/);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
    assert.equal(body.error.code, 'GH_NO_ROUTE');
    assert.equal(body.error.route, null);
    await settle();
    assert.equal(lastAccess().status, 404);
    assert.equal(lastAccess().error, 'GH_NO_ROUTE');
  });

  it('refuses a framing the guard rejects before routing, and closes the connection', async () => {
    seen.length = 0;
    const answer = await raw(port, 'GET /api/x HTTP/1.1\r\nHost: gw.test\r\nTransfer-Encoding: gzip\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(answer.toLowerCase(), /\r\nconnection: close\r\n/);
    assert.match(answer, /GH_REQUEST_TRANSFER_ENCODING/);
    assert.equal(seen.length, 0);
  });

  it('refuses a declared body over the route limit before anything reaches the backend', async () => {
    seen.length = 0;
    const answer = await raw(port, 'POST /api/x HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 9\r\n\r\n123456789');
    assert.match(answer, /^HTTP\/1\.1 413 Payload Too Large\r\n|^HTTP\/1\.1 413 Content Too Large\r\n/);
    assert.match(answer.toLowerCase(), /\r\nconnection: close\r\n/);
    assert.match(answer, /GH_REQUEST_BODY_TOO_LARGE/);
    assert.equal(seen.length, 0);
  });

  it('cuts a streamed body that goes over the limit: 413 to the client, the backend never gets it whole', async () => {
    seen.length = 0;
    const answer = await raw(
      port,
      'POST /api/x HTTP/1.1\r\nHost: gw.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n12345\r\n5\r\n67890\r\n0\r\n\r\n',
    );
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.match(answer, /GH_REQUEST_BODY_TOO_LARGE/);
    assert.ok(
      seen.every((s) => !(s.complete && s.body === '1234567890')),
      JSON.stringify(seen),
    );
    await settle();
    assert.equal(lastAccess().status, 413);
  });

  it('retries an idempotent request on the next backend when the first refuses the connection', async () => {
    seen.length = 0;
    passive.length = 0;
    const answer = await raw(port, 'GET /retry/a HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
    await settle();
    assert.equal(lastAccess().retries, 1);
    forwarder.passive.flush();
    const events = passive.flatMap((m) => m.events);
    assert.ok(
      events.some((e) => !e.ok && e.reason === 'connect'),
      JSON.stringify(events),
    );
  });

  it('answers 502 with the upstream code when no retry is allowed', async () => {
    const answer = await raw(
      port,
      'GET /down HTTP/1.1\r\nHost: gw.test\r\nAccept: text/plain\r\nConnection: close\r\n\r\n',
    );
    assert.match(answer, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
    assert.match(answer, /502 Bad Gateway: could not connect to the backend \(route down, request id /);
    await settle();
    assert.equal(lastAccess().error, 'GH_UPSTREAM_CONNECT');
  });

  it('takes a WebSocket upgrade through the same admission and forwards it with the same headers', async () => {
    seen.length = 0;
    const answer = await raw(
      port,
      'GET /ws/chat HTTP/1.1\r\nHost: gw.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nX-Request-ID: ws-1\r\n\r\n',
    );
    assert.match(answer, /^HTTP\/1\.1 101 /);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.headers.upgrade, 'websocket');
    assert.equal(seen[0]?.headers['x-request-id'], 'ws-1');
    assert.equal(seen[0]?.headers['x-forwarded-for'], '127.0.0.1');
  });

  it('refuses an upgrade no route takes with a whole HTTP answer whose reason phrase is not the error code', async () => {
    const answer = await raw(
      port,
      'GET /nowhere HTTP/1.1\r\nHost: gw.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
    );
    assert.match(answer, /^HTTP\/1\.1 404 Not Found\r\n/);
    assert.match(answer.toLowerCase(), /\r\nconnection: close\r\n/);
    assert.equal(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).error.code, 'GH_NO_ROUTE');
    await settle();
    assert.equal(lastAccess().status, 404);
  });

  it('refuses an upgrade the guard rejects, through the same guard as plain requests', async () => {
    const answer = await raw(
      port,
      'GET /ws HTTP/1.1\r\nHost: gw.test\r\nHost: other.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
    );
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(answer, /GH_REQUEST_HOST_MULTIPLE/);
  });
});
