import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { LimitsConfig, TimeoutsConfig } from '@gatehouse/config';
import { createProxyServer } from 'http-proxy-3';
import { applyEdgeLimits, createSecureServer, h2Stats, stripH2ResponseHeaders } from '../../src/edge/http2.ts';
import { rejectRequest } from '../../src/edge/framing-guard.ts';
import { installSniStore } from '../../src/tls/active-sni.ts';
import { RawH2 } from '../h2-raw.ts';
import { makeTlsFixture, resolved, storeOf, type TlsFixture } from '../tls-fixture.ts';
import { h2Reply } from '../../../../test/support/h2-client.ts';

const limits: LimitsConfig = {
  maxHeaderBytes: 16384,
  maxHeaderCount: 50,
  maxUrlLength: 2048,
  maxBodyBytes: 0,
  maxConnectionsPerWorker: 1000,
  maxConcurrentStreams: 20,
  h2MaxResetsPerWindow: 30,
  h2ResetWindowMs: 10_000,
};
const timeouts: TimeoutsConfig = {
  requestHeaderMs: 2000,
  requestMs: 10_000,
  keepAliveMs: 5000,
  upstreamConnectMs: 1000,
  upstreamResponseMs: 5000,
  upstreamIdleMs: 2000,
  drainMs: 1000,
};

/** One route behind one listed certificate; the stores below serve the fixture's certificates. */
const ONE_ROUTE =
  'version: 2\ngateway:\n  tls:\n    certificates: [{cert: /c, key: /k}]\nroutes:\n  - {name: a, path: /, target: "http://127.0.0.1:1"}\n';
const NO_CLIENT_CA = { clientCA: false, crl: false };
let fx: TlsFixture;
let backend: http.Server;
let backendPort = 0;
const seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }> = [];
let gateway: http2.Http2SecureServer;
let port = 0;

before(async () => {
  fx = await makeTlsFixture();
  backend = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => {
      body += d;
    });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      // Headers an HTTP/1.1 backend may send and an h2 response cannot carry.
      res.writeHead(200, {
        'content-type': 'text/plain',
        'keep-alive': 'timeout=5',
        te: 'trailers',
        'http2-settings': 'x',
      });
      res.end(`backend saw ${req.method} ${req.url}`);
    });
  });
  backend.listen(0, '127.0.0.1');
  await once(backend, 'listening');
  backendPort = (backend.address() as AddressInfo).port;

  const store = storeOf(ONE_ROUTE, fx, [resolved(fx.servers.ec, true), resolved(fx.servers.rsa)], NO_CLIENT_CA);
  installSniStore(null, store);
  const agent = new http.Agent({ keepAlive: true });
  const proxy = createProxyServer({ xfwd: false });
  proxy.on('proxyRes', (proxyRes) => stripH2ResponseHeaders(proxyRes.headers));
  proxy.on('error', (_err, _req, res) => {
    const r = res as http.ServerResponse;
    if (!r.headersSent) r.writeHead(502);
    r.end();
  });
  gateway = createSecureServer(
    store.serverOptions() as http2.SecureServerOptions,
    (req, res) => {
      const refused = rejectRequest(req, limits);
      if (refused !== null) {
        res.writeHead(refused.status, { 'content-type': 'text/plain' });
        res.end(refused.code);
        return;
      }
      if (req.url === '/slow') return; // never answered: used by the reset flood
      if (req.url === '/ended') {
        res.end(String(req.readableEnded));
        return;
      }
      proxy.web(req as unknown as http.IncomingMessage, res as unknown as http.ServerResponse, {
        target: `http://127.0.0.1:${backendPort}`,
        agent,
      });
    },
    { limits, timeouts },
  );
  installSniStore(gateway, store);
  gateway.listen(0, '127.0.0.1');
  await once(gateway, 'listening');
  port = (gateway.address() as AddressInfo).port;
});

after(() => {
  gateway?.close();
  backend?.closeAllConnections();
  backend?.close();
});

describe('h2 and HTTP/1.1 on one port', () => {
  it('serves an h2 client and forwards to an HTTP/1.1 backend without pseudo-headers', async () => {
    seen.length = 0;
    const client = http2.connect(`https://ec.test:${port}`, {
      ca: fx.root.certPem,
      host: '127.0.0.1',
      servername: 'ec.test',
    } as http2.SecureClientSessionOptions);
    client.on('error', () => {});
    const req = client.request({
      ':method': 'POST',
      ':path': '/h2?x=1',
      'x-a': 'tab\tok',
      'content-type': 'text/plain',
    });
    req.end('hello');
    const { headers, body } = await h2Reply(req);
    client.close();
    assert.equal(headers[':status'], 200);
    assert.equal(body, 'backend saw POST /h2?x=1');
    assert.equal(headers['keep-alive'], undefined);
    assert.equal(headers['http2-settings'], undefined);
    assert.equal(seen.length, 1);
    const got = seen[0]!;
    assert.equal(got.body, 'hello');
    assert.equal(got.headers.host, `ec.test:${port}`);
    assert.equal(got.headers['x-a'], 'tab\tok');
    for (const name of Object.keys(got.headers)) assert.equal(name.startsWith(':'), false, name);
  });

  it('serves HTTP/1.1 on the same port, and answers a parser error with 400 and close', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      https
        .get(
          {
            host: '127.0.0.1',
            port,
            servername: 'ec.test',
            path: '/one',
            ca: fx.root.certPem,
            headers: { host: 'ec.test' },
            agent: false,
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        )
        .on('error', reject);
    });
    assert.equal(status, 200);
    const tls = await import('node:tls');
    const socket = tls.connect({
      port,
      host: '127.0.0.1',
      servername: 'ec.test',
      ca: fx.root.certPem,
      ALPNProtocols: ['http/1.1'],
    });
    await once(socket, 'secureConnect');
    socket.write('GET / HTTP/1.1\r\nHost: ec.test\r\nX-A : b\r\n\r\n');
    let answer = '';
    socket.setEncoding('latin1').on('data', (d: string) => {
      answer += d;
    });
    await once(socket, 'close');
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(answer, /\r\nConnection: close\r\n/);
  });
});

describe('h2 requests an HTTP/1.1 hop must not see', () => {
  const base = (path = '/ok', authority = 'ec.test', scheme = 'https'): Array<[string, string]> => [
    [':method', 'GET'],
    [':scheme', scheme],
    [':authority', authority],
    [':path', path],
  ];
  const cases: Record<string, [Array<[string, string]>, 'reset' | 400]> = {
    'uppercase name': [[...base(), ['X-Upper', '1']], 'reset'],
    'connection header': [[...base(), ['connection', 'keep-alive']], 'reset'],
    'transfer-encoding': [[...base(), ['transfer-encoding', 'chunked']], 'reset'],
    'TE gzip': [[...base(), ['te', 'gzip']], 'reset'],
    'relative :path': [base('x'), 'reset'],
    'absolute :path': [base('http://evil.test/x'), 'reset'],
    'fragment in :path': [base('/a#b'), 400],
    ':scheme javascript': [base('/', 'ec.test', 'javascript'), 400],
    'Host disagrees with :authority': [[...base(), ['host', 'other.test']], 400],
  };
  let id = 1;
  for (const [name, [headers, expected]] of Object.entries(cases)) {
    it(`${name} → ${expected === 'reset' ? 'stream error' : expected}, backend sees nothing`, async () => {
      seen.length = 0;
      const c = await RawH2.connect(port, 'ec.test', fx.root.certPem);
      c.request(id, headers);
      const out = await c.outcome(id);
      c.close();
      if (expected === 'reset') assert.equal(out.kind, 'reset', JSON.stringify(out));
      else assert.deepEqual(out, { kind: 'response', detail: expected });
      assert.equal(seen.length, 0);
      id += 2;
    });
  }

  it('fields with CR, LF, NUL or controls never reach the backend', async () => {
    seen.length = 0;
    const c = await RawH2.connect(port, 'ec.test', fx.root.certPem);
    c.request(1, [...base('/clean'), ['x-crlf', 'a\r\nx-injected: 1'], ['x-nul', 'a\0b'], ['x-ctl', 'a\x01b']]);
    const out = await c.outcome(1);
    c.close();
    // nghttp2 drops such fields (or the stream): either way no such byte is forwarded.
    if (out.kind === 'response') {
      assert.equal(seen.length, 1);
      const h = seen[0]!.headers;
      assert.equal(h['x-crlf'], undefined);
      assert.equal(h['x-injected'], undefined);
      assert.equal(h['x-nul'], undefined);
      assert.equal(h['x-ctl'], undefined);
    } else {
      assert.equal(seen.length, 0);
    }
  });

  it('closes a session that resets streams in a flood, and keeps serving others', async () => {
    const before = h2Stats.sessionsClosedForResets;
    const c = await RawH2.connect(port, 'ec.test', fx.root.certPem);
    for (let i = 0, stream = 1; i < 200 && !c.closed; i++, stream += 2) {
      c.request(stream, base('/slow'), true);
      c.reset(stream);
    }
    const deadline = Date.now() + 5000;
    while (!c.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const goaway = c.frames.find((f) => f.type === 7);
    c.close();
    assert.equal(c.closed, true, 'the flooding session is ended');
    // A burst in one read is stopped by nghttp2's reset-rate backstop (INTERNAL_ERROR) before the
    // counted window sees the closes; either way the session is gone.
    assert.ok(
      goaway !== undefined,
      `GOAWAY sent; frames: ${JSON.stringify(c.frames.map((f) => [f.type, f.streamId, f.type === 3 ? f.payload.readUInt32BE(0) : 0]).slice(-6))} closed=${c.closed} sessions=${h2Stats.sessionsClosedForResets - before}`,
    );
    void before;
    // another client is unaffected
    const ok = await RawH2.connect(port, 'ec.test', fx.root.certPem);
    ok.request(1, base('/after-flood'));
    assert.deepEqual(await ok.outcome(1), { kind: 'response', detail: 200 });
    ok.close();
  });

  it('counts resets per window: a steady trickle over the limit also ends the session (ENHANCE_YOUR_CALM)', async () => {
    const before = h2Stats.sessionsClosedForResets;
    const c = await RawH2.connect(port, 'ec.test', fx.root.certPem);
    for (let i = 0, stream = 1; i < limits.h2MaxResetsPerWindow + 10 && !c.closed; i++, stream += 2) {
      c.request(stream, base('/slow'), true);
      await new Promise((r) => setTimeout(r, 5));
      c.reset(stream);
      await new Promise((r) => setTimeout(r, 5));
    }
    const deadline = Date.now() + 5000;
    while (!c.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const goaway = c.frames.find((f) => f.type === 7);
    c.close();
    assert.equal(goaway?.payload.readUInt32BE(4), http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    assert.equal(h2Stats.sessionsClosedForResets, before + 1);
  });
});

describe('HTTP/1 switches on the h2 server', () => {
  it('header timeout and checking interval passed as options hold on the HTTPS port', async () => {
    const store = storeOf(ONE_ROUTE, fx, [resolved(fx.servers.ec, true)], NO_CLIENT_CA);
    const server = createSecureServer(
      {
        ...(store.serverOptions() as http2.SecureServerOptions),
        headersTimeout: 300,
        requestTimeout: 600,
        connectionsCheckingInterval: 100,
      } as http2.SecureServerOptions,
      (_req, res) => res.end('ok'),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const tls = await import('node:tls');
    try {
      const socket = tls.connect({
        port: (server.address() as AddressInfo).port,
        host: '127.0.0.1',
        servername: 'ec.test',
        ca: fx.root.certPem,
        ALPNProtocols: ['http/1.1'],
      });
      await once(socket, 'secureConnect');
      const started = Date.now();
      socket.write('GET / HTTP/1.1\r\nHost: ec.test\r\n'); // never finished
      let answer = '';
      socket.setEncoding('latin1').on('data', (d: string) => {
        answer += d;
      });
      await Promise.race([once(socket, 'close'), new Promise((r) => setTimeout(r, 5000))]);
      socket.destroy();
      assert.match(answer, /^HTTP\/1\.1 408 /);
      assert.ok(Date.now() - started < 5000);
    } finally {
      server.close();
    }
  });
});

describe('limits applied after the server was created (applyEdgeLimits)', () => {
  it('sends the configured stream limit and counts resets against the configured window', async () => {
    const store = storeOf(ONE_ROUTE, fx, [resolved(fx.servers.ec, true)], NO_CLIENT_CA);
    installSniStore(null, store);
    const server = createSecureServer(store.serverOptions() as http2.SecureServerOptions, (req, res) => {
      if (req.url !== '/slow') res.end('ok');
    });
    applyEdgeLimits(server, { limits: { ...limits, maxConcurrentStreams: 7, h2MaxResetsPerWindow: 5 }, timeouts });
    const s = server as unknown as { maxConnections: number; maxHeadersCount: number; headersTimeout: number };
    assert.equal(s.maxConnections, limits.maxConnectionsPerWorker);
    assert.equal(s.maxHeadersCount, limits.maxHeaderCount + 1);
    assert.equal(s.headersTimeout, timeouts.requestHeaderMs);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port2 = (server.address() as AddressInfo).port;
    try {
      const client = http2.connect(`https://ec.test:${port2}`, {
        ca: fx.root.certPem,
        host: '127.0.0.1',
        servername: 'ec.test',
      } as http2.SecureClientSessionOptions);
      client.on('error', () => {});
      const deadline = Date.now() + 3000;
      while (client.remoteSettings?.maxConcurrentStreams !== 7 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      assert.equal(client.remoteSettings.maxConcurrentStreams, 7);
      client.close();

      const before = h2Stats.sessionsClosedForResets;
      const c = await RawH2.connect(port2, 'ec.test', fx.root.certPem);
      const base: Array<[string, string]> = [
        [':method', 'GET'],
        [':scheme', 'https'],
        [':authority', 'ec.test'],
        [':path', '/slow'],
      ];
      for (let i = 0, id = 1; i < 10 && !c.closed; i++, id += 2) {
        c.request(id, base);
        await new Promise((r) => setTimeout(r, 5));
        c.reset(id);
        await new Promise((r) => setTimeout(r, 5));
      }
      const until = Date.now() + 3000;
      while (!c.closed && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      c.close();
      assert.equal(h2Stats.sessionsClosedForResets, before + 1);
    } finally {
      server.close();
    }
  });

  it('an HTTP/1.1 request without a body reaches the handler with its body stream already ended', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port, path: '/ended', servername: 'ec.test', ca: fx.root.certPem }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => {
            text += d;
          });
          res.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
    assert.equal(body, 'true');
  });
});
