import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import {
  backendHostHeader,
  clientResponseHeaders,
  isSafeRequestId,
  RequestIdSequence,
  requestIdFor,
  setForwardingHeaders,
  stripHopByHop,
  stripResponseHopByHop,
} from '../../src/request/headers.ts';
import { compileTrustedProxies } from '../../src/request/trusted-proxies.ts';

describe('hop-by-hop headers', () => {
  it('removes the fixed set and the fields named in Connection, keeps the rest', () => {
    const h: IncomingHttpHeaders = {
      host: 'a',
      connection: 'keep-alive, X-Secret',
      'keep-alive': 'timeout=5',
      'proxy-connection': 'keep-alive',
      'proxy-authorization': 'Basic x',
      te: 'trailers',
      trailer: 'x-checksum',
      upgrade: 'h2c',
      'x-secret': '1',
      'transfer-encoding': 'chunked',
      accept: '*/*',
    };
    stripHopByHop(h);
    assert.deepEqual(h, { host: 'a', 'transfer-encoding': 'chunked', accept: '*/*' });
  });

  it('never lets Connection remove Host or X-Forwarded-* fields', () => {
    const h: IncomingHttpHeaders = {
      host: 'a',
      connection: 'host, x-forwarded-for, x-request-id',
      'x-forwarded-for': '1.1.1.1',
    };
    stripHopByHop(h);
    assert.deepEqual(h, { host: 'a', 'x-forwarded-for': '1.1.1.1' });
  });

  it('strips response hop-by-hop but keeps Trailer and Set-Cookie', () => {
    const h: IncomingHttpHeaders = {
      connection: 'close',
      'keep-alive': 'x',
      trailer: 'x-sum',
      'set-cookie': ['a=1', 'b=2'],
    };
    stripResponseHopByHop(h);
    assert.deepEqual(h, { trailer: 'x-sum', 'set-cookie': ['a=1', 'b=2'] });
  });
});

describe('forwarding headers', () => {
  const nobody = compileTrustedProxies([]);
  const loopback = compileTrustedProxies(['127.0.0.1/32']);

  it('sets X-Forwarded-*, X-Real-IP and X-Request-ID for a direct client', () => {
    const h: IncomingHttpHeaders = { host: 'shop.example.com', 'x-real-ip': '6.6.6.6', 'x-forwarded-proto': 'https' };
    setForwardingHeaders(h, nobody, '::ffff:10.0.0.7', false, 'rid', null);
    assert.equal(h['x-forwarded-for'], '10.0.0.7');
    assert.equal(h['x-real-ip'], '10.0.0.7');
    assert.equal(h['x-forwarded-proto'], 'http', 'an untrusted client cannot claim https');
    assert.equal(h['x-forwarded-host'], 'shop.example.com');
    assert.equal(h['x-request-id'], 'rid');
    assert.equal(h.host, 'shop.example.com');
  });

  it('appends to a trusted proxy chain and takes the client from it', () => {
    const h: IncomingHttpHeaders = {
      host: 'shop',
      'x-forwarded-for': '203.0.113.9',
      'x-forwarded-host': 'public.example',
      'x-forwarded-proto': 'https',
    };
    setForwardingHeaders(h, loopback, '127.0.0.1', false, 'rid', 'backend:8080');
    assert.equal(h['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    assert.equal(h['x-real-ip'], '203.0.113.9');
    assert.equal(h['x-forwarded-proto'], 'https');
    assert.equal(h['x-forwarded-host'], 'public.example');
    assert.equal(h.host, 'backend:8080');
  });

  it('addresses a backend by its host, with the port only when it is not the default', () => {
    assert.equal(backendHostHeader('http:', 'api', 80), 'api');
    assert.equal(backendHostHeader('https:', 'api', 8443), 'api:8443');
    assert.equal(backendHostHeader('http:', '::1', 8080), '[::1]:8080');
  });

  it('passes a clean client request id and replaces an odd one', () => {
    assert.equal(requestIdFor('abc-123_X.y:z'), 'abc-123_X.y:z');
    assert.match(requestIdFor('bad id with spaces'), /^[0-9a-f-]{36}$/);
    assert.match(requestIdFor(undefined), /^[0-9a-f-]{36}$/);
    assert.equal(isSafeRequestId('x'.repeat(129)), false);
    assert.equal(isSafeRequestId('a"b'), false);
  });

  it('makes fresh ids as UUID v4 text with a 48-bit counter in the last group', () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-([0-9a-f]{12})$/;
    const first = requestIdFor(undefined).match(uuid);
    const second = requestIdFor(undefined).match(uuid);
    assert.ok(first && second);
    assert.equal((Number.parseInt(first[1]!, 16) + 1) % 2 ** 48, Number.parseInt(second[1]!, 16));
    const prefix = '0f1e2d3c-4b5a-4968-8776-';
    const carry = new RequestIdSequence(prefix, 0x00a0ff, 0xfffffe);
    assert.equal(carry.next(), `${prefix}00a0ffffffff`);
    assert.equal(carry.next(), `${prefix}00a100000000`, 'the low half carries into the high half');
    const wrap = new RequestIdSequence(prefix, 0xffffff, 0xffffff);
    assert.equal(wrap.next(), `${prefix}000000000000`, 'and the counter wraps at 2^48');
    assert.equal(wrap.next(), `${prefix}000000000001`);
  });
});

describe('response head for the client', () => {
  it('keeps order, case and repeated fields, drops hop-by-hop ones', () => {
    const raw = [
      'Content-Type',
      'text/plain',
      'Set-Cookie',
      'a=1',
      'Connection',
      'keep-alive',
      'Keep-Alive',
      'timeout=5',
      'Transfer-Encoding',
      'chunked',
      'Set-Cookie',
      'b=2',
      'Trailer',
      'x-sum',
      'Proxy-Authenticate',
      'Basic',
    ];
    assert.deepEqual(clientResponseHeaders(raw, false), [
      'Content-Type',
      'text/plain',
      'Set-Cookie',
      'a=1',
      'Set-Cookie',
      'b=2',
      'Trailer',
      'x-sum',
    ]);
  });

  it('does not leak the backend software', () => {
    assert.deepEqual(clientResponseHeaders(['Server', 'Apache/2.4.1', 'X-Powered-By', 'PHP/5', 'X-A', '1'], false), [
      'X-A',
      '1',
    ]);
    const h: IncomingHttpHeaders = { server: 'nginx/1.2', 'x-powered-by': 'Express', etag: 'x' };
    stripResponseHopByHop(h);
    assert.deepEqual(h, { etag: 'x' });
  });

  it('asks the client to close when draining, and drops fields the backend named in Connection', () => {
    assert.deepEqual(clientResponseHeaders(['X-A', '1'], true), ['X-A', '1', 'Connection', 'close']);
    assert.deepEqual(clientResponseHeaders(['Connection', 'close, X-Internal', 'X-Internal', 's', 'X-B', '2'], false), [
      'X-B',
      '2',
    ]);
  });
});
