// parseClientHello reads SNI and ALPN from ClientHellos that real clients (Node's TLS) send.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import tls from 'node:tls';
import { parseClientHello } from '../../src/tls/client-hello.ts';

/** The first bytes a Node TLS client sends with these options. */
async function helloFrom(options: tls.ConnectionOptions): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const first = new Promise<Buffer>((resolve) => {
    server.once('connection', (socket) =>
      socket.once('data', (chunk: Buffer) => {
        resolve(chunk);
        socket.destroy();
      }),
    );
  });
  const client = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
  client.on('error', () => {});
  const bytes = await first;
  client.destroy();
  server.close();
  return bytes;
}

describe('parseClientHello', () => {
  it('reads the server name and the offered ALPN protocols', async () => {
    const hello = await helloFrom({ servername: 'A.Example.test', ALPNProtocols: ['acme-tls/1'] });
    assert.deepEqual(parseClientHello(hello), { serverName: 'a.example.test', alpn: ['acme-tls/1'] });
    const h2 = await helloFrom({ servername: 'b.test', ALPNProtocols: ['h2', 'http/1.1'] });
    assert.deepEqual(parseClientHello(h2), { serverName: 'b.test', alpn: ['h2', 'http/1.1'] });
  });
  it('says incomplete for a partial record and null for what is not a ClientHello', async () => {
    const hello = await helloFrom({ servername: 'a.test' });
    assert.equal(parseClientHello(hello.subarray(0, 3)), 'incomplete');
    assert.equal(parseClientHello(hello.subarray(0, hello.length - 1)), 'incomplete');
    assert.equal(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n\r\n')), null);
  });
});
