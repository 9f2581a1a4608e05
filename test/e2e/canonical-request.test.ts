// One canonical request before routing and policy, and headers a client cannot forge, through the
// real `gatehouse run` (2 workers) and a recording backend. `/admin` requires a client certificate
// and `/` does not, on the same backend, so every other spelling of `/admin` is an attempt to
// reach the protected resource without one: curl --path-as-is sends them exactly as written, raw
// sockets send the header cases byte for byte, and Node's http2 client the HTTP/2 one.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CaHandle, createCa, issueCertificate, type LeafHandle } from '@gatehouse/pki';
import { freePort, type GatewayProcess, startGateway, tempDir } from '../support/gateway.ts';
import { h2Request } from '../support/h2-client.ts';
import { rawExchange } from '../support/raw-http.ts';

interface Seen {
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
}

/** Gateway and backend share this header limit: what Gatehouse adds must fit in it too. */
const MAX_HEADER_BYTES = 4096;

let root: CaHandle;
let client: LeafHandle;
let backend: http.Server;
let roomBackend: http.Server;
let roomBackendOverflows = 0;
const seen: Seen[] = [];
const upgrades: Seen[] = [];
let gateway: GatewayProcess;
let configPath = '';
let configText = '';
let webPort = 0;
let securePort = 0;

function record(list: Seen[], req: http.IncomingMessage): void {
  list.push({ url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders });
}

before(async () => {
  const dir = tempDir('gh-canonical-');
  root = await createCa(dir, { name: 'root' });
  const [server, good] = await Promise.all([
    issueCertificate(root, {
      name: 'server',
      cn: 'localhost',
      dns: ['localhost', 'api.test', 'site.test', 'nohost.test'],
      ips: ['127.0.0.1'],
      usage: 'server',
    }),
    issueCertificate(root, { name: 'client', cn: 'good-client', usage: 'client' }),
  ]);
  client = good;

  backend = http.createServer((req, res) => {
    record(seen, req);
    req.resume();
    if (req.url === '/ws-refused') {
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end('no websocket here\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`ok ${req.url}\n`);
  });
  // A WebSocket endpoint that records what it was asked and switches protocols.
  backend.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    if (req.url === '/ws-refused') {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 18\r\n\r\nno websocket here\n');
      record(seen, req);
      return;
    }
    record(upgrades, req);
    socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
  });
  backend.listen(0, '127.0.0.1');
  await once(backend, 'listening');
  const backendPort = (backend.address() as AddressInfo).port;

  roomBackend = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
    record(seen, req);
    req.resume();
    res.end('room ok\n');
  });
  roomBackend.on('clientError', (err: Error & { code?: string }, socket) => {
    if (err.code === 'HPE_HEADER_OVERFLOW') roomBackendOverflows++;
    socket.end('HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n');
  });
  roomBackend.listen(0, '127.0.0.1');
  await once(roomBackend, 'listening');
  const roomPort = (roomBackend.address() as AddressInfo).port;

  webPort = await freePort();
  securePort = await freePort();
  const target = `http://127.0.0.1:${backendPort}`;
  configPath = join(dir, 'gatehouse.yaml');
  configText = `version: 2
gateway:
  entryPoints:
    web: {address: "127.0.0.1:${webPort}"}
    webSecure: {address: "127.0.0.1:${securePort}"}
  admin: {address: "127.0.0.1:${await freePort()}"}
  tls:
    certificates:
      - {cert: ${server.fullchainPath}, key: ${server.keyPath}}
    clientAuth:
      clientCA: ${root.certPath}
      required: false
  limits:
    maxHeaderBytes: ${MAX_HEADER_BYTES}
routes:
  - name: admin
    path: /admin
    target: ${target}
    clientAuth: {mode: required}
  - name: api
    path: /
    hosts: [api.test]
    target: ${target}
    clientAuth: {mode: required}
  - name: nohost
    path: /
    hosts: [nohost.test]
    target: ${target}
    security: {forwardHostHeaders: false}
  - name: based
    path: /b
    target: ${target}/base/
  - name: room
    path: /room
    target: http://127.0.0.1:${roomPort}
  - name: site
    path: /
    target: ${target}
    clientAuth: {mode: off}
`;
  writeFileSync(configPath, configText);
  gateway = await startGateway(configPath, { workers: 2 });
});

after(async () => {
  await gateway?.stop();
  for (const server of [backend, roomBackend]) {
    server?.closeAllConnections();
    server?.close();
  }
});

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 15_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** curl --path-as-is against the plain listener (or HTTPS with `tls`); returns [status, body]. */
async function curl(
  path: string,
  opts: { host?: string; tls?: boolean; sni?: string; cert?: boolean; headers?: string[] } = {},
): Promise<[number, string]> {
  const args = ['-sS', '--path-as-is', '--max-time', '10', '-w', '\n%{http_code}'];
  let url = `http://127.0.0.1:${webPort}${path}`;
  if (opts.tls) {
    const name = opts.sni ?? 'site.test';
    args.push('--cacert', root.certPath, '--resolve', `${name}:${securePort}:127.0.0.1`);
    if (opts.cert) args.push('--cert', client.fullchainPath, '--key', client.keyPath);
    url = `https://${name}:${securePort}${path}`;
  }
  if (opts.host) args.push('-H', `Host: ${opts.host}`);
  for (const h of opts.headers ?? []) args.push('-H', h);
  args.push(url);
  const r = await run('curl', args);
  assert.equal(r.code, 0, r.stderr);
  const nl = r.stdout.lastIndexOf('\n');
  return [Number(r.stdout.slice(nl + 1)), r.stdout.slice(0, Math.max(0, nl))];
}

/** curl -i a WebSocket upgrade (with `headers`) to the plain listener; returns the answer as curl read it. */
async function curlUpgrade(path: string, headers: string[]): Promise<string> {
  const args = ['-sS', '-i', '--max-time', '10', '-H', 'Connection: Upgrade', '-H', 'Upgrade: websocket'];
  for (const h of headers) args.push('-H', h);
  args.push(`http://127.0.0.1:${webPort}${path}`);
  const r = await run('curl', args);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** Sends raw bytes to the plain listener, returns what came back until the gateway closed (bounded). */
async function raw(bytes: string, timeoutMs = 4000): Promise<string> {
  return (await rawExchange(webPort, bytes, timeoutMs)).answer;
}

/** One h2 request without a client certificate; returns the status. */
async function h2Status(servername: string, path: string, authority: string): Promise<number> {
  return (await h2Request(securePort, root.certPem, { servername, authority, path })).status;
}

/** The targets the backend received, in order. */
function seenUrls(): string[] {
  return seen.map((s) => s.url);
}

async function settle(): Promise<void> {
  // Anything forwarded would have reached the loopback backend by now.
  await sleep(150);
}

function statusOf(answer: string): number {
  const m = /^HTTP\/1\.1 (\d{3})/.exec(answer);
  return m ? Number(m[1]) : 0;
}

describe('paths: one canonical path is routed, checked and forwarded', () => {
  it('the plain /admin/x needs a certificate (the baseline the other spellings must match)', async () => {
    seen.length = 0;
    const [status] = await curl('/admin/x');
    assert.equal(status, 401);
    assert.equal(seen.length, 0);
  });

  const sameAsAdmin = [
    '/site/../admin/x',
    '/%61dmin/x',
    '/%61dmin/%78',
    '//admin/x',
    '/./admin/x',
    '/site/./../admin/x',
    '/site//..//admin/x',
    '/../admin/x',
    '/%61%64%6d%69%6e/x',
  ];
  for (const path of sameAsAdmin) {
    it(`${path} is /admin/x: 401 without a certificate, nothing forwarded`, async () => {
      seen.length = 0;
      const [status] = await curl(path);
      await settle();
      assert.equal(status, 401);
      assert.deepEqual(seenUrls(), []);
    });
  }

  const refused = [
    '/site/%2e%2e/admin/x',
    '/site/.%2e/admin/x',
    '/site/%2E%2E/admin/x',
    '/site/..%2fadmin/x',
    '/admin%2fx',
    '/site%5c..%5cadmin/x',
    '/site/..;/admin/x',
    '/admin%00/x',
    '/site/%zz',
  ];
  for (const path of refused) {
    it(`${path} has no safe spelling: 400, nothing forwarded`, async () => {
      seen.length = 0;
      const [status, body] = await curl(path);
      await settle();
      assert.equal(status, 400, body);
      assert.match(body, /GH_REQUEST_PATH_/);
      assert.equal(seen.length, 0);
    });
  }

  it('a raw backslash and a fragment are refused too (raw socket: curl would rewrite them)', async () => {
    seen.length = 0;
    const backslash = await raw('GET /site\\..\\admin/x HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n');
    const fragment = await raw('GET /admin#/x HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n');
    await settle();
    assert.equal(statusOf(backslash), 400, backslash);
    assert.equal(statusOf(fragment), 400, fragment);
    assert.equal(seen.length, 0);
  });

  it('with a certificate, /site/../admin/x reaches /admin and the backend gets the canonical path', async () => {
    seen.length = 0;
    const [status, body] = await curl('/site/../%61dmin//x/./y/..?q=/../%2F', { tls: true, cert: true });
    assert.equal(status, 200, body);
    assert.deepEqual(seenUrls(), ['/admin/x/?q=/../%2F']);
  });

  it('.. never escapes a backend base path: /b/../../etc/passwd is /etc/passwd on the / route', async () => {
    seen.length = 0;
    const [status] = await curl('/b/../../etc/passwd');
    assert.equal(status, 200);
    assert.deepEqual(seenUrls(), ['/etc/passwd']);
    seen.length = 0;
    await curl('/b/x/../y');
    assert.deepEqual(seenUrls(), ['/base/b/y']);
  });

  it('prefixes are case-sensitive: /ADMIN/x is not /admin/x (documented)', async () => {
    seen.length = 0;
    const [status] = await curl('/ADMIN/x');
    assert.equal(status, 200);
    assert.deepEqual(seenUrls(), ['/ADMIN/x']);
  });
});

describe('hosts: one canonical host for router, policy, 421 and X-Forwarded-Host', () => {
  it('Host: api.test. (trailing dot) is api.test: 401 without a certificate, not the catch-all', async () => {
    seen.length = 0;
    const [status] = await curl('/x', { host: 'api.test.' });
    await settle();
    assert.equal(status, 401);
    assert.equal(seen.length, 0);
  });

  it('Host: API.Test. over TLS with a certificate is routed to api.test and forwarded as api.test', async () => {
    seen.length = 0;
    const [status, body] = await curl('/x', {
      host: `API.Test.:${securePort}`,
      sni: 'api.test',
      tls: true,
      cert: true,
    });
    assert.equal(status, 200, body);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.headers['x-forwarded-host'], `api.test:${securePort}`);
    assert.equal(seen[0]?.headers.host, `api.test:${securePort}`);
  });

  it('a Host with an empty label or an escape is refused, not sent to the catch-all', async () => {
    seen.length = 0;
    for (const host of ['api.test..', 'api..test', 'api%2etest']) {
      const answer = await raw(`GET /x HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      assert.equal(statusOf(answer), 400, `${host}: ${answer}`);
    }
    await settle();
    assert.equal(seen.length, 0);
  });
});

describe('headers a client cannot forge', () => {
  it('header names with "_" are dropped (X_Forwarded_For, X_Forwarded_Client_Cert, any other)', async () => {
    seen.length = 0;
    const answer = await raw(
      'GET /u HTTP/1.1\r\nHost: site.test\r\nX_Forwarded_For: 6.6.6.6\r\nX_Forwarded_Client_Cert: Hash=forged\r\n' +
        'X_Real_IP: 6.6.6.6\r\nMy_Header: v\r\nConnection: close\r\n\r\n',
    );
    assert.equal(statusOf(answer), 200, answer);
    assert.equal(seen.length, 1);
    const names = (seen[0]?.rawHeaders ?? []).filter((_, i) => i % 2 === 0);
    assert.deepEqual(
      names.filter((n) => n.includes('_')),
      [],
    );
    assert.equal(seen[0]?.headers['x-forwarded-for'], '127.0.0.1');
  });

  it('Forwarded, X-Forwarded-Port/-Prefix/-Server and X-Original-URL from an untrusted peer are removed', async () => {
    seen.length = 0;
    const answer = await raw(
      'GET /f HTTP/1.1\r\nHost: site.test\r\nForwarded: for=6.6.6.6;host=evil.test;proto=https\r\n' +
        'X-Forwarded-Port: 443\r\nX-Forwarded-Prefix: /evil\r\nX-Forwarded-Server: evil.test\r\n' +
        'X-Original-URL: /admin/x\r\nX-Rewrite-URL: /admin/x\r\nConnection: close\r\n\r\n',
    );
    assert.equal(statusOf(answer), 200, answer);
    const h = seen[0]?.headers ?? {};
    for (const name of [
      'forwarded',
      'x-forwarded-port',
      'x-forwarded-prefix',
      'x-forwarded-server',
      'x-original-url',
      'x-rewrite-url',
    ]) {
      assert.equal(h[name], undefined, name);
    }
  });

  const framing: Record<string, string> = {
    'content-length':
      'POST /c HTTP/1.1\r\nHost: site.test\r\nConnection: content-length\r\nContent-Length: 5\r\n\r\nhello',
    'transfer-encoding':
      'POST /c HTTP/1.1\r\nHost: site.test\r\nConnection: keep-alive, Transfer-Encoding\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    host: 'GET /c HTTP/1.1\r\nHost: site.test\r\nConnection: Host\r\n\r\n',
    te: 'GET /c HTTP/1.1\r\nHost: site.test\r\nTE: trailers\r\nConnection: close, TE\r\n\r\n',
    upgrade: 'GET /c HTTP/1.1\r\nHost: site.test\r\nConnection: upgrade\r\n\r\n',
  };
  for (const [token, bytes] of Object.entries(framing)) {
    it(`Connection naming ${token} on a request that is not an upgrade: 400, nothing forwarded`, async () => {
      seen.length = 0;
      const answer = await raw(bytes);
      await settle();
      assert.equal(statusOf(answer), 400, answer);
      assert.match(answer, /GH_REQUEST_CONNECTION_HEADER/);
      assert.equal(seen.length, 0);
    });
  }

  it('a WebSocket upgrade gets the same canonical path: /site/../admin/ws needs a certificate', async () => {
    upgrades.length = 0;
    const ws =
      'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
    const traversal = await raw(`GET /site/../admin/ws HTTP/1.1\r\nHost: site.test\r\n${ws}\r\n`);
    const escaped = await raw(`GET /site/%2e%2e/admin/ws HTTP/1.1\r\nHost: site.test\r\n${ws}\r\n`);
    await settle();
    assert.equal(statusOf(traversal), 401, traversal);
    assert.equal(statusOf(escaped), 400, escaped);
    assert.equal(upgrades.length, 0);
  });

  it('an upgrade forwards Connection: upgrade only, so the next hop keeps the X-Forwarded-For Gatehouse set', async () => {
    upgrades.length = 0;
    const answer = await raw(
      'GET /ws HTTP/1.1\r\nHost: site.test\r\nConnection: Upgrade, X-Forwarded-For, X-Request-ID\r\nUpgrade: websocket\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    assert.match(answer, /^HTTP\/1\.1 101 /);
    assert.equal(upgrades.length, 1);
    assert.equal(upgrades[0]?.headers.connection?.toLowerCase(), 'upgrade');
    assert.equal(upgrades[0]?.headers['x-forwarded-for'], '127.0.0.1');
  });

  it('HTTP/2 with security.forwardHostHeaders: false: the backend gets its own Host, not :authority', async () => {
    seen.length = 0;
    assert.equal(await h2Status('nohost.test', '/h2', `nohost.test:${securePort}`), 200);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.headers.host, `127.0.0.1:${(backend.address() as AddressInfo).port}`);
  });
});

describe('HTTP/2 gets the same canonical request', () => {
  it(':path /site/../admin/x and /%61dmin/x are /admin/x (401); /site/%2e%2e/admin/x is 400', async () => {
    seen.length = 0;
    const authority = `site.test:${securePort}`;
    assert.equal(await h2Status('site.test', '/site/../admin/x', authority), 401);
    assert.equal(await h2Status('site.test', '/%61dmin/x', authority), 401);
    assert.equal(await h2Status('site.test', '/site/%2e%2e/admin/x', authority), 400);
    await settle();
    assert.equal(seen.length, 0);
  });

  it(':authority API.test. (trailing dot) is api.test: 401 without a certificate, not the catch-all', async () => {
    seen.length = 0;
    assert.equal(await h2Status('api.test', '/x', `API.test.:${securePort}`), 401);
    await settle();
    assert.equal(seen.length, 0);
  });
});

describe('framing, refused upgrades and header room', () => {
  it('a request line without an HTTP version (HTTP/0.9 style) gets 400, nothing forwarded', async () => {
    seen.length = 0;
    const answer = await raw('GET /nine\r\nHost: site.test\r\n\r\n');
    await settle();
    assert.equal(statusOf(answer), 400, answer);
    assert.equal(seen.length, 0);
  });

  it('a backend that refuses a WebSocket upgrade: its real status line is relayed and logged', async () => {
    const id = `refused-upgrade-${Date.now()}`;
    const answer = await raw(
      `GET /ws-refused HTTP/1.1\r\nHost: site.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nX-Request-ID: ${id}\r\n` +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    assert.match(answer, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.match(answer, /no websocket here/);
    const line = await gateway.waitForLog((l) => l.msg === 'request' && l.reqId === id, 10_000, 'the access line');
    assert.equal(line.status, 403);
    // curl reads the relayed answer as the backend's HTTP/1.1 response, not as HTTP/0.9.
    const refused = await curlUpgrade('/ws-refused', [
      'Sec-WebSocket-Version: 13',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    ]);
    assert.match(refused, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.match(refused, /no websocket here/);
    // A backend that does not speak WebSocket at all answers the upgrade as a plain request.
    const plain = await curlUpgrade('/room', [`X-Request-ID: ${id}-plain`]);
    assert.match(plain, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(plain, /room ok/);
    const plainLine = await gateway.waitForLog((l) => l.msg === 'request' && l.reqId === `${id}-plain`, 10_000);
    assert.equal(plainLine.status, 200);
  });

  it('header room: a request within maxHeaderBytes never reaches a backend with the same limit over it', async () => {
    roomBackendOverflows = 0;
    seen.length = 0;
    // Node counts the target, the names and the values against maxHeaderSize; fill up to 64 under.
    const fill = MAX_HEADER_BYTES - 64 - '/room'.length - 'Host'.length - 'site.test'.length - 'X-Fill'.length;
    const answer = await raw(
      `GET /room HTTP/1.1\r\nHost: site.test\r\nX-Fill: ${'f'.repeat(fill)}\r\nConnection: close\r\n\r\n`,
    );
    await settle();
    assert.equal(statusOf(answer), 431, answer.slice(0, 200));
    assert.match(answer, /GH_REQUEST_HEADERS_UPSTREAM_TOO_LARGE/);
    assert.equal(roomBackendOverflows, 0);
    assert.equal(seen.length, 0);
  });

  it('header room: a request that fits with what Gatehouse adds is forwarded', async () => {
    roomBackendOverflows = 0;
    seen.length = 0;
    const answer = await raw(
      `GET /room HTTP/1.1\r\nHost: site.test\r\nX-Fill: ${'f'.repeat(MAX_HEADER_BYTES - 1024)}\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(statusOf(answer), 200, answer.slice(0, 200));
    assert.equal(roomBackendOverflows, 0);
    assert.equal(seen.length, 1);
  });
});

describe('gateway.proxy.allowUnderscoresInHeaders: true (after a reload)', () => {
  it('passes names with "_", but never one that reads as a header Gatehouse sets', async () => {
    const since = Date.now();
    writeFileSync(
      configPath,
      configText.replace('  limits:\n', '  proxy:\n    allowUnderscoresInHeaders: true\n  limits:\n'),
    );
    await gateway.waitForLog((l) => l.msg === 'reload accepted' && Number(l.time) >= since, 20_000, 'reload accepted');
    seen.length = 0;
    const answer = await raw(
      'GET /u2 HTTP/1.1\r\nHost: site.test\r\nMy_Header: v\r\nX_Forwarded_For: 6.6.6.6\r\nX_Real_IP: 6.6.6.6\r\n' +
        'X_Forwarded_Client_Cert: Hash=forged\r\nX_Request_ID: forged\r\nConnection: close\r\n\r\n',
    );
    assert.equal(statusOf(answer), 200, answer);
    const names = (seen[0]?.rawHeaders ?? []).filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    assert.deepEqual(
      names.filter((n) => n.includes('_')),
      ['my_header'],
    );
    assert.equal(seen[0]?.headers['x-forwarded-for'], '127.0.0.1');
  });
});
