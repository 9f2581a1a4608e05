import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  clientAddress,
  compileTrustedProxies,
  forwardedFor,
  forwardedProto,
  isTrusted,
  parseForwardedAddress,
  TrustedProxyError,
} from '../../src/request/trusted-proxies.ts';

describe('trusted proxies', () => {
  it('trusts nobody by default', () => {
    const t = compileTrustedProxies([]);
    assert.equal(isTrusted(t, '127.0.0.1'), false);
    assert.equal(clientAddress(t, '127.0.0.1', '1.2.3.4'), '127.0.0.1');
    assert.equal(forwardedFor(t, '127.0.0.1', '1.2.3.4'), '127.0.0.1');
  });

  it('matches IPv4, IPv6 and IPv4-mapped IPv6 against CIDRs', () => {
    const t = compileTrustedProxies(['10.0.0.0/8', '192.168.1.7', 'fd00::/8', '::1']);
    assert.equal(isTrusted(t, '10.20.30.40'), true);
    assert.equal(isTrusted(t, '11.0.0.1'), false);
    assert.equal(isTrusted(t, '192.168.1.7'), true);
    assert.equal(isTrusted(t, '192.168.1.8'), false);
    assert.equal(isTrusted(t, '::ffff:10.1.2.3'), true);
    assert.equal(isTrusted(t, '::FFFF:10.1.2.3'), true);
    assert.equal(isTrusted(t, '::ffff:11.1.2.3'), false);
    assert.equal(isTrusted(t, 'fd12:3456::1'), true);
    assert.equal(isTrusted(t, 'fe80::1'), false);
    assert.equal(isTrusted(t, '::1'), true);
    assert.equal(isTrusted(t, 'not-an-ip'), false);
    assert.equal(isTrusted(t, undefined), false);
  });

  it('accepts an IPv4-mapped CIDR and applies it to plain IPv4 peers', () => {
    const t = compileTrustedProxies(['::ffff:127.0.0.0/8']);
    assert.equal(isTrusted(t, '127.0.0.1'), true);
    assert.equal(isTrusted(t, '::ffff:127.9.9.9'), true);
  });

  it('rejects malformed CIDRs with a named error', () => {
    for (const bad of ['10.0.0.0/33', 'fd00::/129', 'nope', '10.0.0.0/', '10.0.0.0/x', '1.2.3.4/-1']) {
      assert.throws(() => compileTrustedProxies([bad]), TrustedProxyError, bad);
    }
  });

  it('takes the right-most untrusted address, never the client-chosen left-most one', () => {
    const t = compileTrustedProxies(['127.0.0.1', '10.0.0.0/8']);
    // spoofed left-most entry, a real client, then a trusted internal hop
    assert.equal(clientAddress(t, '127.0.0.1', '6.6.6.6, 203.0.113.9, 10.1.1.1'), '203.0.113.9');
    assert.equal(clientAddress(t, '::ffff:127.0.0.1', '203.0.113.9'), '203.0.113.9');
    // untrusted peer: its header is ignored whatever it says
    assert.equal(clientAddress(t, '198.51.100.1', '10.0.0.1'), '198.51.100.1');
    // every hop trusted: the left-most is the client
    assert.equal(clientAddress(t, '127.0.0.1', '10.0.0.2, 10.0.0.3'), '10.0.0.2');
    // no header from a trusted peer: the peer is the client
    assert.equal(clientAddress(t, '127.0.0.1', undefined), '127.0.0.1');
    // several header lines form one list
    assert.equal(clientAddress(t, '127.0.0.1', ['6.6.6.6', '203.0.113.7, 10.0.0.9']), '203.0.113.7');
    // garbage stops the walk at the trusted hop that relayed it
    assert.equal(clientAddress(t, '127.0.0.1', '203.0.113.9, <script>, 10.0.0.5'), '10.0.0.5');
    // empty list items are skipped
    assert.equal(clientAddress(t, '127.0.0.1', '203.0.113.9,, 10.0.0.5'), '203.0.113.9');
    // IPv6 with brackets and ports, IPv4 with a port
    assert.equal(clientAddress(t, '127.0.0.1', '[2001:db8::1]:4711'), '2001:db8::1');
    assert.equal(clientAddress(t, '127.0.0.1', '2001:db8::2'), '2001:db8::2');
    assert.equal(clientAddress(t, '127.0.0.1', '203.0.113.1:5555'), '203.0.113.1');
  });

  it('parses forwarded entries and refuses non-addresses', () => {
    assert.equal(parseForwardedAddress('  1.2.3.4 '), '1.2.3.4');
    assert.equal(parseForwardedAddress('[::1]'), '::1');
    assert.equal(parseForwardedAddress('::ffff:1.2.3.4'), '1.2.3.4');
    assert.equal(parseForwardedAddress('unknown'), '');
    assert.equal(parseForwardedAddress('[::1'), '');
    assert.equal(parseForwardedAddress(''), '');
  });

  it('extends X-Forwarded-For only for trusted peers', () => {
    const t = compileTrustedProxies(['127.0.0.0/8']);
    assert.equal(forwardedFor(t, '127.0.0.2', '203.0.113.9'), '203.0.113.9, 127.0.0.2');
    assert.equal(forwardedFor(t, '127.0.0.2', ['1.1.1.1', '2.2.2.2']), '1.1.1.1, 2.2.2.2, 127.0.0.2');
    assert.equal(forwardedFor(t, '192.0.2.1', '203.0.113.9'), '192.0.2.1');
    assert.equal(forwardedFor(t, '::ffff:192.0.2.1', undefined), '192.0.2.1');
  });

  it('believes X-Forwarded-Proto only from a trusted peer and only http/https', () => {
    const t = compileTrustedProxies(['127.0.0.0/8']);
    assert.equal(forwardedProto(t, '127.0.0.1', 'https', false), 'https');
    assert.equal(forwardedProto(t, '127.0.0.1', 'HTTP, https', true), 'http');
    assert.equal(forwardedProto(t, '127.0.0.1', 'gopher', true), 'https');
    assert.equal(forwardedProto(t, '192.0.2.1', 'https', false), 'http');
    assert.equal(forwardedProto(t, '127.0.0.1', undefined, true), 'https');
  });
});
