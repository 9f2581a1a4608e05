import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { exceedsHeaderRoom, FIXED_ADDED_BYTES, forwardedHeadBytes } from '../../src/request/header-room.ts';

describe('header room', () => {
  it('counts the target, names and values, skipping pseudo-headers', () => {
    assert.equal(
      forwardedHeadBytes('/abc'.length, { host: 'a.test', ':authority': 'a.test', 'x-list': ['1', '22'] }),
      4 + 10 + 7 + 8,
    );
  });

  it('counts exactly only when the bound reaches the limit', () => {
    // A header object whose exact count is far over the limit is never looked at below the bound.
    const huge = { 'x-big': 'x'.repeat(10_000) };
    assert.equal(exceedsHeaderRoom(4096, 1, 100, 50, huge), false);
    assert.equal(exceedsHeaderRoom(4096, 1, 4000, 50, huge), true);
    assert.equal(exceedsHeaderRoom(4096, 1, 4000, 50, { host: 'a' }), false);
    assert.equal(exceedsHeaderRoom(0, 1, 1e6, 1e6, huge), false);
    assert.ok(FIXED_ADDED_BYTES > 200);
  });

  it('uses the unit and the edge Node itself applies: a head is refused once the count reaches maxHeaderSize', async () => {
    const limit = 300;
    const server = http.createServer({ maxHeaderSize: limit }, (_req, res) => res.end('ok'));
    server.on('clientError', (_err, socket) => socket.end('HTTP/1.1 431 Too Large\r\n\r\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const send = (headers: Record<string, string>): Promise<string> =>
      new Promise((resolve) => {
        const lines = Object.entries(headers)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('');
        const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET /abc HTTP/1.1\r\n${lines}\r\n`));
        let answer = '';
        socket.setEncoding('latin1').on('data', (d: string) => {
          answer += d;
          socket.destroy();
        });
        socket.on('close', () => resolve(answer.slice(0, 12)));
      });
    try {
      for (const fill of [250, 284, 285, 300]) {
        const headers = { host: 'h', 'x-fill': 'f'.repeat(fill) };
        const counted = forwardedHeadBytes('/abc'.length, headers);
        const answer = await send(headers);
        assert.equal(answer.includes('431'), counted >= limit, `${counted} bytes: ${answer}`);
      }
    } finally {
      server.close();
    }
  });
});
