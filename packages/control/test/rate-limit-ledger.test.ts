// The primary's ledger and the workers' lease tables together, as they talk over the cluster channel:
// each message crosses one event-loop turn, as it does between processes.
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { bucketRule, type BucketRule } from '@gatehouse/dataplane';
import {
  ALLOW,
  BANNED,
  DENY,
  type LeaseBucket,
  type LeaseEntry,
  LeaseTable,
  type Verdict,
  WAIT,
} from '../../dataplane/src/middleware/rate-limit/lease-table.ts';
import { RateLimitLedger } from '../src/rate-limit-ledger.ts';

interface Instance {
  ledger: RateLimitLedger;
  tables: LeaseTable[];
  buckets: LeaseBucket[];
  clock: { now: number };
  asks: number;
}

function instance(workers: number, rule: BucketRule, id = 'api\u0000rl'): Instance {
  const clock = { now: 1_000_000 };
  const tables: LeaseTable[] = [];
  const inst: Instance = { ledger: null as unknown as RateLimitLedger, tables, buckets: [], clock, asks: 0 };
  inst.ledger = new RateLimitLedger(
    (workerId, items) => setImmediate(() => tables[workerId]?.answer(items)),
    () => clock.now,
  );
  inst.ledger.workers = workers;
  inst.ledger.define(new Map([[id, rule]]));
  for (let w = 0; w < workers; w++) {
    const table = new LeaseTable(
      (message) => {
        inst.asks++;
        setImmediate(() => inst.ledger.ask(w, message.items));
      },
      () => clock.now,
    );
    tables.push(table);
    inst.buckets.push(table.bucket(id, rule.banAfter > 0));
  }
  return inst;
}

/** One request on worker `w`: resolves with its verdict. */
function request(inst: Instance, w: number, key: string): Promise<Verdict> {
  return new Promise((resolve) => {
    const table = inst.tables[w] as LeaseTable;
    const entry: LeaseEntry = table.take(inst.buckets[w] as LeaseBucket, key, inst.clock.now);
    if (entry.verdict === WAIT) table.park(entry, { leaseDecided: (verdict: Verdict) => resolve(verdict) });
    else resolve(entry.verdict);
  });
}

function stop(inst: Instance): void {
  for (const t of inst.tables) t.stop();
}

describe('per-instance rate limit: ledger and leases', () => {
  for (const workers of [1, 2, 4]) {
    it(`allows exactly the bucket with ${workers} worker(s), requests spread over them, one at a time`, async () => {
      const inst = instance(workers, bucketRule('hour', 20, 0, 0, 60_000));
      let allowed = 0;
      for (let i = 0; i < 80; i++) if ((await request(inst, i % workers, '10.0.0.1')) === ALLOW) allowed++;
      assert.equal(allowed, 20);
      stop(inst);
    });

    it(`allows exactly the bucket with ${workers} worker(s) under concurrent bursts`, async () => {
      const inst = instance(workers, bucketRule('hour', 30, 10, 0, 60_000));
      const verdicts = await Promise.all(Array.from({ length: 200 }, (_, i) => request(inst, i % workers, 'k')));
      assert.equal(verdicts.filter((v) => v === ALLOW).length, 40);
      assert.equal(verdicts.filter((v) => v === DENY).length, 160);
      stop(inst);
    });
  }

  it('keeps keys apart', async () => {
    const inst = instance(2, bucketRule('hour', 3, 0, 0, 0));
    const a = await Promise.all(Array.from({ length: 6 }, (_, i) => request(inst, i % 2, 'a')));
    const b = await Promise.all(Array.from({ length: 6 }, (_, i) => request(inst, i % 2, 'b')));
    assert.equal(a.filter((v) => v === ALLOW).length, 3);
    assert.equal(b.filter((v) => v === ALLOW).length, 3);
    stop(inst);
  });

  it('refills at the configured rate, whatever the worker that asks', async () => {
    const inst = instance(4, bucketRule('second', 20, 0, 0, 0));
    let allowed = 0;
    // 10 simulated seconds, 100 requests per simulated second spread over 4 workers.
    for (let ms = 0; ms < 10_000; ms += 10) {
      inst.clock.now += 10;
      if ((await request(inst, (ms / 10) % 4, 'k')) === ALLOW) allowed++;
    }
    // 20 at start + 20/s × 10 s; a lease left in a worker at the end is at most one token each.
    assert.ok(allowed >= 216 && allowed <= 220, `allowed ${allowed}`);
    stop(inst);
  });

  it('bans after banAfter refusals: that one is 429, the next ones 403 on every worker', async () => {
    const inst = instance(2, bucketRule('minute', 2, 0, 3, 60_000));
    const seq: Verdict[] = [];
    for (let i = 0; i < 8; i++) seq.push(await request(inst, i % 2, 'abuser'));
    assert.deepEqual(seq, [ALLOW, ALLOW, DENY, DENY, DENY, BANNED, BANNED, BANNED]);
    inst.clock.now += 60_001;
    assert.equal(await request(inst, 0, 'abuser'), ALLOW, 'the ban ended and the bucket refilled');
    stop(inst);
  });

  it('asks the primary once per lease, not once per request, when the rate is far above the load', async () => {
    const inst = instance(2, bucketRule('second', 100_000, 0, 0, 0));
    for (let i = 0; i < 2000; i++) {
      inst.clock.now += 1;
      assert.equal(await request(inst, i % 2, 'k'), ALLOW);
    }
    assert.ok(inst.asks <= 20, `asks ${inst.asks}`);
    stop(inst);
  });

  it('takes idle leases back and forgets full buckets', async () => {
    const inst = instance(2, bucketRule('second', 1000, 0, 0, 0));
    assert.equal(await request(inst, 0, 'k'), ALLOW);
    assert.equal(inst.ledger.keyCount(), 1);
    inst.clock.now += 300;
    (inst.tables[0] as LeaseTable).sweep();
    await turn();
    await turn();
    inst.clock.now += 10;
    assert.equal(inst.ledger.sweep(), 1);
    assert.equal(inst.ledger.keyCount(), 0);
    inst.clock.now += 20_000;
    (inst.tables[0] as LeaseTable).sweep();
    assert.equal((inst.tables[0] as LeaseTable).keyCount(), 0);
    stop(inst);
  });

  it('a dead worker takes its lease with it (counted as used)', async () => {
    const inst = instance(2, bucketRule('hour', 100, 0, 0, 0));
    assert.equal(await request(inst, 0, 'k'), ALLOW);
    inst.ledger.workerGone(0);
    let allowed = 0;
    for (let i = 0; i < 200; i++) if ((await request(inst, 1, 'k')) === ALLOW) allowed++;
    assert.ok(allowed < 100, `allowed ${allowed}`);
    stop(inst);
  });

  it('refuses, briefly, a bucket it does not know', async () => {
    const inst = instance(1, bucketRule('hour', 100, 0, 0, 0));
    const table = inst.tables[0] as LeaseTable;
    const unknown = table.bucket('gone\u0000rl', false);
    const verdict = await new Promise<Verdict>((resolve) => {
      const e = table.take(unknown, 'k', inst.clock.now);
      if (e.verdict === WAIT) table.park(e, { leaseDecided: resolve });
      else resolve(e.verdict);
    });
    assert.equal(verdict, DENY);
    stop(inst);
  });
});
