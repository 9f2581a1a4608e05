// A worker's Redis connections across generations, against a real redis-server: generations with
// the same settings share one, new settings (a rotated TLS identity among them) get a new one, the
// old one is closed once no generation uses it, and an outage is not reported twice across the swap.
import assert from 'node:assert/strict';
import type { RedisConfig } from '@gatehouse/config';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../../../test/support/gateway.ts';
import { type RedisServer, startRedis } from '../../../../test/support/redis.ts';
import { missingPackage } from '../../../../test/support/services.ts';
import type { ResolvedRedisTls, Snapshot } from '../../src/messages.ts';
import { RedisStores } from '../../src/middleware/rate-limit/redis-stores.ts';
import { bucketRule } from '../../src/middleware/rate-limit/token-bucket.ts';

/** The part of a snapshot RedisStores reads. */
function snapshot(
  generation: number,
  redis: Partial<RedisConfig> & { port: number },
  redisTls: ResolvedRedisTls | null = null,
) {
  const config: RedisConfig = {
    host: '127.0.0.1',
    password: null,
    db: 0,
    timeoutMs: 2000,
    checkTimeoutMs: 1000,
    tls: null,
    ...redis,
  };
  return { generation, config: { gateway: { redis: config } }, redisTls } as unknown as Snapshot;
}

describe('a worker’s Redis stores', { skip: missingPackage('redis-server', 'redis-server') }, () => {
  let redis: RedisServer;
  const states: Array<[string, boolean]> = [];
  const stores = new RedisStores((addr) => (ok) => states.push([addr, ok]));
  const rule = bucketRule('hour', 100, 0, 0, 0);

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    stores.keepOnly([]);
    await redis?.stop();
  });

  it('shares one connection between generations with the same settings, and closes it once unused', async () => {
    const first = await stores.use(snapshot(1, { port: redis.port }));
    assert.equal(await stores.use(snapshot(2, { port: redis.port })), first);
    const other = await stores.use(snapshot(3, { port: redis.port, db: 1 }));
    assert.notEqual(other, first);
    assert.equal((await first!.check('r', 'k', rule)).verdict, 0);
    stores.keepOnly([2, 3]);
    assert.equal((await first!.check('r', 'k', rule)).verdict, 0, 'generation 2 still uses it');
    stores.keepOnly([3]);
    await assert.rejects(first!.check('r', 'k', rule), 'closed once no generation uses it');
    assert.equal((await other!.check('r', 'k', rule)).verdict, 0);
    assert.deepEqual(states, [], 'closing a store is not an outage');
  });

  it('refuses to build a generation whose TLS material is missing rather than connect in plain TCP', async () => {
    const tlsConfig = { port: redis.port, tls: { clientCa: null, clientCert: null, clientKey: null } };
    await assert.rejects(stores.use(snapshot(4, tlsConfig, null)), { code: 'GH_GENERATION_BUILD' });
  });

  it('reports the end of an outage when the store that replaced the failing one connects', async () => {
    const nowhere = await freePort();
    const down = (await stores.use(snapshot(5, { port: nowhere })))!;
    await assert.rejects(down.check('r', 'k', rule));
    assert.deepEqual(states, [[`127.0.0.1:${nowhere}`, false]]);
    const fixed = (await stores.use(snapshot(6, { port: redis.port, db: 2 })))!;
    stores.keepOnly([6]);
    assert.equal(fixed.ok, false, 'starts as the worker last reported');
    assert.equal((await fixed.check('r', 'k', rule)).verdict, 0);
    assert.deepEqual(states.at(-1), [`127.0.0.1:${redis.port}`, true]);
    assert.equal(states.length, 2);
  });
});
