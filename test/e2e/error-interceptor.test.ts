// errorInterceptor through the real `gatehouse run`, over HTTP/1.1 and HTTP/2 (node:http2 against
// the TLS listener), with Goma's documentation examples (test/goma-docs/files): inline bodies, the
// `contentType` of Goma's user manual, and pages from `file`. A listed status with a body up to
// `maxBodySize` is replaced; a larger or streamed one, and a status not listed, pass untouched.
// The pages are read by the primary: an edit is served after the reload, a page that disappears is
// a rejected reload naming file:line:key while the last good page keeps being served.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CaHandle } from '@gatehouse/pki';
import { parse, stringify } from 'yaml';
import { GOMA_DOCS_DIR } from '../../scripts/goma-docs.ts';
import { gatewayHead } from '../support/gateway-config.ts';
import { h2Request, localhostCertificate } from '../support/h2-client.ts';
import { type GatewayProcess, type LogLine, runCli, startGateway, tempDir, writeFile } from '../support/gateway.ts';
import { call } from '../support/http.ts';

type Plain = Record<string, unknown>;
const example = (name: string) => parse(readFileSync(join(GOMA_DOCS_DIR, 'files', name), 'utf8')) as unknown;
/** Goma's middleware examples: inline bodies (2) and pages from files (3). */
const inline = (example('docs__middlewares__error-interceptor.md--02.yaml') as Plain[])[0] as Plain;
const fromFiles = (example('docs__middlewares__error-interceptor.md--03.yaml') as Plain[])[0] as Plain;
/** Goma's user manual: a route block with `contentType`, run here as the middleware it became. */
const manual = (
  ((example('docs__usermanual__error-interceptor.md--01.yaml') as Plain).gateway as Plain).routes as Plain[]
)[0]?.errorInterceptor as Plain;

const BIG = 70 * 1024; // over the default maxBodySize (64 KiB)
const BACKEND_BODY = 'backend error!!\n';

let backend: http.Server;
let gateway: GatewayProcess;
let root: CaHandle;
let securePort = 0;
let dir = '';
let configPath = '';
const pages = (name: string) => join(dir, 'errors', name);

interface Answer {
  status: number;
  contentType: string | undefined;
  body: string;
}

async function h1(host: string, path: string): Promise<Answer> {
  const reply = await call({
    port: securePort,
    path,
    headers: { host, accept: 'application/json' },
    https: { ca: root.certPem, servername: 'localhost' },
  });
  return { status: reply.status, contentType: reply.headers['content-type'], body: reply.body };
}

async function h2(host: string, path: string): Promise<Answer> {
  const answer = await h2Request(securePort, root.certPem, {
    authority: host,
    path,
    headers: { accept: 'application/json' },
  });
  return {
    status: answer.status,
    contentType: answer.headers['content-type'] as string | undefined,
    body: answer.body,
  };
}

const PROTOCOLS = [
  ['HTTP/1.1', h1],
  ['HTTP/2', h2],
] as const;

function configText(head: string[]): string {
  const target = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
  // The documented absolute paths, moved to this test's folder (one written relative to the config).
  const filesRule = structuredClone(fromFiles.rule) as Plain;
  for (const e of filesRule.errors as Plain[]) e.file = String(e.file).replace('/etc/goma/errors/', 'errors/');
  (filesRule.errors as Plain[])[0] = { ...(filesRule.errors as Plain[])[0], file: pages('403.html') };
  const rest = stringify({
    middlewares: [
      inline,
      { ...fromFiles, rule: filesRule },
      { name: 'manual', type: 'errorInterceptor', rule: manual },
    ],
    routes: [
      { name: 'inline', path: '/', hosts: ['inline.test'], target, middlewares: [inline.name] },
      { name: 'files', path: '/', hosts: ['files.test'], target, middlewares: [fromFiles.name] },
      { name: 'manual', path: '/', hosts: ['manual.test'], target, middlewares: ['manual'] },
    ],
  });
  return `${head.join('\n')}\n${rest}`;
}

before(async () => {
  backend = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const status = Number(url.pathname.split('/')[2] ?? 200);
    const size = Number(url.searchParams.get('size') ?? BACKEND_BODY.length);
    const body = size === BACKEND_BODY.length ? BACKEND_BODY : 'x'.repeat(size);
    if (url.pathname.startsWith('/chunked/')) {
      // No Content-Length: the body streams, so its size is unknown when the head arrives.
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.write(BACKEND_BODY.slice(0, 8));
      res.end(BACKEND_BODY.slice(8));
      return;
    }
    res.writeHead(status, { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
  });
  backend.listen(0, '127.0.0.1');
  await once(backend, 'listening');
  dir = tempDir('gh-error-interceptor-');
  mkdirSync(join(dir, 'errors'));
  writeFileSync(pages('403.html'), '<h1>403: not for you</h1>\n');
  writeFileSync(pages('502.html'), '<h1>502: the backend is away</h1>\n');
  writeFileSync(pages('503.html'), '<h1>503: back soon</h1>\n');
  const tls = await localhostCertificate(dir, ['inline.test', 'files.test', 'manual.test']);
  root = tls.root;
  const server = tls.server;
  const head = await gatewayHead({
    tls: { cert: server.fullchainPath, key: server.keyPath },
    gateway: ['  watch: { enabled: true, debounce: 100ms, pollInterval: 2s }'],
  });
  securePort = head.webSecurePort;
  configPath = writeFile(dir, 'gatehouse.yaml', configText(head.lines));
  gateway = await startGateway(configPath, { workers: 2 });
});
after(async () => {
  await gateway?.stop();
  backend?.close();
});

describe('errorInterceptor over HTTP/1.1 and HTTP/2', () => {
  for (const [protocol, send] of PROTOCOLS) {
    it(`${protocol}: replaces small listed answers with the documented bodies`, async () => {
      for (const e of (inline.rule as Plain).errors as Plain[]) {
        const entry = e as { statusCode: number; body?: string };
        const answer = await send('inline.test', `/status/${entry.statusCode}`);
        assert.equal(answer.status, entry.statusCode);
        if (entry.body === undefined) {
          // Goma's `- statusCode: 405` without a body: the gateway's own error body.
          assert.match(answer.body, /"requestId"/);
        } else {
          assert.equal(answer.body, entry.body);
          assert.equal(answer.contentType, 'application/json; charset=utf-8', 'sniffed from the body');
        }
      }
      const manualAnswer = await send('manual.test', '/status/500');
      assert.deepEqual(manualAnswer, { status: 500, contentType: 'application/json', body: 'Internal server error' });
      const empty = await send('manual.test', '/status/401');
      assert.deepEqual(empty, { status: 401, contentType: 'application/json', body: '' });
    });

    it(`${protocol}: larger, streamed and unlisted answers pass through untouched`, async () => {
      const big = await send('inline.test', `/status/404?size=${BIG}`);
      assert.equal(big.status, 404);
      assert.equal(big.body, 'x'.repeat(BIG));
      assert.equal(big.contentType, 'text/plain');
      const streamed = await send('inline.test', '/chunked/404');
      assert.deepEqual(streamed, { status: 404, contentType: 'text/plain', body: BACKEND_BODY });
      const unlisted = await send('inline.test', '/status/418');
      assert.deepEqual(unlisted, { status: 418, contentType: 'text/plain', body: BACKEND_BODY });
      const ok = await send('inline.test', '/status/200');
      assert.equal(ok.body, BACKEND_BODY);
    });

    it(`${protocol}: pages from \`file\` (Goma's example) replace the backend's`, async () => {
      for (const [status, text] of [
        [502, '<h1>502: the backend is away</h1>\n'],
        [503, '<h1>503: back soon</h1>\n'],
      ] as const) {
        assert.deepEqual(await send('files.test', `/status/${status}`), {
          status,
          contentType: 'text/html; charset=utf-8',
          body: text,
        });
      }
      const big = await send('files.test', `/status/502?size=${BIG}`);
      assert.equal(big.body.length, BIG, 'over the limit: untouched');
    });
  }

  it('an edited page is served after the reload; a missing one is refused at file:line:key, the last good one serving', async () => {
    const logAfter = (mark: number, test: (l: LogLine) => boolean, what: string) =>
      gateway.waitForLogAfter(mark, test, 30_000, what);
    assert.equal((await h2('files.test', '/status/403')).body, '<h1>403: not for you</h1>\n');

    let mark = gateway.lines.length;
    writeFileSync(pages('403.html'), '<h1>403: still not for you</h1>\n');
    await logAfter(mark, (l) => l.msg === 'reload accepted', 'reload accepted after the page was edited');
    for (const send of [h1, h2]) {
      assert.equal((await send('files.test', '/status/403')).body, '<h1>403: still not for you</h1>\n');
    }

    mark = gateway.lines.length;
    rmSync(pages('503.html'));
    const rejected = await logAfter(mark, (l) => l.msg === 'reload rejected', 'reload rejected');
    const errors = (rejected.errors as string[]).join('\n');
    assert.match(
      errors,
      /gatehouse\.yaml:\d+:\d+: error: middlewares\[1\]\.rule\.errors\[2\]\.file: cannot read .*503\.html: no such file/,
    );
    await sleep(200);
    assert.equal((await h2('files.test', '/status/503')).body, '<h1>503: back soon</h1>\n', 'the last good page');

    mark = gateway.lines.length;
    writeFileSync(pages('503.html'), '<h1>503: back later</h1>\n');
    await logAfter(mark, (l) => l.msg === 'reload accepted', 'reload accepted once the page is back');
    assert.equal((await h1('files.test', '/status/503')).body, '<h1>503: back later</h1>\n');
  });

  it("`gatehouse validate` refuses Goma's example as written: its pages do not exist here", async () => {
    const file = writeFile(
      tempDir('gh-error-pages-'),
      'gatehouse.yaml',
      stringify({
        version: 2,
        middlewares: [fromFiles],
        routes: [{ name: 'r', path: '/', target: 'http://127.0.0.1:1', middlewares: [fromFiles.name] }],
      }),
    );
    const result = await runCli(['validate', file]);
    assert.equal(result.code, 1);
    assert.match(
      result.stdout + result.stderr,
      new RegExp(
        `${file}:\\d+:\\d+: error: middlewares\\[0\\]\\.rule\\.errors\\[0\\]\\.file: cannot read /etc/goma/errors/403\\.html: no such file`,
      ),
    );
  });
});
