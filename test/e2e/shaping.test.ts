// Every request- and response-shaping middleware with Goma Gateway's own documentation examples
// (test/goma-docs/files, each with its source path and the upstream commit in manifest.json),
// through the real `gatehouse run`: each example's middleware runs on a route of its own (its own
// Host), and what the example's rule says is checked on the wire, against a backend that echoes
// the request it got. Examples Gatehouse refuses on purpose are checked to be refused.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { GOMA_DOCS_DIR, placeholderEnv } from '../../scripts/goma-docs.ts';
import { freePort, type GatewayProcess, runCli, startGateway, tempDir, writeFile } from '../support/gateway.ts';
import { call, type Reply } from '../support/http.ts';

type Rule = Record<string, unknown>;
interface Middleware {
  name: string;
  type: string;
  paths?: string[];
  rule?: Rule;
}
interface Example {
  file: string;
  host: string;
  middleware: Middleware;
}

const FILES = join(GOMA_DOCS_DIR, 'files');
const SHAPING = new Set([
  'rateLimit',
  'bodyLimit',
  'requestHeaders',
  'responseHeaders',
  'redirect',
  'redirectScheme',
  'redirectRegex',
  'rewriteRegex',
  'addPrefix',
  'errorInterceptor',
  'accessLog',
]);
const DOCS = [
  'access-log',
  'add-prefix',
  'boy-limit',
  'error-interceptor',
  'rate-limit',
  'redirect',
  'redirect-regex',
  'redirect-scheme',
  'request-headers',
  'response-headers',
  'rewrite-regex',
];
/** Refused on purpose, with the reason the README gives. */
const REFUSED: Record<string, RegExp> = {
  // `{{goma.headers.X}}` request tokens in a rewrite are not supported.
  'docs__middlewares__rewrite-regex.md--02.yaml': /request tokens/,
  // Its pages (/etc/goma/errors/*.html) do not exist here: a page that cannot be read is a config
  // error at its key (test/e2e/error-interceptor.test.ts serves the example with pages it writes).
  'docs__middlewares__error-interceptor.md--03.yaml': /errors\[0\]\.file: cannot read \/etc\/goma\/errors\/403\.html/,
  // `paths: ["/.*"]`: a regular expression must be anchored (`^/.*`), a path is `/x` or `/x/*`.
  'docs__middlewares__access-log.md--01.yaml': /looks like a pattern/,
};

function middlewaresOf(file: string): Middleware[] {
  const text = readFileSync(join(FILES, file), 'utf8');
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    return [];
  }
  const list = Array.isArray(doc) ? doc : ((doc as { middlewares?: unknown } | null)?.middlewares ?? []);
  return (Array.isArray(list) ? list : []).filter(
    (m): m is Middleware => typeof m === 'object' && m !== null && SHAPING.has((m as Middleware).type),
  );
}

const examples: Example[] = [];
const refused: Array<{ file: string; middleware: Middleware }> = [];
for (const doc of DOCS) {
  for (let n = 1; n <= 9; n++) {
    const file = `docs__middlewares__${doc}.md--0${n}.yaml`;
    let list: Middleware[];
    try {
      list = middlewaresOf(file);
    } catch {
      continue;
    }
    for (const middleware of list) {
      if (REFUSED[file]) refused.push({ file, middleware });
      else examples.push({ file, host: `ex${examples.length}.test`, middleware });
    }
  }
}

const env = placeholderEnv(DOCS.map((d) => `\${COOKIE_NAME} \${REQUEST_ID} \${INSTANCE_ID} ${d}`).join(' '));

let backend: http.Server;
let backendPort = 0;
let gateway: GatewayProcess;
let port = 0;

/** The backend: echoes what it got; `/status/N` answers N with a small body. */
function startBackend(): Promise<void> {
  backend = http.createServer((req, res) => {
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
    });
    req.on('end', () => {
      const m = /\/status\/(\d{3})/.exec(req.url ?? '');
      if (m) {
        res.writeHead(Number(m[1]), { 'content-type': 'text/plain', 'content-length': '16' });
        res.end('backend error!!\n');
        return;
      }
      const body = JSON.stringify({ url: req.url, headers: req.headers, size });
      res.writeHead(200, {
        'content-type': 'application/json',
        server: 'backend',
        'x-powered-by': 'backend',
        'cache-control': 'public',
      });
      res.end(body);
    });
  });
  backend.listen(0, '127.0.0.1');
  return new Promise((r) => backend.once('listening', () => r()));
}

function send(
  host: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer } = {},
): Promise<Reply> {
  const headers = { host, ...options.headers };
  return call({ port, path, method: options.method, headers, body: options.body, bodyMayBeCut: true });
}

const fill = (value: string, route: string) =>
  value
    .replaceAll('{route.name}', route)
    .replaceAll('{route.path}', '/')
    .replaceAll('{gateway.version}', '0.1.0')
    .replace(/\$\{[A-Za-z_]+\}/g, 'goma-docs-example');

function configText(): string {
  return stringify({
    version: 2,
    gateway: {
      entryPoints: { web: { address: `127.0.0.1:${port}` } },
      log: { accessLog: true },
    },
    middlewares: examples.map((e, i) => ({ ...e.middleware, name: `ex${i}` })),
    routes: examples.map((e, i) => ({
      name: `ex${i}`,
      path: '/',
      hosts: [e.host],
      backends: [{ endpoint: `http://127.0.0.1:${backendPort}` }],
      middlewares: [`ex${i}`],
    })),
  });
}

before(async () => {
  await startBackend();
  backendPort = (backend.address() as AddressInfo).port;
  port = await freePort();
  const dir = tempDir('gh-shaping-');
  gateway = await startGateway(writeFile(dir, 'gatehouse.yaml', configText()), {
    workers: 2,
    env,
    readyTimeoutMs: 120_000,
  });
});
after(async () => {
  await gateway?.stop();
  backend?.close();
});

describe("shaping middlewares with Goma's documentation examples", () => {
  it('runs an example of every shaping type', () => {
    const types = new Set(examples.map((e) => e.middleware.type));
    for (const t of SHAPING) assert.ok(types.has(t), `no documentation example of ${t} runs`);
  });

  it('refuses the examples that ask for what Gatehouse does not do, saying why', async () => {
    assert.ok(refused.length >= 2);
    const dir = tempDir('gh-shaping-refused-');
    for (const { file, middleware } of refused) {
      const path = writeFile(
        dir,
        'refused.yaml',
        stringify({
          version: 2,
          middlewares: [middleware],
          routes: [
            { name: 'r', path: '/', backends: [{ endpoint: 'http://127.0.0.1:1' }], middlewares: [middleware.name] },
          ],
        }),
      );
      const result = await runCli(['validate', path], { env });
      assert.equal(result.code, 1, file);
      assert.match(result.stdout + result.stderr, REFUSED[file] as RegExp, file);
    }
  });

  for (const [index, e] of examples.entries()) {
    const rule = e.middleware.rule ?? {};
    const route = `ex${index}`;
    it(`${e.file}: ${e.middleware.type} (${e.middleware.name})`, async () => {
      switch (e.middleware.type) {
        case 'requestHeaders': {
          const set = (rule.setHeaders ?? {}) as Record<string, string>;
          const remove = (rule.removeHeaders ?? []) as string[];
          const sent: Record<string, string> = {};
          for (const name of [...remove, ...Object.keys(set)]) sent[name.toLowerCase()] = 'from-client';
          const path = e.middleware.paths?.[0]?.replace('*', 'x') ?? '/x';
          const echo = JSON.parse((await send(e.host, path, { headers: sent })).body) as {
            headers: Record<string, string>;
          };
          for (const name of remove)
            if (!(name in set)) assert.equal(echo.headers[name.toLowerCase()], undefined, name);
          for (const [name, value] of Object.entries(set)) {
            assert.equal(echo.headers[name.toLowerCase()], value === '' ? undefined : fill(value, route), name);
          }
          break;
        }
        case 'responseHeaders': {
          const cors = rule.cors as { enabled?: boolean; origins?: string[]; allowCredentials?: boolean } | undefined;
          const origin = cors?.origins?.[0] ?? 'https://client.example';
          const answer = await send(e.host, '/', { headers: { origin } });
          assert.equal(answer.status, 200);
          // Every response, not only 200s as in Goma: a backend's 404 gets them too.
          const notFound = await send(e.host, '/status/404', { headers: { origin } });
          assert.equal(notFound.status, 404);
          for (const [name, value] of Object.entries((rule.setHeaders ?? {}) as Record<string, string>)) {
            const want = value === '' ? undefined : fill(value, route);
            assert.equal(answer.headers[name.toLowerCase()], want, name);
            assert.equal(notFound.headers[name.toLowerCase()], want, `${name} on a 404`);
          }
          if (typeof rule.cacheControl === 'string') assert.equal(answer.headers['cache-control'], rule.cacheControl);
          for (const c of (rule.setCookies ?? []) as Array<{ name: string; value: string }>) {
            const cookies = (answer.headers['set-cookie'] ?? []).join('\n');
            assert.match(cookies, new RegExp(`${c.name}=${fill(c.value, route)}`));
          }
          if (cors?.enabled) {
            assert.equal(answer.headers['access-control-allow-origin'], origin);
            assert.match(String(answer.headers.vary), /Origin/);
            if (cors.allowCredentials) assert.equal(answer.headers['access-control-allow-credentials'], 'true');
            const preflight = await send(e.host, '/', {
              method: 'OPTIONS',
              headers: { origin, 'access-control-request-method': 'POST' },
            });
            assert.equal(preflight.status, 204);
            assert.equal(preflight.headers['access-control-allow-origin'], origin);
            const stranger = await send(e.host, '/', { headers: { origin: 'https://evil.example' } });
            assert.equal(stranger.headers['access-control-allow-origin'], undefined);
          }
          break;
        }
        case 'bodyLimit': {
          const limit = String(rule.limit);
          const bytes = { '1MiB': 1024 * 1024, '512KB': 512_000, '50MiB': 50 * 1024 * 1024, '1GB': 1e9 }[limit];
          assert.ok(bytes !== undefined, limit);
          const small = await send(e.host, '/', { method: 'POST', body: Buffer.alloc(1000, 97) });
          assert.equal(small.status, 200);
          assert.equal((JSON.parse(small.body) as { size: number }).size, 1000);
          if (bytes <= 1024 * 1024) {
            const big = await send(e.host, '/', { method: 'POST', body: Buffer.alloc(bytes + 1, 97) });
            assert.equal(big.status, 413, `${limit} + 1 byte`);
          }
          break;
        }
        case 'redirect': {
          const answer = await send(e.host, '/any?x=1');
          assert.equal(answer.status, rule.permanent === true ? 301 : 302);
          assert.equal(answer.headers.location, rule.url);
          break;
        }
        case 'redirectScheme': {
          const answer = await send(e.host, '/a/b?c=d');
          assert.equal(answer.status, rule.permanent === true ? 301 : 302);
          const p = rule.port === undefined || rule.port === 443 ? '' : `:${rule.port}`;
          assert.equal(answer.headers.location, `${rule.scheme}://${e.host}${p}/a/b?c=d`);
          break;
        }
        case 'redirectRegex': {
          const answer = await send(e.host, '/oldpath/some/page');
          assert.equal(answer.status, rule.permanent === true ? 301 : 302);
          assert.equal(answer.headers.location, 'https://newdomain.com/newpath/some/page');
          assert.equal((await send(e.host, '/elsewhere')).status, 200, 'no match: forwarded');
          break;
        }
        case 'rewriteRegex': {
          const echo = JSON.parse((await send(e.host, '/oldpath/a/b?q=1')).body) as { url: string };
          assert.equal(echo.url, '/newpath/a/b?q=1');
          break;
        }
        case 'addPrefix': {
          const echo = JSON.parse((await send(e.host, '/api/resource')).body) as { url: string };
          assert.equal(echo.url, '/prefix/api/resource');
          break;
        }
        case 'errorInterceptor': {
          const errors = (rule.errors ?? []) as Array<{ statusCode: number; body?: string }>;
          for (const err of errors) {
            const answer = await send(e.host, `/status/${err.statusCode}`, { headers: { accept: 'application/json' } });
            assert.equal(answer.status, err.statusCode);
            if (err.body !== undefined) assert.equal(answer.body, err.body);
            else assert.match(answer.body, /"requestId"/, 'the gateway error body replaces the backend one');
            assert.doesNotMatch(answer.body, /backend error/);
          }
          const untouched = await send(e.host, '/status/418');
          assert.equal(untouched.body, 'backend error!!\n', 'statuses not listed pass through');
          break;
        }
        case 'accessLog': {
          const fields = rule as { headers?: string[]; query?: string[]; cookies?: string[] };
          const headers: Record<string, string> = { authorization: 'Bearer secret-token' };
          for (const h of fields.headers ?? []) headers[h.toLowerCase()] = `v-${h}`;
          const cookie = (fields.cookies ?? []).map((c) => `${c}=c-${c}`).join('; ');
          if (cookie !== '') headers.cookie = cookie;
          const query = (fields.query ?? []).map((q) => `${q}=q-${q}`).join('&');
          const id = `shaping-${index}`;
          headers['x-request-id'] = id;
          await send(e.host, `/api/x${query === '' ? '' : `?${query}`}`, { headers });
          const line = await gateway.waitForLog((l) => l.msg === 'request' && l.reqId === id, 10_000);
          const text = JSON.stringify(line);
          for (const h of fields.headers ?? []) {
            if (h.toLowerCase() !== 'x-request-id') assert.match(text, new RegExp(`v-${h}`));
          }
          assert.match(text, new RegExp(`"x-request-id":"${id}"`));
          for (const q of fields.query ?? []) assert.match(text, new RegExp(`q-${q}`));
          for (const c of fields.cookies ?? []) assert.match(text, new RegExp(`c-${c}`));
          assert.doesNotMatch(text, /secret-token/, 'Authorization is never logged unless named');
          break;
        }
        case 'rateLimit': {
          // Goma's examples allow at least one request per second: the first few pass.
          for (let i = 0; i < 3; i++) assert.equal((await send(e.host, '/')).status, 200);
          break;
        }
        default:
          assert.fail(`no check for ${e.middleware.type}`);
      }
    });
  }
});
