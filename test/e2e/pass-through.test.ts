// TCP and UDP pass-through through the real CLI with 2 workers: echo servers on loopback behind
// forwards, half-close passed on, bytes and connections in the aggregated metrics, and reloads
// that add and remove forwards while an open connection on an unchanged forward keeps working,
// and that refuse a forward whose port is taken without leaving anything bound.
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, type GatewayProcess, startGateway, tempDir, writeFile } from '../support/gateway.ts';

/** Answers every chunk with `prefix` + chunk, and ends its side once the client has ended its own. */
async function tcpEcho(prefix: string): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('data', (chunk) => socket.write(`${prefix}${chunk}`));
    socket.on('end', () => socket.end(`${prefix}bye`));
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

async function udpEcho(port: number): Promise<{ socket: UdpSocket; port: number }> {
  const socket = createSocket('udp4');
  socket.on('message', (message, remote) =>
    socket.send(Buffer.concat([Buffer.from('udp:'), message]), remote.port, remote.address),
  );
  socket.bind(port, '127.0.0.1');
  await once(socket, 'listening');
  return { socket, port: socket.address().port };
}

/** Waits until the text read so far includes `expected` (bounded by `timeoutMs`). */
async function readUntil(received: { text: string }, expected: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!received.text.includes(expected)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for "${expected}", got "${received.text}"`);
    await sleep(20);
  }
}

async function openTcp(port: number): Promise<{ socket: Socket; received: { text: string }; ended: Promise<unknown> }> {
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  const received = { text: '' };
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    received.text += chunk;
  });
  const ended = once(socket, 'end');
  await once(socket, 'connect');
  return { socket, received, ended };
}

async function udpExchange(port: number, payload: string): Promise<string> {
  const client = createSocket('udp4');
  try {
    client.bind(0, '127.0.0.1');
    await once(client, 'listening');
    const reply = once(client, 'message', { signal: AbortSignal.timeout(10_000) });
    client.send(payload, port, '127.0.0.1');
    const [message] = (await reply) as [Buffer];
    return message.toString();
  } finally {
    client.close();
  }
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: Error & { code?: string }) => resolve(error.code === 'ECONNREFUSED'));
  });
}

function scrape(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve(body));
    })
      .on('error', reject)
      .end();
  });
}

function sample(metrics: string, name: string, labels: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('TCP and UDP pass-through', () => {
  let gateway: GatewayProcess;
  let dir = '';
  let webPort = 0;
  let adminPort = 0;
  let both = 0; // tcp/udp, unchanged across the reload
  let removed = 0; // tcp, removed by the reload
  let added = 0; // tcp, added by the reload
  const servers: Server[] = [];
  let udpServer: UdpSocket;
  let echoA = 0;
  let echoB = 0;

  const config = (forwards: string[]) => `version: 2
gateway:
  entryPoints:
    web: { address: "127.0.0.1:${webPort}" }
    webSecure: { enabled: false }
    passThrough:
      udpSessionIdleTimeout: 2s
      forwards:
${forwards.map((f) => `        - ${f}`).join('\n')}
  admin:
    address: 127.0.0.1:${adminPort}
  timeouts:
    drain: 5s
  watch:
    enabled: false
routes:
  - name: r
    path: /
    target: http://127.0.0.1:${webPort}
`;
  const forward = (protocol: string, port: number, target: number) =>
    `{ protocol: ${protocol}, port: ${port}, host: 127.0.0.1, target: "127.0.0.1:${target}" }`;

  async function reload(text: string): Promise<Record<string, unknown>> {
    const seen = gateway.lines.length;
    writeFile(dir, 'gatehouse.yaml', text);
    gateway.child.kill('SIGHUP');
    return gateway.waitForLogAfter(
      seen,
      (l) => l.msg === 'reload accepted' || l.msg === 'reload rejected',
      30_000,
      'reload outcome',
    );
  }

  before(async () => {
    const a = await tcpEcho('A:');
    const b = await tcpEcho('B:');
    servers.push(a.server, b.server);
    echoA = a.port;
    echoB = b.port;
    // The UDP echo shares echo A's port number, so one `tcp/udp` forward reaches both.
    const u = await udpEcho(echoA);
    udpServer = u.socket;
    [webPort, adminPort, both, removed, added] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    dir = tempDir();
    const text = config([forward('tcp/udp', both, echoA), forward('tcp', removed, echoB)]);
    gateway = await startGateway(writeFile(dir, 'gatehouse.yaml', text), { workers: 2 });
  });

  after(async () => {
    await gateway?.stop();
    for (const s of servers) s.close();
    udpServer?.close();
  });

  it('binds every forward in both workers and logs one line per listener', async () => {
    // Each worker writes its own lines to the shared stdout; one may land just after "gateway ready".
    const listeningLines = () => gateway.lines.filter((l) => l.msg === 'pass-through listening').map((l) => l.forward);
    for (let i = 0; i < 100 && listeningLines().length < 6; i++) await sleep(50);
    const listening = listeningLines();
    assert.deepEqual(
      listening.sort(),
      [
        `tcp 127.0.0.1:${both}`,
        `tcp 127.0.0.1:${both}`,
        `tcp 127.0.0.1:${removed}`,
        `tcp 127.0.0.1:${removed}`,
        `udp 127.0.0.1:${both}`,
        `udp 127.0.0.1:${both}`,
      ].sort(),
    );
  });

  it('relays TCP both ways and passes a half-close on while the other direction keeps flowing', async () => {
    for (let i = 0; i < 6; i++) {
      const c = await openTcp(both);
      c.socket.write(`hello${i}`);
      await readUntil(c.received, `A:hello${i}`);
      // Client FIN: the echo server sees its end, and its last words still come back.
      c.socket.end();
      await c.ended;
      assert.equal(c.received.text, `A:hello${i}A:bye`);
    }
    const b = await openTcp(removed);
    b.socket.end('x');
    await b.ended;
    assert.equal(b.received.text, 'B:xB:bye');
  });

  it('relays UDP per client address, replies to the right client', async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => udpExchange(both, `ping${i}`)));
    assert.deepEqual(
      answers,
      Array.from({ length: 8 }, (_, i) => `udp:ping${i}`),
    );
  });

  it('counts bytes and connections per forward in the aggregated metrics', async () => {
    const key = `forward="tcp 127.0.0.1:${both}"`;
    let metrics = '';
    // The last bytes of a closed connection are counted when the worker sees the close, which may
    // trail the test's own.
    for (let i = 0; i < 50; i++) {
      metrics = await scrape(adminPort);
      if (sample(metrics, 'gatehouse_passthrough_bytes_total', `${key},direction="out"`) >= 6 * 13) break;
      await sleep(100);
    }
    assert.equal(sample(metrics, 'gatehouse_passthrough_connections_total', `${key},result="ok"`), 6);
    assert.equal(sample(metrics, 'gatehouse_passthrough_bytes_total', `${key},direction="in"`), 6 * 6);
    // `A:helloN` + `A:bye` per connection.
    assert.equal(sample(metrics, 'gatehouse_passthrough_bytes_total', `${key},direction="out"`), 6 * 13);
    const udp = `forward="udp 127.0.0.1:${both}"`;
    assert.equal(sample(metrics, 'gatehouse_passthrough_connections_total', `${udp},result="ok"`), 8);
    assert.equal(sample(metrics, 'gatehouse_passthrough_bytes_total', `${udp},direction="in"`), 8 * 5);
    assert.equal(sample(metrics, 'gatehouse_passthrough_bytes_total', `${udp},direction="out"`), 8 * 9);
    assert.equal(sample(metrics, 'gatehouse_passthrough_listening', `${key}`), 2);
  });

  it('reload adds and removes forwards; an open connection on the unchanged one keeps working', async () => {
    const held = await openTcp(both);
    held.socket.write('before');
    await readUntil(held.received, 'A:before');

    const outcome = await reload(config([forward('tcp/udp', both, echoA), forward('tcp', added, echoB)]));
    assert.equal(outcome.msg, 'reload accepted', JSON.stringify(outcome));
    assert.match(String(outcome.changes), /passThrough/);

    held.socket.write('after');
    await readUntil(held.received, 'A:after');
    const c = await openTcp(added);
    c.socket.end('new');
    await c.ended;
    assert.equal(c.received.text, 'B:newB:bye');
    assert.equal(await refused(removed), true);
    assert.equal(await udpExchange(both, 'again'), 'udp:again');

    // Each worker logs its close on its own; the lines reach the primary's stream asynchronously.
    const closedLines = () => gateway.lines.filter((l) => l.msg === 'pass-through closed').map((l) => l.forward);
    for (let i = 0; i < 200 && closedLines().length < 2; i++) await sleep(100);
    assert.deepEqual(closedLines(), [`tcp 127.0.0.1:${removed}`, `tcp 127.0.0.1:${removed}`]);
    // The unchanged forwards were not bound again.
    const listening = gateway.lines.filter((l) => l.msg === 'pass-through listening');
    assert.equal(listening.filter((l) => l.forward === `tcp 127.0.0.1:${both}`).length, 2);
    assert.equal(listening.filter((l) => l.forward === `tcp 127.0.0.1:${added}`).length, 2);

    held.socket.end();
    await held.ended;
    assert.equal(held.received.text, 'A:beforeA:afterA:bye');
  });

  it('refuses a reload whose new forward cannot bind, and leaves nothing bound', async () => {
    const squatter = createServer();
    const taken = await freePort();
    squatter.listen(taken, '127.0.0.1');
    await once(squatter, 'listening');
    const extra = await freePort();
    const outcome = await reload(
      config([
        forward('tcp/udp', both, echoA),
        forward('tcp', added, echoB),
        forward('tcp', extra, echoB),
        forward('tcp', taken, echoB),
      ]),
    );
    squatter.close();
    assert.equal(outcome.msg, 'reload rejected', JSON.stringify(outcome));
    assert.match(JSON.stringify(outcome), new RegExp(`tcp 127\\.0\\.0\\.1:${taken}.*EADDRINUSE`));
    // The forward bound before the failing one was closed again: its port is free for anyone.
    assert.equal(await refused(extra), true);
    const probe = createServer();
    probe.listen(extra, '127.0.0.1');
    await once(probe, 'listening');
    probe.close();
    // The running generation still forwards.
    const c = await openTcp(added);
    c.socket.end('still');
    await c.ended;
    assert.equal(c.received.text, 'B:stillB:bye');
  });
});
