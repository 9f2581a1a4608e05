// Goma's deprecated `cors` blocks (gateway.cors and routes[].cors) through the real `gatehouse
// run`, with the blocks of Goma's own CORS page (test/goma-docs/files/docs__usermanual__cors.md--0N):
// on the wire they answer as `responseHeaders.cors` does. Origins are exact, `*` or `*.domain`;
// with allowCredentials `*` echoes the origin and is never sent; a preflight is answered 204 (403
// for an origin not allowed) by the gateway and never reaches the backend, which counts every
// request it gets; every answer carries `Vary: Origin`. A route's `cors: {}` takes the gateway's
// block, `enabled: false` drops it, and a responseHeaders middleware with `cors` replaces the block.
// The same over HTTP/2 (node:http2 against the TLS listener).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CaHandle } from '@gatehouse/pki';
import { parse, stringify } from 'yaml';
import { GOMA_DOCS_DIR } from '../../scripts/goma-docs.ts';
import { freePort, type GatewayProcess, runCli, startGateway, tempDir, writeFile } from '../support/gateway.ts';
import { h2Request, localhostCertificate } from '../support/h2-client.ts';

type Plain = Record<string, unknown>;
const doc = (n: number) =>
  parse(readFileSync(join(GOMA_DOCS_DIR, 'files', `docs__usermanual__cors.md--0${n}.yaml`), 'utf8')) as Plain;
/** Goma's gateway block (example 1) and route block (example 2), as the documentation writes them. */
const gatewayBlock = (doc(1).gateway as Plain).cors as Plain;
const routeBlock = (((doc(2).gateway as Plain).routes as Plain[])[0] as Plain).cors as Plain;

let backend: http.Server;
let gateway: GatewayProcess;
let port = 0;
let securePort = 0;
let root: CaHandle;
/** Requests the backend got, by Host. */
const hits = new Map<string, number>();

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
}

function send(host: string, method: string, headers: Record<string, string> = {}, path = '/'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method, headers: { host, ...headers }, agent: false, timeout: 15_000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** One HTTP/2 request over TLS: the status and the response headers. */
async function sendH2(host: string, method: string, headers: Record<string, string>): Promise<Answer> {
  const answer = await h2Request(securePort, root.certPem, {
    authority: host,
    path: '/',
    headers: { ':method': method, ...headers },
  });
  return { status: answer.status, headers: answer.headers as http.IncomingHttpHeaders };
}

const preflight = (host: string, origin: string, method = 'POST', requestHeaders?: string) =>
  send(host, 'OPTIONS', {
    origin,
    'access-control-request-method': method,
    ...(requestHeaders === undefined ? {} : { 'access-control-request-headers': requestHeaders }),
  });

/** Sends a preflight and checks that the backend never saw it. */
async function unseenPreflight(host: string, origin: string, method = 'POST', requestHeaders?: string) {
  const before = hits.get(host) ?? 0;
  const answer = await preflight(host, origin, method, requestHeaders);
  assert.equal(hits.get(host) ?? 0, before, `the preflight to ${host} reached the backend`);
  return answer;
}

const varies = (a: Answer) =>
  String(a.headers.vary ?? '')
    .split(',')
    .map((t) => t.trim().toLowerCase());

function route(name: string, extra: Plain): Plain {
  return {
    name,
    path: '/',
    hosts: [`${name}.test`],
    backends: [{ endpoint: `http://127.0.0.1:${(backend.address() as AddressInfo).port}` }],
    ...extra,
  };
}

before(async () => {
  backend = http.createServer((req, res) => {
    const host = String(req.headers.host);
    hits.set(host, (hits.get(host) ?? 0) + 1);
    // A backend with its own, wider CORS answer: the gateway's policy replaces it.
    res.writeHead(200, { 'content-type': 'text/plain', 'access-control-allow-origin': '*' });
    res.end(`${req.method} seen\n`);
  });
  backend.listen(0, '127.0.0.1');
  await new Promise((r) => backend.once('listening', r));
  port = await freePort();
  securePort = await freePort();
  const dir = tempDir('gh-cors-blocks-');
  const tls = await localhostCertificate(dir, ['none.test', 'wild.test']);
  root = tls.root;
  const server = tls.server;
  const config = {
    version: 2,
    gateway: {
      entryPoints: { web: { address: `127.0.0.1:${port}` }, webSecure: { address: `127.0.0.1:${securePort}` } },
      tls: { certificates: [{ cert: server.fullchainPath, key: server.keyPath }] },
      watch: { enabled: false },
      cors: gatewayBlock,
    },
    middlewares: [
      {
        name: 'mw-cors',
        type: 'responseHeaders',
        rule: { cors: { enabled: true, origins: ['https://mw.example'], allowMethods: ['GET', 'PUT'] } },
      },
    ],
    routes: [
      route('none', {}),
      route('empty', { cors: {} }),
      route('off', { cors: { enabled: false } }),
      route('documented', { cors: routeBlock }),
      route('wild', { cors: { origins: ['*'], allowCredentials: true } }),
      route('star', { cors: { origins: ['*'] } }),
      route('sub', { cors: { origins: ['*.example.com', 'https://exact.test'] } }),
      route('both', { cors: { origins: ['https://block.example'] }, middlewares: ['mw-cors'] }),
    ],
  };
  gateway = await startGateway(writeFile(dir, 'gatehouse.yaml', stringify(config)), { workers: 1 });
});
after(async () => {
  await gateway?.stop();
  backend?.close();
});

describe("Goma's deprecated cors blocks through gatehouse run", () => {
  it("gateway.cors (Goma's example) applies to a route without a block and to `cors: {}`", async () => {
    for (const host of ['none.test', 'empty.test']) {
      const origin = 'http://localhost:3000';
      const pre = await unseenPreflight(host, origin, 'POST', 'Authorization');
      assert.equal(pre.status, 204, host);
      assert.equal(pre.headers['access-control-allow-origin'], origin);
      assert.equal(pre.headers['access-control-allow-credentials'], 'true');
      assert.equal(pre.headers['access-control-allow-methods'], 'GET, POST');
      assert.equal(
        pre.headers['access-control-allow-headers'],
        'Origin, Authorization, X-Client-Id, Content-Type, Accept',
      );
      assert.equal(pre.headers['access-control-max-age'], '1728000');
      assert.equal(pre.headers['x-session-id'], 'xxx-xxx-xx');
      assert.ok(varies(pre).includes('origin'));

      const refused = await unseenPreflight(host, 'https://evil.example');
      assert.equal(refused.status, 403, 'an origin not listed: refused, not forwarded');
      assert.equal(refused.headers['access-control-allow-origin'], undefined);

      const seen = hits.get(host) ?? 0;
      const get = await send(host, 'GET', { origin: 'https://dev.example.com' });
      assert.equal(get.status, 200);
      assert.equal(hits.get(host), seen + 1, 'an actual request reaches the backend');
      assert.equal(get.headers['access-control-allow-origin'], 'https://dev.example.com');
      assert.equal(get.headers['access-control-allow-credentials'], 'true');
      assert.ok(varies(get).includes('origin'));

      const stranger = await send(host, 'GET', { origin: 'https://evil.example' });
      assert.equal(stranger.status, 200);
      assert.equal(stranger.headers['access-control-allow-origin'], undefined, "the backend's `*` is dropped");
      assert.equal(stranger.headers['access-control-allow-credentials'], undefined);
      assert.ok(varies(stranger).includes('origin'));

      const plain = await send(host, 'GET');
      assert.equal(plain.headers['access-control-allow-origin'], undefined);
      assert.ok(varies(plain).includes('origin'), 'Vary: Origin without an Origin too: a cache keys on it');
    }
  });

  it("a route's own block (Goma's example) answers for that route", async () => {
    const pre = await unseenPreflight('documented.test', 'https://dev.example.com', 'GET');
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], 'https://dev.example.com');
    assert.equal(pre.headers['access-control-allow-methods'], 'GET, POST');
    const get = await send('documented.test', 'GET', { origin: 'http://localhost:3000' });
    assert.equal(get.headers['access-control-allow-origin'], 'http://localhost:3000');
  });

  it('`cors: {enabled: false}` on a route drops the gateway block: no grant, preflights go to the backend', async () => {
    const seen = hits.get('off.test') ?? 0;
    const pre = await preflight('off.test', 'http://localhost:3000');
    assert.equal(pre.status, 200);
    assert.equal(hits.get('off.test'), seen + 1);
    const get = await send('off.test', 'GET', { origin: 'http://localhost:3000' });
    assert.equal(get.headers['access-control-allow-credentials'], undefined);
    assert.equal(get.headers['access-control-allow-origin'], '*', "the backend's own answer, untouched");
  });

  it('with allowCredentials, `*` echoes the origin and is never sent literally', async () => {
    for (const origin of ['https://any.where', 'http://localhost:8080']) {
      const pre = await unseenPreflight('wild.test', origin, 'DELETE');
      assert.equal(pre.status, 204);
      assert.equal(pre.headers['access-control-allow-origin'], origin);
      assert.equal(pre.headers['access-control-allow-credentials'], 'true');
      const get = await send('wild.test', 'GET', { origin });
      assert.equal(get.headers['access-control-allow-origin'], origin);
      assert.equal(get.headers['access-control-allow-credentials'], 'true');
      assert.ok(varies(get).includes('origin'));
    }
    const star = await send('star.test', 'GET', { origin: 'https://any.where' });
    assert.equal(star.headers['access-control-allow-origin'], '*', 'without credentials `*` is sent as such');
    assert.equal(star.headers['access-control-allow-credentials'], undefined);
  });

  it('`*.domain` matches subdomains only; a block without allowMethods allows the asked method', async () => {
    for (const origin of ['https://a.example.com', 'http://b.c.example.com:8443', 'https://exact.test']) {
      const pre = await unseenPreflight('sub.test', origin, 'PATCH', 'X-Trace');
      assert.equal(pre.status, 204, origin);
      assert.equal(pre.headers['access-control-allow-origin'], origin);
      // Goma's block: "If empty, all methods are allowed"; the asked headers are echoed likewise.
      assert.equal(pre.headers['access-control-allow-methods'], 'PATCH');
      assert.equal(pre.headers['access-control-allow-headers'], 'X-Trace');
      const get = await send('sub.test', 'GET', { origin });
      assert.equal(get.headers['access-control-allow-origin'], origin);
    }
    for (const origin of ['https://example.com', 'https://evilexample.com', 'https://example.com.evil.test']) {
      assert.equal((await unseenPreflight('sub.test', origin)).status, 403, origin);
      const get = await send('sub.test', 'GET', { origin });
      assert.equal(get.headers['access-control-allow-origin'], undefined, origin);
    }
  });

  it("a responseHeaders middleware with cors replaces the route's block for preflights and responses", async () => {
    const blockOnly = await unseenPreflight('both.test', 'https://block.example', 'PUT');
    assert.equal(blockOnly.status, 403, "the block's origin is not the middleware's");
    const mw = await unseenPreflight('both.test', 'https://mw.example', 'PUT');
    assert.equal(mw.status, 204);
    assert.equal(mw.headers['access-control-allow-origin'], 'https://mw.example');
    assert.equal(mw.headers['access-control-allow-methods'], 'GET, PUT');
    const get = await send('both.test', 'GET', { origin: 'https://block.example' });
    assert.equal(get.headers['access-control-allow-origin'], undefined);
    const granted = await send('both.test', 'GET', { origin: 'https://mw.example' });
    assert.equal(granted.headers['access-control-allow-origin'], 'https://mw.example');
  });
});

describe('the cors blocks over HTTP/2', () => {
  it('answer preflights without the backend and grant responses as over HTTP/1.1', async () => {
    const seen = hits.get('none.test') ?? 0;
    const pre = await sendH2('none.test', 'OPTIONS', {
      origin: 'http://localhost:3000',
      'access-control-request-method': 'POST',
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], 'http://localhost:3000');
    assert.equal(pre.headers['access-control-allow-credentials'], 'true');
    assert.ok(varies(pre).includes('origin'));
    assert.equal(hits.get('none.test') ?? 0, seen, 'the preflight reached the backend');
    const refused = await sendH2('none.test', 'OPTIONS', {
      origin: 'https://evil.example',
      'access-control-request-method': 'POST',
    });
    assert.equal(refused.status, 403);
    assert.equal(hits.get('none.test') ?? 0, seen);

    const get = await sendH2('wild.test', 'GET', { origin: 'https://any.where' });
    assert.equal(get.status, 200);
    assert.equal(get.headers['access-control-allow-origin'], 'https://any.where');
    assert.equal(get.headers['access-control-allow-credentials'], 'true');
    assert.ok(varies(get).includes('origin'));
    const stranger = await sendH2('none.test', 'GET', { origin: 'https://evil.example' });
    assert.equal(stranger.headers['access-control-allow-origin'], undefined, "the backend's `*` is dropped");
  });
});

describe('cors blocks that cannot be enforced as written', () => {
  it('are refused at file:line:key; the replaced block is a warning', async () => {
    const dir = tempDir('gh-cors-refused-');
    const backendUrl = 'http://127.0.0.1:1';
    const file = writeFile(
      dir,
      'gatehouse.yaml',
      [
        'version: 2',
        'middlewares:',
        '  - name: open-credentials',
        '    type: responseHeaders',
        '    rule:',
        '      cors: { enabled: true, allowCredentials: true }',
        'routes:',
        '  - name: a',
        '    path: /',
        `    target: ${backendUrl}`,
        '    cors:',
        '      allowedHeaders: [Authorization]',
        '    middlewares: [open-credentials]',
        '',
      ].join('\n'),
    );
    const result = await runCli(['validate', file]);
    assert.equal(result.code, 1);
    const out = result.stdout + result.stderr;
    assert.match(
      out,
      new RegExp(`${file}:6:\\d+: error: middlewares\\[0\\]\\.rule\\.cors\\.origins: with \`allowCredentials\``),
    );
    assert.match(
      out,
      new RegExp(`${file}:12:\\d+: error: routes\\[0\\]\\.cors\\.origins: a CORS block needs \`origins\``),
    );

    const replaced = writeFile(
      dir,
      'replaced.yaml',
      [
        'version: 2',
        'middlewares:',
        '  - name: mw',
        '    type: responseHeaders',
        '    rule:',
        '      cors: { enabled: true, origins: ["https://mw.example"] }',
        'routes:',
        '  - name: a',
        '    path: /',
        `    target: ${backendUrl}`,
        '    cors: { origins: ["https://block.example"] }',
        '    middlewares: [mw]',
        '',
      ].join('\n'),
    );
    const warned = await runCli(['validate', replaced]);
    assert.equal(warned.code, 0, warned.stdout + warned.stderr);
    assert.match(warned.stdout + warned.stderr, /routes\[0\]\.cors: not applied: middleware "mw"/);
  });
});
