import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bucketRule,
  isIdle,
  leaseSize,
  msUntilToken,
  newBucket,
  refill,
  strike,
} from '../../src/middleware/rate-limit/token-bucket.ts';

describe('token bucket', () => {
  it('holds requestsPerUnit + burst and refills at requestsPerUnit per unit', () => {
    const rule = bucketRule('second', 20, 5, 0, 0);
    assert.equal(rule.capacity, 25);
    const b = newBucket(rule, 0);
    b.available = 0;
    refill(b, rule, 500);
    assert.equal(b.available, 10);
    refill(b, rule, 10_000);
    assert.equal(b.available, 25, 'never above capacity');
  });

  it('counts leased tokens as part of the bucket: the refill stops at capacity - outstanding', () => {
    const rule = bucketRule('minute', 60, 0, 0, 0);
    const b = newBucket(rule, 0);
    b.available = 10;
    b.outstanding = 45;
    refill(b, rule, 60_000);
    assert.equal(b.available, 15);
  });

  it('says how long until the next whole token', () => {
    const rule = bucketRule('hour', 3600, 0, 0, 0);
    const b = newBucket(rule, 0);
    b.available = 0.5;
    assert.equal(msUntilToken(b, rule), 500);
    b.available = 1;
    assert.equal(msUntilToken(b, rule), 0);
  });

  it('bans on the banAfter-th strike within banDuration of the previous one', () => {
    const rule = bucketRule('second', 1, 0, 3, 60_000);
    const b = newBucket(rule, 0);
    assert.equal(strike(b, rule, 1, 0), 0);
    assert.equal(strike(b, rule, 1, 1000), 0);
    assert.equal(strike(b, rule, 1, 2000), 62_000);
    assert.equal(b.bannedUntil, 62_000);
    const c = newBucket(rule, 0);
    strike(c, rule, 2, 0);
    assert.equal(strike(c, rule, 1, 60_001), 0, 'old strikes expired');
    assert.equal(c.strikes, 1);
  });

  it('never bans without banAfter', () => {
    const rule = bucketRule('second', 1, 0, 0, 60_000);
    const b = newBucket(rule, 0);
    assert.equal(strike(b, rule, 100, 0), 0);
  });

  it('is idle (forgettable) only when full, unbanned and without live strikes', () => {
    const rule = bucketRule('second', 10, 0, 2, 1000);
    const b = newBucket(rule, 0);
    assert.equal(isIdle(b, rule, 0), true);
    b.available = 9;
    assert.equal(isIdle(b, rule, 0), false);
    refill(b, rule, 100);
    assert.equal(isIdle(b, rule, 100), true);
    strike(b, rule, 1, 100);
    assert.equal(isIdle(b, rule, 200), false);
    assert.equal(isIdle(b, rule, 1100), true);
  });

  it('sizes leases: big when far from empty, one when near, at least what waits', () => {
    const fast = bucketRule('second', 100_000, 0, 0, 0);
    assert.equal(leaseSize(100_000, fast, 4, 1, 100), 10_000, 'capped at 100 ms of refill');
    const slow = bucketRule('second', 20, 0, 0, 0);
    assert.equal(leaseSize(20, slow, 4, 1, 100), 2);
    assert.equal(leaseSize(3, slow, 4, 1, 100), 1);
    assert.equal(leaseSize(3, slow, 4, 5, 100), 3, 'never more than is there');
    assert.equal(leaseSize(0.9, slow, 4, 1, 100), 0);
  });
});
