import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Balancer } from '../../src/upstream/balancer.ts';
import type { BackendHealth } from '../../src/messages.ts';

const up = (): BackendHealth => ({ up: true, ejectedUntil: 0 });

function sequence(b: Balancer<string>, n: number, now = 0): string {
  let out = '';
  for (let i = 0; i < n; i++) out += b.pick(now) ?? '-';
  return out;
}

describe('balancer: smooth weighted round-robin', () => {
  it('interleaves as nginx does', () => {
    const b = new Balancer([
      { value: 'a', weight: 80, health: up() },
      { value: 'b', weight: 20, health: up() },
    ]);
    assert.equal(sequence(b, 10), 'aabaaaabaa');
    const nginx = new Balancer([
      { value: 'a', weight: 5, health: up() },
      { value: 'b', weight: 1, health: up() },
      { value: 'c', weight: 1, health: up() },
    ]);
    // the example from nginx's commit that introduced smooth weighted round-robin
    assert.equal(sequence(nginx, 7), 'aabacaa');
  });

  it('gives 800/200 over 1000 picks for weights 80/20 (within 2 %)', () => {
    const b = new Balancer([
      { value: 'a', weight: 80, health: up() },
      { value: 'b', weight: 20, health: up() },
    ]);
    const counts = { a: 0, b: 0 };
    for (let i = 0; i < 1000; i++) counts[b.pick(0) as 'a' | 'b']++;
    assert.ok(Math.abs(counts.a - 800) <= 16, `a=${counts.a}`);
    assert.ok(Math.abs(counts.b - 200) <= 4, `b=${counts.b}`);
  });

  it('is plain round-robin when every weight is 0', () => {
    const b = new Balancer([
      { value: 'a', weight: 0, health: up() },
      { value: 'b', weight: 0, health: up() },
      { value: 'c', weight: 0, health: up() },
    ]);
    assert.equal(sequence(b, 6), 'abcabc');
  });

  it('uses a weight-0 backend only when no weighted one is left', () => {
    const a = up();
    const b = new Balancer([
      { value: 'a', weight: 1, health: a },
      { value: 'z', weight: 0, health: up() },
    ]);
    assert.equal(sequence(b, 3), 'aaa');
    a.up = false;
    assert.equal(sequence(b, 2), 'zz');
  });
});

describe('balancer: health', () => {
  it('skips backends that are down or ejected, and returns to them', () => {
    const hb = up();
    const b = new Balancer([
      { value: 'a', weight: 1, health: up() },
      { value: 'b', weight: 1, health: hb },
    ]);
    hb.up = false;
    assert.equal(sequence(b, 4), 'aaaa');
    hb.up = true;
    hb.ejectedUntil = 1_000;
    assert.equal(sequence(b, 2, 999), 'aa');
    assert.equal(sequence(b, 4, 1_000).split('').sort().join(''), 'aabb');
  });

  it('returns null when every backend is down, unless panic is set', () => {
    const health = { up: false, ejectedUntil: 0 };
    const strict = new Balancer([{ value: 'a', weight: 1, health }]);
    assert.equal(strict.pick(0), null);
    const panic = new Balancer([{ value: 'a', weight: 1, health }], true);
    assert.equal(panic.pick(0), 'a');
  });

  it('excludes the failed backend on a retry', () => {
    const b = new Balancer([
      { value: 'a', weight: 1, health: up() },
      { value: 'b', weight: 1, health: up() },
    ]);
    for (let i = 0; i < 5; i++) assert.equal(b.pick(0, 'a'), 'b');
    const single = new Balancer([{ value: 'a', weight: 1, health: up() }]);
    assert.equal(single.pick(0, 'a'), null);
  });
});
