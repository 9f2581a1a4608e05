// What a client may claim, and where a rewritten request may go, through the real `gatehouse run`:
// the same routes behind a gateway that trusts the loopback proxy (gateway.proxy.trustedProxies)
// and one that trusts nobody. X-Forwarded-For decides a rate-limit key (also when a header or cookie
// key falls back to the address), and X-Forwarded-Proto what redirectScheme saw, only from a
// trusted proxy. A rewrite that lands on another route's path stays in its own route, normalised;
// stripQuery acts on the parameters, methods and paths it names; bodyLimit counts a chunked body as
// it streams.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { freePort, type GatewayProcess, startGateway, tempDir, writeFile } from '../support/gateway.ts';
import { call, get } from '../support/http.ts';
import { allowed, statuses } from '../support/rate-limit.ts';

interface Seen {
  url: string;
  size: number;
}

interface TaggedBackend {
  server: http.Server;
  port: number;
  seen: Seen[];
}

/** A backend that records each request it got (URL and body size) and echoes them as JSON. */
async function startBackend(): Promise<TaggedBackend> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
    });
    req.on('end', () => {
      seen.push({ url: req.url ?? '', size });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ url: req.url, size }));
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { server, port: (server.address() as AddressInfo).port, seen };
}

function config(port: number, publicPort: number, adminPort: number, trusted: boolean): string {
  const route = (name: string, path: string, backend: number, middlewares: string[]) => `  - name: ${name}
    path: ${path}
    backends: [{ endpoint: "http://127.0.0.1:${backend}" }]
    middlewares: [${middlewares.join(', ')}]`;
  return `version: 2
gateway:
  entryPoints:
    web: { address: "127.0.0.1:${port}" }
  admin: { address: false }
  watch: { enabled: false }
  log: { accessLog: false }
${trusted ? '  proxy: { trustedProxies: [127.0.0.1/32] }' : ''}
middlewares:
  - name: per-ip
    type: rateLimit
    rule: { unit: hour, requestsPerUnit: 2 }
  - name: per-key
    type: rateLimit
    rule: { unit: hour, requestsPerUnit: 2, keyStrategy: { source: header, name: X-API-Key } }
  - name: per-session
    type: rateLimit
    rule: { unit: hour, requestsPerUnit: 2, keyStrategy: { source: cookie, name: session } }
  - name: to-https
    type: redirectScheme
    rule: { scheme: https, permanent: true }
  - name: into-admin
    type: rewriteRegex
    rule: { pattern: "^/public/(.*)$", replacement: "/public/../admin/$1" }
  - name: admin-only
    type: access
    rule: { statusCode: 403 }
  - name: registry-mounts
    type: stripQuery
    rule: { params: [mount, from], methods: [POST], pathPattern: "^/v2/.+/blobs/uploads/" }
  - name: small-body
    type: bodyLimit
    rule: { limit: 1KiB }
routes:
${[
  route('per-ip', '/per-ip', publicPort, ['per-ip']),
  route('per-key', '/per-key', publicPort, ['per-key']),
  route('per-session', '/per-session', publicPort, ['per-session']),
  route('to-https', '/to-https', publicPort, ['to-https']),
  route('public', '/public', publicPort, ['into-admin']),
  route('admin', '/admin', adminPort, ['admin-only']),
  route('registry', '/v2', publicPort, ['registry-mounts']),
  route('upload', '/upload', publicPort, ['small-body']),
].join('\n')}
`;
}

let publicBackend: TaggedBackend;
let adminBackend: TaggedBackend;
const gateways: Record<'trusted' | 'untrusted', { gw: GatewayProcess; port: number }> = {} as never;

before(async () => {
  publicBackend = await startBackend();
  adminBackend = await startBackend();
  for (const kind of ['trusted', 'untrusted'] as const) {
    const port = await freePort();
    const dir = tempDir(`gh-shaping-${kind}-`);
    const text = config(port, publicBackend.port, adminBackend.port, kind === 'trusted');
    gateways[kind] = {
      gw: await startGateway(writeFile(dir, 'gatehouse.yaml', text), { workers: 1, readyTimeoutMs: 120_000 }),
      port,
    };
  }
});
after(async () => {
  await Promise.all(Object.values(gateways).map((g) => g.gw.stop()));
  publicBackend?.server.close();
  adminBackend?.server.close();
});

const xff = (address: string, more: Record<string, string> = {}) => ({ 'x-forwarded-for': address, ...more });

describe('rate-limit keys follow gateway.proxy.trustedProxies', () => {
  it('from a trusted proxy, X-Forwarded-For is the client: one bucket per forwarded address', async () => {
    const { port } = gateways.trusted;
    assert.equal(allowed(await statuses(port, '/per-ip', 3, xff('203.0.113.1'))), 2);
    assert.equal(allowed(await statuses(port, '/per-ip', 3, xff('203.0.113.2'))), 2);
  });

  it('from anyone else, X-Forwarded-For is ignored: the peer address is the key', async () => {
    const { port } = gateways.untrusted;
    assert.equal(allowed(await statuses(port, '/per-ip', 2, xff('203.0.113.1'))), 2);
    assert.deepEqual(await statuses(port, '/per-ip', 2, xff('203.0.113.2')), [429, 429]);
  });

  it('a missing header or cookie key falls back to the address the proxy settings give', async () => {
    const trusted = gateways.trusted.port;
    const keys: Record<string, Record<string, string>> = {
      '/per-key': { 'x-api-key': 'k' },
      '/per-session': { cookie: 'session=s' },
    };
    for (const [path, key] of Object.entries(keys)) {
      assert.equal(allowed(await statuses(trusted, path, 3, xff('198.51.100.1'))), 2, path);
      assert.equal(allowed(await statuses(trusted, path, 3, xff('198.51.100.2'))), 2, path);
      assert.equal(allowed(await statuses(trusted, path, 3, xff('198.51.100.2', key))), 2, `${path}: its own key`);
    }
    const untrusted = gateways.untrusted.port;
    for (const path of ['/per-key', '/per-session']) {
      assert.equal(allowed(await statuses(untrusted, path, 2, xff('198.51.100.1'))), 2, path);
      assert.deepEqual(await statuses(untrusted, path, 2, xff('198.51.100.2')), [429, 429], path);
    }
  });
});

describe('redirectScheme', () => {
  it('believes X-Forwarded-Proto from a trusted proxy only', async () => {
    const trusted = gateways.trusted.port;
    assert.equal((await get(trusted, '/to-https/a', { 'x-forwarded-proto': 'https' })).status, 200);
    const plain = await get(trusted, '/to-https/a?b=1', { host: 'shop.example:8080' });
    assert.equal(plain.status, 301);
    assert.equal(plain.headers.location, 'https://shop.example/to-https/a?b=1');
    const forged = await get(gateways.untrusted.port, '/to-https/a', {
      host: 'shop.example',
      'x-forwarded-proto': 'https',
    });
    assert.equal(forged.status, 301, 'a client cannot say it came over https');
    assert.equal(forged.headers.location, 'https://shop.example/to-https/a');
  });
});

describe('rewriteRegex', () => {
  it("normalises the rewritten path and keeps the request in its route, away from the other route's policy", async () => {
    const before = adminBackend.seen.length;
    const answer = await get(gateways.trusted.port, '/public/panel?x=1');
    assert.equal(answer.status, 200, 'not refused by the admin route’s access middleware');
    assert.deepEqual(JSON.parse(answer.body), { url: '/admin/panel?x=1', size: 0 });
    assert.equal(adminBackend.seen.length, before, "the admin route's backend never saw it");
    assert.equal((await get(gateways.trusted.port, '/admin/panel')).status, 403, 'the admin route itself refuses');
  });
});

describe('stripQuery', () => {
  it('removes the named parameters only for the methods and paths given, the others in order', async () => {
    const port = gateways.trusted.port;
    const target = '/v2/lib/blobs/uploads/?mount=sha256:1&x=1&from=other&y=2';
    const post = await call({ port, method: 'POST', path: target });
    assert.equal(JSON.parse(post.body).url, '/v2/lib/blobs/uploads/?x=1&y=2');
    assert.equal(JSON.parse((await get(port, target)).body).url, target, 'GET is not listed');
    const other = '/v2/lib/manifests/?mount=1';
    assert.equal(
      JSON.parse((await call({ port, method: 'POST', path: other })).body).url,
      other,
      'path does not match',
    );
  });
});

describe('bodyLimit', () => {
  it('takes exactly the limit (1KiB = 1024 bytes), and counts a chunked body as it streams: 413', async () => {
    const port = gateways.trusted.port;
    const exact = await call({ port, method: 'POST', path: '/upload', body: Buffer.alloc(1024, 97) });
    assert.equal(exact.status, 200);
    assert.equal(JSON.parse(exact.body).size, 1024);
    const seen = publicBackend.seen.length;
    // No Content-Length: only the count of what streams through can stop it.
    const chunked = await call({
      port,
      method: 'POST',
      path: '/upload',
      headers: { 'transfer-encoding': 'chunked' },
      body: Buffer.alloc(1025, 97),
      bodyMayBeCut: true,
    });
    assert.equal(chunked.status, 413);
    assert.ok(
      publicBackend.seen.slice(seen).every((s) => s.url !== '/upload'),
      'the backend never got the body whole',
    );
  });
});
