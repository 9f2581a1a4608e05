// Slow and vanishing clients on the HTTPS listener, through the real `gatehouse run` (2 workers):
// - TLS deadlines: HTTP/1.1 over TLS is held to `timeouts.requestHeader` and `timeouts.request`
//   like the plain listener (not only to Node's 30 s connection-check tick);
// - h2 deadlines: an h2 stream whose body trickles is ended by `timeouts.request`;
// - h2 resets release the backend: a stream the client resets, or that is refused mid-body
//   (content-length longer than the data), destroys its upstream request at once, and is logged 499.
// The waits below are upper bounds far above the configured deadlines (1 s, 3 s); they only keep a
// broken build from hanging the suite.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CaHandle, createCa, issueCertificate } from '@gatehouse/pki';
import { FLAG, FRAME, frame, RawH2 } from '../../packages/dataplane/test/h2-raw.ts';
import { type GatewayProcess, startGateway, tempDir, writeConfig } from '../support/gateway.ts';
import { gatewayHead, oneRoute } from '../support/gateway-config.ts';

const dir = tempDir('gh-slow-clients-');
let ca: CaHandle;
let gateway: GatewayProcess;
let port = 0;
let backend: http.Server;
/** Requests the backend holds open right now, and all it has seen. */
const open = new Set<http.IncomingMessage>();
let seen = 0;

before(async () => {
  ca = await createCa(dir, { name: 'ca' });
  const server = await issueCertificate(ca, { name: 'server', cn: 'localhost', dns: ['localhost'], usage: 'server' });
  // A backend that never answers a request to /hold: only a client or the gateway can end it.
  backend = http.createServer((req, res) => {
    seen++;
    open.add(req);
    req.socket.once('close', () => open.delete(req));
    req.resume();
    if (req.url?.startsWith('/hold')) return;
    req.on('end', () => res.end('ok'));
  });
  backend.listen(0, '127.0.0.1');
  await once(backend, 'listening');
  const head = await gatewayHead({
    tls: { cert: server.certPath, key: server.keyPath },
    gateway: [
      '  watch: { enabled: false }',
      '  timeouts: { requestHeader: 1s, request: 3s, upstreamResponse: 50s }',
      '  limits: { maxConcurrentStreams: 20 }',
    ],
  });
  port = head.webSecurePort;
  const target = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
  const config = writeConfig(dir, [...head.lines, ...oneRoute(target)]);
  gateway = await startGateway(config, { workers: 2 });
});

after(async () => {
  await gateway?.stop();
  backend?.closeAllConnections();
  backend?.close();
});

/** Resolves when `socket` closes, or with 'open' after `boundMs`. */
async function closedWithin(socket: tls.TLSSocket, boundMs: number): Promise<'closed' | 'open'> {
  if (socket.destroyed) return 'closed';
  const timer = sleep(boundMs).then(() => 'open' as const);
  // Not events.once: it rejects on the 'error' (EPIPE, ECONNRESET) that a cut connection may raise first.
  const closed = new Promise<'closed'>((resolve) => socket.once('close', () => resolve('closed')));
  return Promise.race([closed, timer]);
}

async function waitFor(test: () => boolean, boundMs: number): Promise<boolean> {
  const until = Date.now() + boundMs;
  while (Date.now() < until) {
    if (test()) return true;
    await sleep(50);
  }
  return test();
}

/** Sends `head` over TLS (HTTP/1.1), then one byte every 300 ms until the gateway cuts it or `boundMs`. */
async function trickleOverTls(head: string, boundMs: number): Promise<{ closed: 'closed' | 'open'; answer: string }> {
  const socket = tls.connect({
    port,
    host: '127.0.0.1',
    servername: 'localhost',
    ca: ca.certPem,
    ALPNProtocols: ['http/1.1'],
  });
  socket.on('error', () => {});
  await once(socket, 'secureConnect');
  let answer = '';
  socket.setEncoding('utf8').on('data', (d: string) => {
    answer += d;
  });
  socket.write(head);
  const trickle = setInterval(() => {
    if (socket.writable) socket.write('x', () => {});
  }, 300);
  try {
    return { closed: await closedWithin(socket, boundMs), answer };
  } finally {
    clearInterval(trickle);
    socket.destroy();
  }
}

describe('slow clients on the HTTPS listener', () => {
  it('TLS deadlines: an HTTP/1.1-over-TLS client trickling its headers is cut at requestHeader, not at Node’s 30 s tick', async () => {
    const { closed, answer } = await trickleOverTls('GET / HTTP/1.1\r\nHost: localhost\r\n', 12_000);
    assert.equal(closed, 'closed', 'cut long before 30 s');
    if (answer !== '') assert.match(answer, /^HTTP\/1\.1 408 /);
  });

  it('TLS deadlines: an HTTP/1.1-over-TLS body trickled past timeouts.request is cut', async () => {
    const head = 'POST /body HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n';
    assert.equal((await trickleOverTls(head, 15_000)).closed, 'closed', 'cut long before 30 s');
  });

  it('h2 deadlines: an h2 stream whose body trickles is ended by timeouts.request', async () => {
    const h2 = await RawH2.connect(port, 'localhost', ca.certPem);
    try {
      h2.request(
        1,
        [
          [':method', 'POST'],
          [':scheme', 'https'],
          [':authority', 'localhost'],
          [':path', '/trickle'],
          ['content-length', '1000'],
        ],
        false,
      );
      let stop = false;
      const trickle = (async () => {
        while (!stop && !h2.closed) {
          h2.socket.write(frame(FRAME.DATA, 0, 1, Buffer.from('x')));
          await sleep(300);
        }
      })();
      try {
        const outcome = await h2.outcome(1, 15_000);
        assert.ok(
          (outcome.kind === 'response' && outcome.detail === 408) || outcome.kind === 'reset',
          `the stream was ended: ${JSON.stringify(outcome)}`,
        );
      } finally {
        stop = true;
        await trickle;
      }
      assert.ok(await waitFor(() => open.size === 0, 5_000), 'and its upstream request was closed');
      assert.ok(
        await waitFor(() => gateway.lines.some((l) => l.path === '/trickle' && l.status === 408), 5_000),
        'logged as 408',
      );
    } finally {
      h2.close();
    }
  });

  it('h2 deadlines: the streams of one session that hold a backend request are capped (maxConcurrentStreams)', async () => {
    const before = seen;
    const h2 = await RawH2.connect(port, 'localhost', ca.certPem);
    try {
      const ids = Array.from({ length: 30 }, (_, i) => 2 * i + 1);
      for (const id of ids) {
        h2.request(id, [
          [':method', 'GET'],
          [':scheme', 'https'],
          [':authority', 'localhost'],
          [':path', `/hold/cap/${id}`],
        ]);
      }
      assert.ok(await waitFor(() => seen - before >= 20, 10_000), `20 reached the backend (${seen - before})`);
      await sleep(500);
      assert.equal(seen - before, 20, 'no more than the cap at once');
      assert.ok(open.size <= 20, `${open.size} backend requests open`);
      const refused = ids
        .slice(20)
        .map((id) => h2.frames.find((f) => f.streamId === id && f.type === FRAME.RST_STREAM));
      assert.ok(
        refused.every((f) => f !== undefined && f.payload.readUInt32BE(0) === 7),
        'the rest were refused (REFUSED_STREAM)',
      );
    } finally {
      h2.close();
    }
    assert.ok(await waitFor(() => open.size === 0, 5_000), 'closing the session freed every backend request');
  });

  it('h2 resets release the backend: reset streams and streams refused mid-body destroy their upstream request at once, logged 499', async () => {
    const mark = gateway.lines.length;
    const before = seen;
    const h2 = await RawH2.connect(port, 'localhost', ca.certPem);
    const streams = [1, 3, 5, 7, 9, 11, 13, 15, 17, 19];
    try {
      for (const id of streams) {
        h2.request(id, [
          [':method', 'GET'],
          [':scheme', 'https'],
          [':authority', 'localhost'],
          [':path', `/hold/${id}`],
        ]);
      }
      // A body shorter than its content-length, ended: refused mid-body.
      const short = 21;
      h2.request(
        short,
        [
          [':method', 'POST'],
          [':scheme', 'https'],
          [':authority', 'localhost'],
          [':path', '/hold/short'],
          ['content-length', '100'],
        ],
        false,
      );
      h2.socket.write(frame(FRAME.DATA, 0, short, Buffer.from('only ten b')));
      assert.ok(
        await waitFor(() => seen - before >= streams.length + 1, 10_000),
        `the backend got every request (${seen - before})`,
      );
      for (const id of streams) h2.reset(id);
      h2.socket.write(frame(FRAME.DATA, FLAG.END_STREAM, short, Buffer.from('')));
      assert.ok(
        await waitFor(() => open.size === 0, 5_000),
        `every upstream request was closed, not held until upstreamResponse (${open.size} open)`,
      );
    } finally {
      h2.close();
    }
    const logged = await waitFor(
      () => gateway.lines.slice(mark).filter((l) => String(l.path ?? '').startsWith('/hold')).length >= 11,
      10_000,
    );
    assert.ok(logged, 'one access line per stream');
    const statuses = gateway.lines
      .slice(mark)
      .filter((l) => String(l.path ?? '').startsWith('/hold'))
      .map((l) => l.status);
    assert.deepEqual(new Set(statuses), new Set([499]), JSON.stringify(statuses));
  });
});
