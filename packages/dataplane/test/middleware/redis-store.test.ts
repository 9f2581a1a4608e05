// The Lua script against a real redis-server: the token-bucket rules, bans, two "instances" (two
// clients) sharing one bucket, and a server killed under it (every call fails fast, then recovers).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { type RedisServer, startRedis } from '../../../../test/support/redis.ts';
import { missingPackage } from '../../../../test/support/services.ts';
import {
  REDIS_ALLOW,
  REDIS_BANNED,
  REDIS_DENY,
  RedisRateLimitStore,
} from '../../src/middleware/rate-limit/redis-store.ts';
import { bucketRule } from '../../src/middleware/rate-limit/token-bucket.ts';

describe('Redis rate-limit store', { skip: missingPackage('redis-server', 'redis-server') }, () => {
  let redis: RedisServer;
  const stores: RedisRateLimitStore[] = [];
  const states: Array<[boolean, string | null]> = [];
  const store = (password: string | null = null, db = 0) => {
    const s = new RedisRateLimitStore(
      { host: '127.0.0.1', port: redis.port, password, db, tls: null, timeoutMs: 2000 },
      'test',
      (ok, error) => states.push([ok, error]),
    );
    stores.push(s);
    return s;
  };

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const s of stores) s.close();
    await redis?.stop();
  });

  it('allows exactly the bucket, shared by two clients (two instances)', async () => {
    const a = store();
    const b = store();
    const rule = bucketRule('hour', 20, 5, 0, 0);
    const verdicts = await Promise.all(
      Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? a : b).check('r\u0000m', 'k1', rule)),
    );
    assert.equal(verdicts.filter((v) => v.verdict === REDIS_ALLOW).length, 25);
    const refused = verdicts.find((v) => v.verdict === REDIS_DENY);
    assert.ok(refused !== undefined && refused.waitMs > 60_000, 'next token in about 3 minutes');
  });

  it('bans on the banAfter-th refusal; the ban then answers before the bucket', async () => {
    const a = store();
    const rule = bucketRule('hour', 1, 0, 2, 30_000);
    const seq: number[] = [];
    for (let i = 0; i < 5; i++) seq.push((await a.check('r\u0000m', 'abuser', rule)).verdict);
    assert.deepEqual(seq, [REDIS_ALLOW, REDIS_DENY, REDIS_DENY, REDIS_BANNED, REDIS_BANNED]);
    const banned = await a.check('r\u0000m', 'abuser', rule);
    assert.ok(banned.waitMs > 29_000 && banned.waitMs <= 30_000);
  });

  it('writes no key without an expiry: a bucket lives until it would be full again, strikes and bans for banDuration', async () => {
    const a = store();
    // Per hour: no refill during the test changes the count.
    const rule = bucketRule('hour', 10, 0, 2, 30_000);
    for (let i = 0; i < 14; i++) await a.check('r\u0000ttl', 'banned', rule);
    for (let i = 0; i < 11; i++) await a.check('r\u0000ttl', 'struck', rule);
    const raw = new Redis({ host: '127.0.0.1', port: redis.port });
    try {
      const ttl = async (pattern: string) => {
        const keys = (await raw.keys(pattern)).sort();
        return Promise.all(keys.map(async (k) => [k.slice(k.lastIndexOf(':') + 1), await raw.pttl(k)] as const));
      };
      const banned = await ttl('gatehouse:rl:{r\u0000ttl\u0000banned}:*');
      assert.deepEqual(
        banned.map(([k]) => k),
        ['b', 'ban'],
        'the strikes go when the ban starts',
      );
      const struck = await ttl('gatehouse:rl:{r\u0000ttl\u0000struck}:*');
      assert.deepEqual(
        struck.map(([k]) => k),
        ['b', 's'],
      );
      for (const [k, ms] of [...banned, ...struck]) {
        const most = k === 'b' ? 3_600_000 + 1000 : 30_000;
        assert.ok(ms > 0 && ms <= most, `${k}: ${ms} ms`);
      }
      // Every key any check wrote (the hour-long buckets of the other tests too) expires.
      for (const k of await raw.keys('gatehouse:rl:*')) assert.ok((await raw.pttl(k)) > 0, k);
    } finally {
      raw.disconnect();
    }
  });

  it('connects with the password and db of gateway.redis: another db keeps other buckets, no password is an outage', async () => {
    const admin = new Redis({ host: '127.0.0.1', port: redis.port });
    await admin.config('SET', 'requirepass', 'test-password');
    try {
      const rule = bucketRule('hour', 1, 0, 0, 0);
      const db0 = store('test-password', 0);
      const db1 = store('test-password', 1);
      assert.equal((await db0.check('r\u0000auth', 'k', rule)).verdict, REDIS_ALLOW);
      assert.equal((await db0.check('r\u0000auth', 'k', rule)).verdict, REDIS_DENY);
      assert.equal((await db1.check('r\u0000auth', 'k', rule)).verdict, REDIS_ALLOW, 'db 1: a bucket of its own');
      const before = states.length;
      const anonymous = store(null, 0);
      await assert.rejects(anonymous.check('r\u0000auth', 'k', rule));
      assert.equal(anonymous.ok, false);
      assert.deepEqual(
        states.slice(before).map(([ok]) => ok),
        [false],
      );
      assert.match(String(states.at(-1)?.[1]), /NOAUTH|auth/i, 'the report says why');
      // Closed before the password goes, so that its reconnection is not reported by the next test.
      anonymous.close();
    } finally {
      await admin.config('SET', 'requirepass', '');
      admin.disconnect();
    }
  });

  it('fails fast while Redis is gone, reports it once, and recovers when it is back', async () => {
    const a = store();
    const rule = bucketRule('second', 1000, 0, 0, 0);
    assert.equal((await a.check('r\u0000m', 'x', rule)).verdict, REDIS_ALLOW);
    states.length = 0;
    await redis.kill();
    const started = Date.now();
    await assert.rejects(a.check('r\u0000m', 'x', rule));
    assert.equal(a.ok, false);
    assert.equal(a.usable(Date.now()), false, 'left alone for a second after a failure');
    await assert.rejects(a.check('r\u0000m', 'x', rule));
    assert.ok(Date.now() - started < 5000, 'bounded by the timeout (2 s here), not hanging');
    assert.deepEqual(
      states.map(([ok]) => ok),
      [false],
      'one report for the outage',
    );
    await redis.restart();
    let recovered = false;
    for (let i = 0; i < 50 && !recovered; i++) {
      await new Promise((r) => setTimeout(r, 200));
      if (!a.usable(Date.now())) continue;
      recovered = await a.check('r\u0000m', 'x', rule).then(
        (v) => v.verdict === REDIS_ALLOW,
        () => false,
      );
    }
    assert.equal(recovered, true);
    assert.deepEqual(
      states.map(([ok]) => ok),
      [false, true],
    );
  });
});
