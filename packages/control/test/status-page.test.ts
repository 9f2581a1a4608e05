// The status page's server side: its files and headers, the live feed shared by every viewer, and the
// page's own wording rules (status-page/format.js, plain JavaScript the browser loads as it is). The
// page in a real browser: test/e2e/status-page.test.ts.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, get, type IncomingMessage } from 'node:http';
import { after, describe, it } from 'node:test';
import type { StatusReport } from '../src/gateway-api.ts';
import { MAX_VIEWERS, StatusFeed } from '../src/status-feed.ts';
import { loadStatusPage, STATUS_PAGE_HEADERS } from '../src/status-page.ts';
import * as format from '../status-page/format.js';

describe('status page format.js', () => {
  it('says certificate expiry in words: ok, soon under 14 days, expired', () => {
    assert.deepEqual(format.certificateExpiry(30.2), { level: 'ok', text: '30 days' });
    assert.deepEqual(format.certificateExpiry(13.9), { level: 'soon', text: 'expires in 13 days' });
    assert.deepEqual(format.certificateExpiry(1.5), { level: 'soon', text: 'expires in 1 day' });
    assert.deepEqual(format.certificateExpiry(0.2), { level: 'soon', text: 'expires in 0 days' });
    assert.deepEqual(format.certificateExpiry(-0.5), { level: 'expired', text: 'EXPIRED 1 day ago' });
    assert.deepEqual(format.certificateExpiry(-26), { level: 'expired', text: 'EXPIRED 26 days ago' });
  });
  it('names a backend up, down or ejected', () => {
    assert.equal(format.backendState({ up: true, ejectedUntil: 0 }, 1000), 'up');
    assert.equal(format.backendState({ up: false, ejectedUntil: 0 }, 1000), 'down');
    assert.equal(format.backendState({ up: true, ejectedUntil: 2000 }, 1000), 'ejected');
    assert.equal(format.backendState({ up: true, ejectedUntil: 500 }, 1000), 'up');
  });
  it('formats probes, rates, shares, latencies and ages', () => {
    assert.equal(format.describeProbe(null), 'not probed');
    assert.equal(format.describeProbe({ ok: true, status: 200, latencyMs: 3.25, error: null }), 'ok 200 · 3.3 ms');
    assert.equal(
      format.describeProbe({ ok: false, status: null, latencyMs: null, error: 'ECONNREFUSED' }),
      'fail ECONNREFUSED',
    );
    assert.equal(format.formatRate(null), '–');
    assert.equal(format.formatRate(0), '0');
    assert.equal(format.formatRate(2.34), '2.3');
    assert.equal(format.formatRate(123.4), '123');
    assert.equal(format.formatShare(null), '–');
    assert.equal(format.formatShare(0.5), '50 %');
    assert.equal(format.formatShare(0.0125), '1.3 %');
    assert.equal(format.formatShare(0.0001), '<0.1 %');
    assert.equal(format.formatMs(0.42), '0.42 ms');
    assert.equal(format.formatMs(42.4), '42 ms');
    assert.equal(format.formatMs(12_500), '12.5 s');
    assert.equal(format.formatDuration(3725), '1h02m');
    assert.equal(format.since(null, 0), 'never');
    assert.equal(format.since('1970-01-01T00:00:00.000Z', 61_000), '1m01s ago');
  });
});

describe('status page files', () => {
  it('serves index.html at / and the rest under /ui/, with a strict Content-Security-Policy', () => {
    const files = loadStatusPage();
    const paths = files.map((f) => f.path);
    assert.ok(paths.includes('/'));
    for (const module of [
      '/ui/app.js',
      '/ui/render.js',
      '/ui/dom.js',
      '/ui/format.js',
      '/ui/charts.js',
      '/ui/status.css',
    ]) {
      assert.ok(paths.includes(module), module);
    }
    const html = files.find((f) => f.path === '/')!.body.toString('utf8');
    // Nothing from elsewhere, and no inline script or style the policy would have to allow.
    assert.doesNotMatch(html, /https?:\/\//);
    assert.doesNotMatch(html, /<script>|<style|style="/);
    for (const file of files) assert.doesNotMatch(file.body.toString('utf8'), /https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    // Values reach the DOM as text only.
    for (const file of files.filter((f) => f.path.endsWith('.js'))) {
      assert.doesNotMatch(
        file.body.toString('utf8'),
        /innerHTML|outerHTML|insertAdjacentHTML|document\.write/,
        file.path,
      );
    }
    const csp = STATUS_PAGE_HEADERS['content-security-policy']!;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.match(csp, /connect-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
  });
});

describe('StatusFeed', () => {
  const servers: Array<ReturnType<typeof createServer>> = [];
  after(() => {
    for (const server of servers) server.close();
  });

  async function feedServer(feed: StatusFeed): Promise<number> {
    const server = createServer((_req, res) => {
      if (!feed.subscribe(res)) {
        res.writeHead(503);
        res.end();
      }
    });
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as { port: number }).port;
  }

  function open(port: number): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      get({ host: '127.0.0.1', port, path: '/', agent: false }, resolve).on('error', reject);
    });
  }

  /** Reads until `count` events have arrived; returns their data lines. */
  async function events(res: IncomingMessage, count: number): Promise<string[]> {
    let text = '';
    res.setEncoding('utf8');
    for await (const chunk of res) {
      text += chunk as string;
      const found = text.split('\n\n').filter((block) => block.startsWith('event: status'));
      if (found.length >= count) return found.slice(0, count).map((b) => b.split('\ndata: ')[1]!);
    }
    return [];
  }

  it('serialises each document once for every viewer, and sends the latest to a new one', async () => {
    const feed = new StatusFeed();
    const port = await feedServer(feed);
    const viewers = await Promise.all([open(port), open(port), open(port)]);
    for (const res of viewers) assert.equal(res.headers['content-type'], 'text/event-stream; charset=utf-8');
    while (feed.viewerCount < 3) await new Promise((resolve) => setImmediate(resolve));
    let serialised = 0;
    const report = {
      generation: 7,
      toJSON() {
        serialised++;
        return { generation: 7 };
      },
    } as unknown as StatusReport;
    const reading = viewers.map((res) => events(res, 1));
    feed.publish(report);
    const doc = ['{"generation":7}'];
    assert.deepEqual(await Promise.all(reading), [doc, doc, doc]);
    assert.equal(serialised, 1);
    // A viewer that arrives later gets the last document at once.
    const late = await open(port);
    assert.deepEqual(await events(late, 1), ['{"generation":7}']);
    assert.equal(serialised, 1);
    for (const res of [...viewers, late]) res.destroy();
    feed.close();
  });

  it('refuses viewers beyond the limit', async () => {
    const feed = new StatusFeed();
    const port = await feedServer(feed);
    const viewers = await Promise.all(Array.from({ length: MAX_VIEWERS }, () => open(port)));
    const refused = await open(port);
    assert.equal(refused.statusCode, 503);
    refused.resume();
    for (const res of viewers) res.destroy();
    feed.close();
  });
});
