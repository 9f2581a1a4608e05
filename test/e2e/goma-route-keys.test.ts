// Goma's small route keys through `gatehouse run`: `enabled: false` is not served, strictSlash
// redirects the bare prefix of a route written with a trailing slash, `disableMetrics` keeps a
// route out of the per-route series, and `proxy.enabled: false` believes nobody's X-Forwarded-For.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type GatewayProcess, startGateway, tempDir, writeFile } from '../support/gateway.ts';
import { gatewayHead } from '../support/gateway-config.ts';
import { get } from '../support/http.ts';

describe('Goma route keys through gatehouse run', () => {
  let backend: Server;
  let gateway: GatewayProcess;
  let port: number;
  let adminPort: number;

  before(async () => {
    backend = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ url: req.url, xff: req.headers['x-forwarded-for'] ?? null }));
    });
    backend.listen(0, '127.0.0.1');
    await once(backend, 'listening');
    const address = backend.address();
    const target = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const head = await gatewayHead({
      gateway: ['  watch: { enabled: false }', '  proxy:', '    enabled: false', '    trustedProxies: [127.0.0.1/32]'],
    });
    ({ webPort: port, adminPort } = head);
    const config = writeFile(
      tempDir('gatehouse-goma-keys-'),
      'goma.yaml',
      `${head.text}routes:
  - name: docs
    path: /docs/
    target: ${target}
  - name: off
    path: /off
    enabled: false
    target: ${target}
  - name: quiet
    path: /quiet
    disableMetrics: true
    target: ${target}
`,
    );
    gateway = await startGateway(config, { workers: 1 });
  });

  after(async () => {
    await gateway?.stop();
    backend?.close();
  });

  it('redirects the bare prefix of a route written with a trailing slash, keeping the query', async () => {
    const bare = await get(port, '/docs?page=2');
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.location, '/docs/?page=2');
    const slashed = await get(port, '/docs/?page=2');
    assert.equal(slashed.status, 200);
    assert.equal(JSON.parse(slashed.body).url, '/docs/?page=2');
    const deeper = await get(port, '/docs/intro');
    assert.equal(deeper.status, 200);
  });

  it('does not serve a route with enabled: false', async () => {
    assert.equal((await get(port, '/off')).status, 404);
  });

  it('believes no X-Forwarded-For with proxy.enabled: false, even from a listed proxy', async () => {
    const answer = await get(port, '/quiet', { 'x-forwarded-for': '203.0.113.9' });
    assert.equal(answer.status, 200);
    const seen = JSON.parse(answer.body) as { xff: string };
    assert.doesNotMatch(seen.xff, /203\.0\.113\.9/);
    assert.match(seen.xff, /127\.0\.0\.1/);
  });

  it('leaves a route with disableMetrics out of the per-route series', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await get(port, '/quiet')).status, 200);
    const exposition = (await get(adminPort, '/metrics')).body;
    assert.match(exposition, /gatehouse_requests_total\{route="docs"/);
    assert.doesNotMatch(exposition, /gatehouse_request(s_total|_duration_seconds_bucket)\{[^}]*route="quiet"/);
    assert.doesNotMatch(exposition, /gatehouse_upstream_duration_seconds_bucket\{[^}]*route="quiet"/);
    // Health is not a request metric: the backend still has its gatehouse_backend_up.
    assert.match(exposition, /gatehouse_backend_up\{route="quiet"/);
  });
});
