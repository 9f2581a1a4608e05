// Which listeners a new generation keeps, opens and closes: identity is protocol, interface and port;
// a new target alone keeps the listener.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PassThroughForward } from '@gatehouse/config';
import { diffForwards, forwardKey } from '../../src/passthrough/forward-set.ts';

const forward = (protocol: 'tcp' | 'udp', port: number, target: string, host = ''): PassThroughForward => {
  const [targetHost = '', targetPort = '0'] = target.split(':');
  return {
    protocol,
    host,
    port,
    target,
    targetHost,
    targetPort: Number(targetPort),
    dialTimeoutMs: 5000,
    at: { file: 'f', line: 1, col: 1, path: 'p' },
  };
};

describe('forward set between generations', () => {
  it('keys a listener by protocol, interface and port', () => {
    assert.equal(forwardKey(forward('tcp', 2222, 'a:22')), 'tcp :2222');
    assert.equal(forwardKey(forward('udp', 53, 'a:53', '127.0.0.1')), 'udp 127.0.0.1:53');
    assert.equal(forwardKey(forward('udp', 53, 'a:53', '::1')), 'udp [::1]:53');
  });

  it('keeps unchanged and retargeted forwards, opens new ones and closes the ones left out', () => {
    const listening = new Set(['tcp :2222', 'udp :53', 'tcp :53', 'tcp :9000']);
    const next = [
      forward('tcp', 2222, 'a:22'),
      forward('udp', 53, 'other:53'),
      forward('tcp', 9000, 'a:9000', '127.0.0.1'),
      forward('udp', 9001, 'a:9001'),
    ];
    const change = diffForwards(listening, next);
    assert.deepEqual(change.keep.map(forwardKey), ['tcp :2222', 'udp :53']);
    assert.equal(change.keep[1]?.target, 'other:53');
    // Another interface is another socket: the old one closes, the new one opens.
    assert.deepEqual(change.open.map(forwardKey), ['tcp 127.0.0.1:9000', 'udp :9001']);
    assert.deepEqual(change.close, ['tcp :53', 'tcp :9000']);
  });

  it('opens everything from nothing and closes everything for no forwards', () => {
    const all = [forward('tcp', 1, 'a:1'), forward('udp', 1, 'a:1')];
    assert.deepEqual(diffForwards(new Set(), all), { keep: [], open: all, close: [] });
    assert.deepEqual(diffForwards(new Set(['tcp :1', 'udp :1']), []), {
      keep: [],
      open: [],
      close: ['tcp :1', 'udp :1'],
    });
  });
});
