// UDP session bookkeeping: bounded, expired by idle time measured from the last datagram either way.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionTable } from '../../src/passthrough/session-table.ts';

describe('UDP session table', () => {
  it('expires a session idle for the idle time, and not one seen since', () => {
    const table = new SessionTable<{ name: string; lastSeen: number }>(10, 1000);
    const a = { name: 'a', lastSeen: 0 };
    const b = { name: 'b', lastSeen: 0 };
    assert.equal(table.add('a', a), true);
    assert.equal(table.add('b', b), true);
    b.lastSeen = 600; // a reply or a new datagram
    assert.deepEqual(table.expire(999), []);
    assert.deepEqual(
      table.expire(1000).map((s) => s.name),
      ['a'],
    );
    assert.equal(table.get('a'), undefined);
    assert.equal(table.get('b'), b);
    assert.deepEqual(
      table.expire(1600).map((s) => s.name),
      ['b'],
    );
    assert.equal(table.size, 0);
  });

  it('refuses a new session when full, and takes one again once a session expired', () => {
    const table = new SessionTable<{ lastSeen: number }>(2, 100);
    assert.equal(table.add('1', { lastSeen: 0 }), true);
    assert.equal(table.add('2', { lastSeen: 50 }), true);
    assert.equal(table.add('3', { lastSeen: 60 }), false);
    assert.equal(table.size, 2);
    assert.equal(table.expire(100).length, 1);
    assert.equal(table.add('3', { lastSeen: 100 }), true);
    assert.equal(table.get('1'), undefined);
  });

  it('follows a changed idle time and limit (a reload), and clears everything on close', () => {
    const table = new SessionTable<{ lastSeen: number }>(1, 1000);
    table.add('1', { lastSeen: 0 });
    table.idleMs = 100;
    assert.equal(table.expire(100).length, 1);
    table.maxSessions = 2;
    assert.equal(table.add('1', { lastSeen: 0 }), true);
    assert.equal(table.add('2', { lastSeen: 0 }), true);
    assert.equal(table.clear().length, 2);
    assert.equal(table.size, 0);
  });
});
