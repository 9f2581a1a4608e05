// The data plane through the real CLI (`gatehouse run`, 2 workers) in front of real loopback
// backends: weighted balancing, routing answers (404/405), error mapping (502/504), header
// handling, 60 MB bodies both ways, a WebSocket echo, 1,000 aborted requests without a leaked
// upstream socket, and the access-log line. One gateway serves every assertion.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { freePort, type GatewayProcess, startGateway, tempDir, writeFile } from '../support/gateway.ts';

const STREAM_CHUNK = randomBytes(64 * 1024);
const STREAM_CHUNKS = 960; // 60 MiB
const STREAM_BYTES = STREAM_CHUNK.length * STREAM_CHUNKS;
const STREAM_SHA256 = (() => {
  const h = createHash('sha256');
  for (let i = 0; i < STREAM_CHUNKS; i++) h.update(STREAM_CHUNK);
  return h.digest('hex');
})();
const GZIPPED = gzipSync(Buffer.from('compressed body that must arrive still compressed'));
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC11B5A';

interface Counted {
  server: Server | TcpServer;
  port: number;
  open: number;
  requests: number;
}

async function listen(server: Server | TcpServer): Promise<Counted> {
  const counted: Counted = { server, port: 0, open: 0, requests: 0 };
  server.on('connection', (socket: Socket) => {
    counted.open++;
    socket.on('close', () => counted.open--);
  });
  server.on('request', () => counted.requests++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  counted.port = typeof address === 'object' && address ? address.port : 0;
  return counted;
}

function named(name: string): Server {
  return createServer((_req, res) => res.end(name));
}

function echo(): Server {
  return createServer((req, res) => {
    if (req.url?.endsWith('/special')) {
      res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; HttpOnly', 'c=3']);
      res.setHeader('content-encoding', 'gzip');
      res.setHeader('trailer', 'x-checksum');
      res.write(GZIPPED);
      res.addTrailers({ 'x-checksum': 'abc123' });
      res.end();
      return;
    }
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
    });
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, size }));
    });
  });
}

function streamer(): Server {
  return createServer((req, res) => {
    if (req.method === 'GET') {
      let sent = 0;
      const pump = () => {
        while (sent < STREAM_CHUNKS) {
          sent++;
          if (!res.write(STREAM_CHUNK)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
      return;
    }
    const hash = createHash('sha256');
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      size += chunk.length;
    });
    req.on('end', () => res.end(JSON.stringify({ size, sha256: hash.digest('hex') })));
  });
}

/** A WebSocket server in its rawest form: the RFC 6455 handshake, then every byte echoed back. */
function wsEcho(): Server {
  const server = createServer((_req, res) => {
    res.statusCode = 426;
    res.end();
  });
  server.on('upgrade', (req, socket: Socket) => {
    const key = req.headers['sec-websocket-key'] ?? '';
    const accept = createHash('sha1')
      .update(key + WS_GUID)
      .digest('base64');
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    socket.on('data', (data) => socket.write(data));
    socket.on('error', () => {});
  });
  return server;
}

/** Accepts, reads the request, and answers with a TCP reset. */
function resetter(): TcpServer {
  return createTcpServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => socket.resetAndDestroy());
  });
}

/**
 * Answers the first request of each connection with keep-alive, then resets the connection when
 * a second request arrives on it: what a backend that dropped an idle pooled connection looks like.
 */
function resetOnReuse(): TcpServer {
  return createTcpServer((socket) => {
    socket.on('error', () => {});
    let answered = false;
    socket.on('data', () => {
      if (answered) return void socket.resetAndDestroy();
      answered = true;
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nfirst');
    });
  });
}

/** Accepts requests and never answers them. */
function hanging(): Server {
  return createServer(() => {});
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  trailers: NodeJS.Dict<string>;
}

function send(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer; agent?: Agent | false } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: options.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
            trailers: res.trailers,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

function json(reply: Reply): Record<string, unknown> & { headers: IncomingHttpHeaders } {
  return JSON.parse(reply.body.toString('utf8'));
}

let gateway: GatewayProcess;
let port: number;
const backends: Record<string, Counted> = {};

before(async () => {
  backends.a = await listen(named('a'));
  backends.b = await listen(named('b'));
  backends.echo = await listen(echo());
  backends.stream = await listen(streamer());
  backends.ws = await listen(wsEcho());
  backends.reset = await listen(resetter());
  backends.hang = await listen(hanging());
  backends.sink = await listen(hanging());
  backends.flakyGet = await listen(resetOnReuse());
  backends.flakyPost = await listen(resetOnReuse());
  backends.steady = await listen(named('steady'));
  const refusedPort = await freePort();
  port = await freePort();
  const dir = tempDir('gatehouse-dataplane-');
  const route = (name: string, path: string, endpoint: string, extra = '') =>
    `  - name: ${name}\n    path: ${path}\n    backends:\n      - endpoint: ${endpoint}\n${extra}`;
  const config = `version: 2
gateway:
  entryPoints:
    web:
      address: 127.0.0.1:${port}
    webSecure:
      enabled: false
  admin:
    address: false
  watch:
    enabled: false
  timeouts:
    upstreamConnect: 1s
    upstreamResponse: 1s
    drain: 2s
  proxy:
    trustedProxies: [127.0.0.1/32]
  log:
    level: info
    format: json
    accessLog: true
routes:
  - name: weighted
    path: /weighted
    backends:
      - endpoint: http://127.0.0.1:${backends.a.port}
        weight: 80
      - endpoint: http://127.0.0.1:${backends.b.port}
        weight: 20
${route('echo', '/echo', `http://127.0.0.1:${backends.echo.port}`, '    methods: [GET, POST]\n    rewrite: /echoed\n')}
${route('backend-host', '/backend-host', `http://127.0.0.1:${backends.echo.port}`, '    security:\n      forwardHostHeaders: false\n')}
${route('stream', '/stream', `http://127.0.0.1:${backends.stream.port}`, '    maxBodySize: 128MiB\n')}
${route('ws', '/ws', `http://127.0.0.1:${backends.ws.port}`)}
${route('reset', '/reset', `http://127.0.0.1:${backends.reset.port}`)}
${route('refused', '/refused', `http://127.0.0.1:${refusedPort}`)}
${route('hang', '/hang', `http://127.0.0.1:${backends.hang.port}`)}
${route('sink', '/sink', `http://127.0.0.1:${backends.sink.port}`)}
  - name: retry-get
    path: /retry-get
    backends:
      - http://127.0.0.1:${backends.flakyGet.port}
      - http://127.0.0.1:${backends.steady.port}
  - name: retry-post
    path: /retry-post
    backends:
      - http://127.0.0.1:${backends.flakyPost.port}
      - http://127.0.0.1:${backends.steady.port}
`;
  gateway = await startGateway(writeFile(dir, 'gatehouse.yaml', config), { workers: 2 });
});

after(async () => {
  await gateway?.stop('SIGTERM');
  for (const b of Object.values(backends)) {
    (b.server as Server).closeAllConnections?.();
    b.server.close();
  }
});

test('weights 80/20 give 800 ± 2 % and 200 ± 2 % over 1,000 requests', async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const counts: Record<string, number> = { a: 0, b: 0 };
  let next = 0;
  const worker = async () => {
    while (next < 1000) {
      next++;
      const reply = await send(port, '/weighted', { agent });
      assert.equal(reply.status, 200);
      const name = reply.body.toString();
      counts[name] = (counts[name] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  agent.destroy();
  assert.equal(counts.a! + counts.b!, 1000);
  assert.ok(Math.abs(counts.a! - 800) <= 16, `a answered ${counts.a}`);
  assert.ok(Math.abs(counts.b! - 200) <= 4, `b answered ${counts.b}`);
});

test('no route is 404, a method the route does not allow is 405 with Allow', async () => {
  const missing = await send(port, '/nowhere', { headers: { accept: 'application/json' } });
  assert.equal(missing.status, 404);
  const body = json(missing) as unknown as { error: { code: string; status: number; route: null; requestId: string } };
  assert.equal(body.error.code, 'GH_NO_ROUTE');
  assert.equal(body.error.status, 404);
  assert.equal(body.error.requestId, missing.headers['x-request-id']);
  const wrong = await send(port, '/echo', { method: 'PUT', headers: { accept: 'text/plain' } });
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.allow, 'GET, HEAD, POST');
  assert.match(wrong.body.toString(), /^405 Method Not Allowed: /);
});

test('a refused or reset backend is 502, a silent one is 504, and no body names an address', async () => {
  const refused = await send(port, '/refused');
  assert.equal(refused.status, 502);
  assert.equal((json(refused) as unknown as { error: { code: string } }).error.code, 'GH_UPSTREAM_CONNECT');
  const reset = await send(port, '/reset');
  assert.equal(reset.status, 502);
  assert.equal((json(reset) as unknown as { error: { code: string; route: string } }).error.code, 'GH_UPSTREAM_RESET');
  const started = Date.now();
  const silent = await send(port, '/hang');
  assert.equal(silent.status, 504);
  assert.equal((json(silent) as unknown as { error: { code: string } }).error.code, 'GH_UPSTREAM_TIMEOUT');
  assert.ok(Date.now() - started >= 900, 'answered only after upstreamResponse');
  for (const reply of [refused, reset, silent]) {
    assert.doesNotMatch(reply.body.toString(), /127\.0\.0\.1|ECONN|at /);
    assert.equal(reply.headers.server, undefined);
    assert.equal(reply.headers['x-powered-by'], undefined);
  }
});

test('forwarding headers: X-Forwarded-* appended/set, hop-by-hop removed, Host kept or replaced, request id', async () => {
  const reply = await send(port, '/echo/headers?q=1', {
    headers: {
      host: 'shop.example.test',
      'x-forwarded-for': '203.0.113.7',
      'x-request-id': 'e2e-request-1',
      connection: 'keep-alive, x-hop',
      'x-hop': 'secret',
      'keep-alive': 'timeout=5',
      te: 'trailers',
      'proxy-authorization': 'Basic Zm9vOmJhcg==',
    },
  });
  assert.equal(reply.status, 200);
  const seen = json(reply);
  assert.equal(seen.url, '/echoed/headers?q=1', 'rewrite replaced the prefix and kept the query');
  const h = seen.headers;
  assert.equal(h['x-forwarded-for'], '203.0.113.7, 127.0.0.1');
  assert.equal(h['x-real-ip'], '203.0.113.7');
  assert.equal(h['x-forwarded-proto'], 'http');
  assert.equal(h['x-forwarded-host'], 'shop.example.test');
  assert.equal(h.host, 'shop.example.test');
  assert.equal(h['x-request-id'], 'e2e-request-1');
  for (const hop of ['x-hop', 'keep-alive', 'te', 'proxy-authorization']) assert.equal(h[hop], undefined, hop);

  const generated = json(await send(port, '/echo/x'));
  assert.match(
    String(generated.headers['x-request-id']),
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  );

  const backendHost = json(await send(port, '/backend-host/x', { headers: { host: 'shop.example.test' } }));
  assert.equal(backendHost.headers.host, `127.0.0.1:${backends.echo!.port}`);
  assert.equal(backendHost.headers['x-forwarded-host'], 'shop.example.test');
});

test('Expect: 100-continue is answered by the gateway and the body reaches the backend', async () => {
  const body = randomBytes(4096);
  const reply = await new Promise<Reply>((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/echo/upload',
        method: 'POST',
        agent: false,
        headers: { expect: '100-continue', 'content-length': String(body.length) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), trailers: {} }),
        );
      },
    );
    req.on('error', reject);
    req.on('continue', () => req.end(body));
  });
  assert.equal(reply.status, 200);
  const seen = json(reply);
  assert.equal(seen.size, body.length);
  assert.equal(seen.headers.expect, undefined);
});

test('Set-Cookie lines, Content-Encoding and trailers pass through unchanged', async () => {
  const reply = await send(port, '/echo/special');
  assert.equal(reply.status, 200);
  assert.deepEqual(reply.headers['set-cookie'], ['a=1; Path=/', 'b=2; HttpOnly', 'c=3']);
  assert.equal(reply.headers['content-encoding'], 'gzip');
  assert.deepEqual(reply.body, GZIPPED);
  assert.equal(reply.trailers['x-checksum'], 'abc123');
});

test('60 MiB bodies stream both ways intact', async () => {
  const down = await new Promise<{ size: number; sha256: string }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/stream/down', agent: false }, (res) => {
      const hash = createHash('sha256');
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        size += chunk.length;
      });
      res.on('end', () => resolve({ size, sha256: hash.digest('hex') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(down.size, STREAM_BYTES);
  assert.equal(down.sha256, STREAM_SHA256);

  const up = await new Promise<Reply>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/stream/up', method: 'POST', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), trailers: {} }),
      );
    });
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < STREAM_CHUNKS) {
        sent++;
        if (!req.write(STREAM_CHUNK)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
  assert.equal(up.status, 200);
  assert.deepEqual(JSON.parse(up.body.toString()), { size: STREAM_BYTES, sha256: STREAM_SHA256 });
});

test('a WebSocket upgrade is proxied and echoes', async () => {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const key = randomBytes(16).toString('base64');
  socket.write(
    `GET /ws/chat HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  let received = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => {
    received = Buffer.concat([received, d]);
  });
  const deadline = Date.now() + 5_000;
  while (!received.includes('\r\n\r\n') && Date.now() < deadline) await sleep(10);
  const head = received.toString('latin1');
  assert.match(head, /^HTTP\/1\.1 101 /);
  const expectedAccept = createHash('sha1')
    .update(key + WS_GUID)
    .digest('base64');
  assert.match(head, new RegExp(`sec-websocket-accept: ${expectedAccept.replace(/[+/=]/g, '\\$&')}`, 'i'));
  const headerEnd = received.indexOf('\r\n\r\n') + 4;
  received = received.subarray(headerEnd);
  // A masked text frame "hello" (FIN, opcode 1, mask bit, length 5).
  const mask = randomBytes(4);
  const payload = Buffer.from('hello');
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  const frame = Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
  socket.write(frame);
  while (received.length < frame.length && Date.now() < deadline) await sleep(10);
  assert.deepEqual(received.subarray(0, frame.length), frame);
  socket.destroy();
});

test('1,000 aborted requests leave no upstream socket open', async () => {
  const sink = backends.sink!;
  // Each client goes away only once its request has reached the backend, so every one of the
  // 1,000 holds an upstream socket that the gateway must free.
  const arrived = new Set<string>();
  const record = (req: { url?: string }) => arrived.add(req.url ?? '');
  sink.server.on('request', record);
  let next = 0;
  let reached = 0;
  const abortOne = (n: number) =>
    new Promise<void>((resolve) => {
      const path = `/sink/${n}`;
      const req = httpRequest({ host: '127.0.0.1', port, path, agent: false });
      req.on('error', () => {});
      req.on('close', () => resolve());
      req.end();
      const started = Date.now();
      const poll = () => {
        if (arrived.has(path)) {
          reached++;
          req.destroy();
        } else if (Date.now() - started > 5_000) req.destroy();
        else setTimeout(poll, 2);
      };
      poll();
    });
  const started = Date.now();
  const worker = async () => {
    while (next < 1000 && Date.now() - started < 90_000) await abortOne(next++);
  };
  await Promise.all(Array.from({ length: 25 }, worker));
  sink.server.off('request', record);
  assert.equal(next, 1000);
  assert.equal(reached, 1000, 'every request reached the backend before its client went away');
  const deadline = Date.now() + 10_000;
  while (sink.open > 0 && Date.now() < deadline) await sleep(50);
  assert.equal(sink.open, 0, 'upstream connections still open after every client went away');
});

test('a GET reset on a reused upstream connection is retried on another backend; a POST with a body is not', async () => {
  // One client connection, so one worker and one balancer: the backends alternate flaky, steady, flaky...
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const gets = [];
  for (let i = 0; i < 3; i++)
    gets.push(await send(port, '/retry-get/x', { agent, headers: { 'x-request-id': `retry-get-${i}` } }));
  assert.deepEqual(
    gets.map((r) => [r.status, r.body.toString()]),
    [
      [200, 'first'],
      [200, 'steady'],
      [200, 'steady'],
    ],
    'the third GET met the reset and was answered by the other backend',
  );
  const retried = await gateway.waitForLog((l) => l.reqId === 'retry-get-2', 10_000, 'access line of the retried GET');
  assert.equal(retried.retries, 1);
  assert.equal(retried.backend, `http://127.0.0.1:${backends.steady!.port}`);

  const body = Buffer.from('{"order":1}');
  const first = await send(port, '/retry-post/x', { agent });
  const second = await send(port, '/retry-post/x', { agent });
  const post = await send(port, '/retry-post/x', {
    agent,
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
  });
  agent.destroy();
  assert.deepEqual([first.body.toString(), second.body.toString()], ['first', 'steady']);
  assert.equal(post.status, 502, 'a POST whose body was sent is never retried');
  assert.equal((json(post) as unknown as { error: { code: string } }).error.code, 'GH_UPSTREAM_RESET');
});

test('one access-log line per request with the documented fields', async () => {
  const reply = await send(port, '/echo/logged?x=1', { headers: { 'x-request-id': 'e2e-access-log' } });
  assert.equal(reply.status, 200);
  const line = await gateway.waitForLog((l) => l.reqId === 'e2e-access-log', 10_000, 'access-log line');
  assert.equal(line.msg, 'request');
  assert.equal(line.route, 'echo');
  assert.equal(line.backend, `http://127.0.0.1:${backends.echo!.port}`);
  assert.equal(line.method, 'GET');
  assert.equal(line.path, '/echo/logged?x=1');
  assert.equal(line.status, 200);
  assert.equal(typeof line.time, 'number');
  assert.ok(typeof line.bytes === 'number' && line.bytes > reply.body.length);
  assert.ok(typeof line.durationMs === 'number' && line.durationMs >= 0);
  assert.ok(typeof line.upstreamResponseMs === 'number');
  assert.equal(line.retries, 0);
  assert.equal(gateway.lines.filter((l) => l.reqId === 'e2e-access-log').length, 1);
});
