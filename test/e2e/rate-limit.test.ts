// Rate limits through the real `gatehouse run`: one bucket for the whole instance whatever its
// worker count (every request on a fresh connection, so the kernel spreads them over the workers),
// bursts and bans, header and cookie keys, and Redis shared by two instances, killed mid-run under
// both onStoreError modes. Counts are asserted, never timings: a unit of an hour keeps the refill
// out of the count, and the one per-second check bounds the count by the time that really passed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { get } from '../support/http.ts';
import {
  allowed,
  assertOneSharedBucket,
  assertStoreBack,
  assertStoreFallback,
  type OkBackend,
  type RateLimitGateway,
  STORE_DOWN,
  startOkBackend,
  startRateLimitGateway,
  statuses,
} from '../support/rate-limit.ts';
import { type RedisServer, startRedis } from '../support/redis.ts';
import { missingPackage } from '../support/services.ts';

let backend: OkBackend;

const gateway = (workers: number, extra = '') => startRateLimitGateway(workers, backend.port, extra);

before(async () => {
  backend = await startOkBackend();
});
after(() => backend.server.close());

for (const workers of [2, 4]) {
  describe(`one instance with ${workers} workers`, () => {
    let g: RateLimitGateway;
    before(async () => {
      g = await gateway(workers);
    });
    after(async () => {
      await g?.gw.stop();
    });

    it('allows exactly requestsPerUnit + burst, however the requests spread over the workers', async () => {
      // 15 per hour and a burst of 5: a bucket of 20.
      const list = await statuses(g.port, '/burst', 60);
      assert.equal(allowed(list), 20, JSON.stringify(list));
      assert.ok(list.every((s) => s === 200 || s === 429));
    });

    it('refuses with 429, Retry-After and the RateLimit-* fields', async () => {
      const refused = await get(g.port, '/burst');
      assert.equal(refused.status, 429);
      assert.equal(refused.headers['ratelimit-limit'], '20', 'the bucket: requestsPerUnit + burst');
      assert.equal(refused.headers['ratelimit-remaining'], '0');
      const reset = Number(refused.headers['ratelimit-reset']);
      assert.ok(reset > 120 && reset <= 240, `one token per 4 minutes (15/hour): reset ${reset}`);
      assert.equal(refused.headers['retry-after'], refused.headers['ratelimit-reset']);
      assert.match(refused.body, /GH_RATE_LIMITED/);
    });

    it('holds 20 per second: never more than the bucket plus what the elapsed time refilled', async () => {
      const started = Date.now();
      const list: number[] = [];
      // Bounded in count and time.
      while (list.length < 400 && Date.now() - started < 2_500) list.push((await get(g.port, '/per-second')).status);
      const elapsedS = (Date.now() - started) / 1000;
      const ok = allowed(list);
      assert.ok(ok >= 20, `the full bucket first: ${ok}`);
      assert.ok(ok <= 20 + Math.ceil(20 * elapsedS) + 1, `${ok} allowed in ${elapsedS.toFixed(2)} s`);
    });

    it('bans after banAfter refusals: 429 for those, then 403 on every worker', async () => {
      const list = await statuses(g.port, '/ban', 10);
      assert.deepEqual(list, [200, 200, 429, 429, 429, 403, 403, 403, 403, 403]);
      const banned = await get(g.port, '/ban');
      assert.equal(banned.status, 403);
      assert.match(banned.body, /GH_RATE_LIMIT_BANNED/);
    });

    it('keys by header and by cookie; without them, by the client address', async () => {
      assert.equal(allowed(await statuses(g.port, '/by-key', 5, { 'x-api-key': 'a' })), 3);
      assert.equal(allowed(await statuses(g.port, '/by-key', 5, { 'x-api-key': 'b' })), 3);
      assert.equal(allowed(await statuses(g.port, '/by-key', 5)), 3, 'no header: the address is the key');
      assert.equal(allowed(await statuses(g.port, '/by-session', 5, { cookie: 'x=1; session=s1' })), 3);
      assert.equal(allowed(await statuses(g.port, '/by-session', 5, { cookie: 'session=s2' })), 3);
      assert.equal(allowed(await statuses(g.port, '/by-session', 4, { cookie: 'other=1' })), 3);
    });

    it('counts every refusal in gatehouse_ratelimit_rejected_total{route, middleware}', async () => {
      const text = await (await fetch(`http://127.0.0.1:${g.admin}/metrics`)).text();
      const count = (route: string) =>
        Number(
          new RegExp(`gatehouse_ratelimit_rejected_total\\{route="${route}",middleware="${route}"\\} (\\d+)`).exec(
            text,
          )?.[1] ?? -1,
        );
      assert.equal(count('burst'), 41);
      assert.equal(count('ban'), 9, '429s and 403s alike');
    });
  });
}

describe('two instances sharing Redis', { skip: missingPackage('redis-server', 'redis-server') }, () => {
  let redis: RedisServer;
  let a: RateLimitGateway;
  let b: RateLimitGateway;
  before(async () => {
    redis = await startRedis();
    const extra = `  redis: { addr: "127.0.0.1:${redis.port}" }`;
    a = await gateway(2, extra);
    b = await gateway(2, extra);
  });
  after(async () => {
    await Promise.all([a?.gw.stop(), b?.gw.stop()]);
    await redis?.stop();
  });

  it('allows the bucket once across both instances', async () => {
    await assertOneSharedBucket(a, b);
  });

  it('answers every request in flight when Redis is killed mid-run, each as its rule says', async () => {
    // Three clients on instance b, alternating the two rules; Redis dies after the first answers.
    // Redis's buckets: shared-local is spent, shared-deny has 10 tokens left; b's own are full.
    const seen: Array<[string, number]> = [];
    const client = async () => {
      for (let i = 0; i < 20; i++) {
        const path = i % 2 === 0 ? '/shared-local' : '/shared-deny';
        seen.push([path, (await get(b.port, path)).status]);
      }
    };
    const load = Promise.all([client(), client(), client()]);
    let loadDone = false;
    load.then(
      () => (loadDone = true),
      () => (loadDone = true),
    );
    while (seen.length < 6 && !loadDone) await new Promise((r) => setImmediate(r));
    await redis.kill();
    await load;
    assert.equal(seen.length, 60, 'every request answered');
    const local = seen.filter(([p]) => p === '/shared-local').map(([, s]) => s);
    const deny = seen.filter(([p]) => p === '/shared-deny').map(([, s]) => s);
    assert.ok(
      local.every((s) => s === 200 || s === 429),
      `local: ${local}`,
    );
    assert.ok(allowed(local) <= 20, `local: at most b's own bucket once Redis is gone: ${local}`);
    assert.ok(
      deny.every((s) => s === 200 || s === 503),
      `deny: ${deny}`,
    );
    assert.ok(allowed(deny) <= 10, `deny: at most what Redis had left: ${deny}`);
    // Most of the load came after the kill: both fallbacks answered some of it.
    assert.ok(local.includes(200), `local: b's own bucket took over: ${local}`);
    assert.ok(deny.includes(503), `deny: refused without its store: ${deny}`);
    const line = await b.gw.waitForLog((l) => String(l.msg).startsWith(STORE_DOWN));
    assert.equal(line.addr, `127.0.0.1:${redis.port}`);
  });

  it('keeps answering when Redis dies: `local` counts per instance, `deny` answers 503, logged once', async () => {
    await redis.kill();
    // `local`: the per-instance bucket takes over (fresh: 20 per instance), nothing hangs.
    await assertStoreFallback(a, redis.port);
    const status = (await (await fetch(`http://127.0.0.1:${a.admin}/status`)).json()) as {
      rateLimitStore?: { state: string; workersFallingBack: number };
    };
    assert.equal(status.rateLimitStore?.state, 'fallback');
  });

  it('goes back to Redis when it returns', async () => {
    await redis.restart();
    await assertStoreBack(a);
  });
});
