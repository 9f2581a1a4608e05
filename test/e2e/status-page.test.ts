// The status page on the admin listener, driven in headless Chromium (Debian's `chromium`, through
// playwright-core; no browser is downloaded) against `gatehouse run` with 2 workers, two routes, a
// health-checked backend, certificates and an admin token. What the page shows is checked against
// /status; a backend that dies, a worker that is killed and a reload show up without reloading the
// page; a route name and a certificate subject holding markup stay text. Screenshots are kept in the
// test's temporary folder (and, with GATEHOUSE_SCREENSHOT_OUT=FILE, written there for the README).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { copyFileSync, writeFileSync } from 'node:fs';
import {
  createServer,
  type IncomingMessage,
  request as httpRequest,
  type Server,
  type ServerResponse,
} from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CaHandle, createCa, issueCertificate } from '@gatehouse/pki';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { type GatewayProcess, startGateway, tempDir } from '../support/gateway.ts';
import { type GatewayHead, gatewayHead } from '../support/gateway-config.ts';
import { call as request, type Reply } from '../support/http.ts';
import { missingPackage } from '../support/services.ts';
import * as format from '@gatehouse/control/status-page/format';

const TOKEN = 'status-page-token-8c1d2e3f4a';
const XSS_ROUTE = '<script>window.__xss="route"</script><img src=x onerror="window.__xss=1">';
// Gatehouse reports subjects as RFC 2253 strings, which escape `<` and `>` with a backslash; the
// `<img … >` part would still become an element if the page ever parsed the subject as HTML.
const XSS_SUBJECT = '<script>window.__xss=2</script><img src=x onerror=alert(1) >';
const DAY_MS = 86_400_000;

interface StatusDoc {
  at: string;
  version: string;
  pid: number;
  generation: number;
  configFile: string;
  lastReload: { accepted: boolean; message: string } | null;
  workers: Array<{ pid: number; generation: number }>;
  routes: Array<{
    name: string;
    path: string;
    hosts: string[];
    clientAuth: string;
    middlewares: string[];
    backends: Array<{ endpoint: string; weight: number; up: boolean; lastProbe: { ok: boolean } | null }>;
    traffic: {
      requestsLastMinute: number;
      share4xx: number | null;
      share5xx: number | null;
      p50Ms: number | null;
      p99Ms: number | null;
    };
  }>;
  certificates: Array<{ serial: string; names: string[]; subject: string; issuer: string; daysLeft: number }>;
}

const lastMinute = (doc: StatusDoc) => doc.routes.reduce((n, r) => n + r.traffic.requestsLastMinute, 0);

function call(
  port: number,
  method: string,
  path: string,
  token: string | null = TOKEN,
  host: string | null = null,
): Promise<Reply> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (host !== null) headers.host = host;
  return request({ port, method, path, headers, timeoutMs: 30_000 });
}

function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1');
  return once(server, 'listening').then(() => {
    const address = server.address();
    return { server, port: typeof address === 'object' && address ? address.port : 0 };
  });
}

describe('status page in Chromium', { skip: missingPackage('chromium', 'chromium') }, () => {
  let dir = '';
  let gateway: GatewayProcess;
  let context: BrowserContext;
  let page: Page;
  let ca: CaHandle;
  let api: { server: Server; port: number };
  let web: { server: Server; port: number };
  let head: GatewayHead;
  let webPort = 0;
  let adminPort = 0;
  let configFile = '';
  let serverSerial = '';
  let soonSerial = '';
  const loads: string[] = [];
  const pageErrors: string[] = [];

  const configText = (extraRoutes = '', extraCertificates = '') => `${head.text}      - cert: ${join(dir, 'soon.crt')}
        key: ${join(dir, 'soon.key')}
${extraCertificates}middlewares:
  - name: block-bots
    type: userAgentBlock
    rule:
      userAgents: [Googlebot]
routes:
  - name: api
    path: /api
    hosts: [localhost, status.test]
    backends:
      - endpoint: http://127.0.0.1:${api.port}
        weight: 3
    healthCheck:
      path: /healthz
      interval: 500ms
      timeout: 400ms
      fall: 2
      rise: 1
  - name: web
    path: /
    clientAuth:
      mode: off
    middlewares: [block-bots]
    backends:
      - endpoint: http://127.0.0.1:${web.port}
${extraRoutes}`;

  const status = async () => JSON.parse((await call(adminPort, 'GET', '/status')).body) as StatusDoc;
  const text = async (selector: string) => (await page.locator(selector).first().textContent()) ?? '';
  const shot = async (name: string, options: { fullPage?: boolean } = {}) => {
    const path = join(dir, name);
    await page.screenshot({ path, fullPage: options.fullPage ?? true });
    return path;
  };

  before(async () => {
    dir = tempDir('gatehouse-status-page-');
    ca = await createCa(dir, { name: 'root', cn: 'Status Page Test Root' });
    const server = await issueCertificate(ca, {
      name: 'server',
      cn: 'status.test',
      dns: ['status.test', 'localhost'],
      usage: 'server',
    });
    const soon = await issueCertificate(ca, {
      name: 'soon',
      cn: 'soon.test',
      dns: ['soon.test'],
      usage: 'server',
      notAfter: new Date(Date.now() + 10 * DAY_MS),
    });
    serverSerial = server.serial;
    soonSerial = soon.serial;
    writeFileSync(join(dir, 'server.crt'), server.certPem);
    writeFileSync(join(dir, 'server.key'), server.keyPem);
    writeFileSync(join(dir, 'soon.crt'), soon.certPem);
    writeFileSync(join(dir, 'soon.key'), soon.keyPem);
    api = await listen((req, res) => {
      req.resume();
      res.end('api');
    });
    web = await listen((req, res) => {
      req.resume();
      res.statusCode = req.url === '/missing' ? 404 : 200;
      res.end('web');
    });
    head = await gatewayHead({
      tls: { cert: join(dir, 'server.crt'), key: join(dir, 'server.key') },
      admin: { token: TOKEN },
      gateway: ['  log: { accessLog: false }', '  watch: { enabled: false }'],
    });
    ({ webPort, adminPort } = head);
    configFile = join(dir, 'gatehouse.yaml');
    writeFileSync(configFile, configText());
    gateway = await startGateway(configFile, { workers: 2 });
    await gateway.waitForLog((l) => l.msg === 'admin listening', 10_000, '"admin listening"');

    context = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 900 },
      colorScheme: 'light',
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('load', () => loads.push(page.url()));
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  after(async () => {
    await context?.close();
    await gateway?.stop();
    api?.server.close();
    web?.server.close();
  });

  it('asks for the admin token once, keeps it for the session, and refuses a wrong one', async () => {
    await page.goto(`http://127.0.0.1:${adminPort}/`);
    await page.locator('#token-form').waitFor({ state: 'visible' });
    await page.fill('#token-input', 'not-the-admin-token');
    await page.click('#token-form button');
    await page.locator('#token-label', { hasText: 'not accepted' }).waitFor();
    await page.fill('#token-input', TOKEN);
    await page.click('#token-form button');
    await page.locator('#gateway [data-field="generation"]', { hasText: '1' }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('gatehouse.adminToken')), TOKEN);
    // A reload of the page does not ask again.
    await page.reload();
    await page.locator('#gateway [data-field="generation"]', { hasText: '1' }).waitFor();
    assert.equal(await page.locator('#token-form').isVisible(), false);
    const headers = (await page.request.get(`http://127.0.0.1:${adminPort}/`)).headers();
    assert.match(headers['content-security-policy'] ?? '', /default-src 'none'; script-src 'self'/);
  });

  it('computes one document per tick for every viewer: three streams receive the same documents', async () => {
    const streams = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise<IncomingMessage>((resolve, reject) => {
            const headers = { authorization: `Bearer ${TOKEN}` };
            httpRequest({ host: '127.0.0.1', port: adminPort, path: '/status/stream', headers, agent: false }, resolve)
              .on('error', reject)
              .end();
          }),
      ),
    );
    const seen = await Promise.all(
      streams.map(async (res) => {
        assert.equal(res.statusCode, 200);
        const ats: string[] = [];
        let text = '';
        res.setEncoding('utf8');
        for await (const chunk of res) {
          text += chunk as string;
          let end = text.indexOf('\n\n');
          while (end !== -1) {
            const data = /^data: (.*)$/m.exec(text.slice(0, end))?.[1];
            if (data) ats.push((JSON.parse(data) as { at: string }).at);
            text = text.slice(end + 2);
            end = text.indexOf('\n\n');
          }
          if (ats.length >= 4) break;
        }
        res.destroy();
        return ats;
      }),
    );
    const common = seen[0]!.filter((at) => seen[1]!.includes(at) && seen[2]!.includes(at));
    assert.ok(common.length >= 2, `documents seen by all three viewers: ${JSON.stringify(seen)}`);
  });

  it('shows what /status says: gateway, workers, routes, backends, certificates', async () => {
    // 30 requests answered 200 by api; 10 answered 404 and 10 answered 200 by web. The page's
    // minute-long shares and percentiles then stay fixed while the values are compared.
    // Spread over a few seconds, so that the charts have more than one point.
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 3; i++) await call(webPort, 'GET', '/api/x', null, 'localhost');
      await call(webPort, 'GET', '/missing', null);
      await call(webPort, 'GET', '/hello', null);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    // Once the primary has counted all 50, wait for the page to show a document made after that.
    let counted = await status();
    for (let i = 0; i < 100 && lastMinute(counted) < 50; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      counted = await status();
    }
    assert.equal(lastMinute(counted), 50);
    for (let i = 0; i < 100; i++) {
      const shown = (await page.locator('#report').getAttribute('data-at')) ?? '';
      if (Date.parse(shown) > Date.parse(counted.at)) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const doc = await status();
    assert.equal(await text('[data-field="version"]'), doc.version);
    assert.equal(await text('#gateway [data-field="pid"]'), String(doc.pid));
    assert.equal(await text('[data-field="config-file"]'), doc.configFile);
    assert.equal(await text('#gateway [data-field="generation"]'), String(doc.generation));
    assert.equal(await text('[data-field="last-reload"]'), 'none since start');

    const workerPids = await page
      .locator('tr[data-worker]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-worker')));
    assert.deepEqual(workerPids.sort(), doc.workers.map((w) => String(w.pid)).sort());
    assert.equal(workerPids.length, 2);
    for (const rss of await page.locator('tr[data-worker] [data-field="rss"]').allTextContents()) {
      assert.match(rss, /^\d+ MiB$/);
    }

    for (const route of doc.routes) {
      const card = page.locator(`article.route[data-route="${route.name}"]`);
      assert.equal(await card.locator('[data-field="name"]').textContent(), route.name);
      assert.equal(await card.locator('[data-field="path"]').textContent(), route.path);
      assert.equal(
        await card.locator('[data-field="hosts"]').textContent(),
        route.hosts.length > 0 ? route.hosts.join(', ') : 'any host',
      );
      assert.equal(await card.locator('[data-field="client-auth"]').textContent(), route.clientAuth);
      assert.equal(
        await card.locator('[data-field="middlewares"]').textContent(),
        route.middlewares.length > 0 ? route.middlewares.join(' → ') : 'none',
      );
      assert.equal(
        await card.locator('[data-field="share4xx"]').textContent(),
        format.formatShare(route.traffic.share4xx),
      );
      assert.equal(
        await card.locator('[data-field="share5xx"]').textContent(),
        format.formatShare(route.traffic.share5xx),
      );
      assert.equal(await card.locator('[data-field="p50"]').textContent(), format.formatMs(route.traffic.p50Ms));
      assert.equal(await card.locator('[data-field="p99"]').textContent(), format.formatMs(route.traffic.p99Ms));
      for (const backend of route.backends) {
        const row = card.locator('tr[data-backend]');
        assert.equal(await row.getAttribute('data-backend'), backend.endpoint);
        assert.equal(await row.locator('[data-field="weight"]').textContent(), String(backend.weight));
        assert.equal(await row.getAttribute('data-state'), backend.up ? 'up' : 'down');
      }
    }
    const apiRoute = doc.routes.find((r) => r.name === 'api');
    assert.equal(apiRoute?.traffic.share4xx, 0);
    assert.ok(apiRoute?.traffic.p50Ms !== null);
    assert.equal(doc.routes.find((r) => r.name === 'web')?.traffic.share4xx, 0.5);
    assert.deepEqual(doc.routes.find((r) => r.name === 'web')?.middlewares, ['block-bots']);
    // The health-checked backend shows its last probe with result and latency.
    await page.locator('[data-route="api"] [data-field="probe"]', { hasText: /^ok 200 · [\d.]+ ms$/ }).waitFor();
    assert.equal(await text('[data-route="api"] [data-field="state"]'), '✓ UP');

    for (const cert of doc.certificates) {
      const row = page.locator(`tr[data-serial="${cert.serial}"]`);
      assert.equal(await row.locator('[data-field="names"]').textContent(), cert.names.join(', '));
      assert.equal(await row.locator('[data-field="subject"]').textContent(), cert.subject);
      assert.equal(await row.locator('[data-field="issuer"]').textContent(), cert.issuer);
      const expiry = format.certificateExpiry(cert.daysLeft);
      assert.equal(await row.getAttribute('data-expiry'), expiry.level);
    }
    assert.equal(await page.locator(`tr[data-serial="${serverSerial}"]`).getAttribute('data-expiry'), 'ok');
    // Under 14 days: highlighted, and said in words, not only in colour.
    const soonRow = page.locator(`tr[data-serial="${soonSerial}"]`);
    assert.equal(await soonRow.getAttribute('data-expiry'), 'soon');
    assert.match((await soonRow.locator('[data-field="expiry"]').textContent()) ?? '', /^⚠ expires in (9|10) days$/);

    // The charts have points and say their values in text.
    assert.ok((await page.locator('[data-chart="rps"] polyline').count()) >= 1);
    assert.match(
      (await page.locator('[data-chart="rps"] svg').getAttribute('aria-label')) ?? '',
      /^Requests per second/,
    );

    const artifact = await shot('status-page.png');
    if (process.env.GATEHOUSE_SCREENSHOT_OUT) copyFileSync(artifact, process.env.GATEHOUSE_SCREENSHOT_OUT);
  });

  it('fits 360 px without sideways scrolling, in dark mode too', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.setViewportSize({ width: 360, height: 800 });
    await page.locator('[data-route="api"]').waitFor();
    // Evaluated in the page (strings, since this file is type-checked without the DOM library).
    const widths = (await page.evaluate(
      '[document.documentElement.scrollWidth, document.documentElement.clientWidth]',
    )) as number[];
    assert.ok(widths[0]! <= widths[1]!, `page is ${widths[0]} px wide in a ${widths[1]} px window`);
    const background = await page.evaluate('getComputedStyle(document.body).backgroundColor');
    assert.equal(background, 'rgb(20, 22, 26)', 'dark background');
    await shot('status-page-360-dark.png');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('marks a backend that dies as down, without reloading the page', async () => {
    const loadsBefore = loads.length;
    await page.evaluate('window.__samePage = true');
    api.server.close();
    api.server.closeAllConnections();
    await page.locator('[data-route="api"] tr[data-backend][data-state="down"]').waitFor({ timeout: 20_000 });
    assert.equal(await text('[data-route="api"] [data-field="state"]'), '✕ DOWN');
    assert.match(await text('[data-route="api"] [data-field="probe"]'), /^fail /);
    assert.match(await text('[data-route="api"] [data-field="since"]'), /ago$/);
    const doc = await status();
    assert.equal(doc.routes.find((r) => r.name === 'api')?.backends[0]?.up, false);
    assert.equal(loads.length, loadsBefore, 'no page load');
    assert.equal(await page.evaluate('window.__samePage'), true);
  });

  it('shows a respawned worker, without reloading the page', async () => {
    const before = await status();
    const victim = before.workers[0]!.pid;
    process.kill(victim, 'SIGKILL');
    const rows = page.locator('tr[data-worker]');
    await page.locator(`tr[data-worker="${victim}"]`).waitFor({ state: 'detached', timeout: 30_000 });
    await rows.nth(before.workers.length - 1).waitFor({ timeout: 30_000 });
    const pids = await rows.evaluateAll((list) => list.map((r) => r.getAttribute('data-worker')));
    assert.equal(pids.length, before.workers.length);
    const after = await status();
    assert.ok(after.workers.some((w) => pids.includes(String(w.pid)) && w.pid !== victim));
    assert.equal(await page.evaluate('window.__samePage'), true);
  });

  it('shows a reload: a rejected one with its error, then a new generation; markup in names stays text', async () => {
    writeFileSync(configFile, `${configText()}  - name: broken\n    path: /b\n    backends: []\n`);
    const rejected = await call(adminPort, 'POST', '/reload');
    assert.equal(rejected.status, 422);
    const error = (JSON.parse(rejected.body) as { message: string }).message;
    await page.locator('[data-field="reload-result"]', { hasText: 'REJECTED' }).waitFor();
    assert.equal(await text('[data-field="reload-message"]'), error);
    assert.equal(await text('#gateway [data-field="generation"]'), '1');

    const xss = await issueCertificate(ca, { name: 'xss', cn: XSS_SUBJECT, dns: ['xss.test'], usage: 'server' });
    writeFileSync(join(dir, 'xss.crt'), xss.certPem);
    writeFileSync(join(dir, 'xss.key'), xss.keyPem);
    writeFileSync(
      configFile,
      configText(
        `  - name: ${JSON.stringify(XSS_ROUTE)}\n    path: /xss\n    backends:\n      - endpoint: http://127.0.0.1:${web.port}\n`,
        `      - cert: ${join(dir, 'xss.crt')}\n        key: ${join(dir, 'xss.key')}\n`,
      ),
    );
    const accepted = await call(adminPort, 'POST', '/reload');
    assert.equal(accepted.status, 200, accepted.body);
    await page.locator('#gateway [data-field="generation"]', { hasText: '2' }).waitFor();
    assert.equal(await page.locator('#connection').textContent(), 'live · generation 2');
    assert.equal(await text('[data-field="reload-result"]'), '✓ accepted');

    const route = page.locator('article.route').filter({ has: page.locator('h3', { hasText: '<script>' }) });
    assert.equal(await route.locator('[data-field="name"]').textContent(), XSS_ROUTE);
    assert.equal(await route.getAttribute('data-route'), XSS_ROUTE);
    const certRow = page.locator(`tr[data-serial="${xss.serial}"]`);
    const xssSubject = (await status()).certificates.find((c) => c.serial === xss.serial)?.subject ?? '';
    assert.match(xssSubject, /<script\\>window\.__xss=2/);
    assert.equal(await certRow.locator('[data-field="subject"]').textContent(), xssSubject);
    assert.equal(await page.evaluate('window.__xss'), undefined);
    assert.equal(await page.locator('#report script, #report img').count(), 0);
    assert.deepEqual(pageErrors, []);
    assert.equal(await page.evaluate('window.__samePage'), true);
    await shot('status-page-after-reload.png');
  });
});
