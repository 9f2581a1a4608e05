import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decide, decideOnTimeout, recordAnswer, recordGone, SerialQueue, startRound } from '../src/rollout.ts';

test('all ready → commit', () => {
  let round = startRound(7, [1, 2]);
  assert.deepEqual(decide(round), { kind: 'pending' });
  round = recordAnswer(round, 1, { type: 'gh:ready', generation: 7 });
  assert.deepEqual(decide(round), { kind: 'pending' });
  round = recordAnswer(round, 2, { type: 'gh:ready', generation: 7 });
  assert.deepEqual(decide(round), { kind: 'commit' });
});

test('one failure → abort at once, with its reason', () => {
  let round = startRound(3, [1, 2, 3]);
  round = recordAnswer(round, 2, { type: 'gh:failed', generation: 3, reason: 'bad key' });
  assert.deepEqual(decide(round), { kind: 'abort', reason: 'worker 2: bad key' });
});

test('answers for another generation, from strangers, or twice are ignored', () => {
  let round = startRound(5, [1]);
  round = recordAnswer(round, 1, { type: 'gh:ready', generation: 4 });
  round = recordAnswer(round, 9, { type: 'gh:failed', generation: 5, reason: 'x' });
  round = recordAnswer(round, 1, { type: 'gh:listening', generation: 5, addresses: [] });
  assert.deepEqual(decide(round), { kind: 'pending' });
  round = recordAnswer(round, 1, { type: 'gh:ready', generation: 5 });
  round = recordAnswer(round, 1, { type: 'gh:failed', generation: 5, reason: 'late' });
  assert.deepEqual(decide(round), { kind: 'commit' });
});

test('a worker that exits mid-round is not waited for; nobody left → abort', () => {
  let round = startRound(2, [1, 2]);
  round = recordAnswer(round, 1, { type: 'gh:ready', generation: 2 });
  round = recordGone(round, 2);
  assert.deepEqual(decide(round), { kind: 'commit' });
  assert.equal(decide(recordGone(startRound(2, [1]), 1)).kind, 'abort');
});

test('timeout names the silent workers', () => {
  const round = recordAnswer(startRound(2, [1, 2, 3]), 2, { type: 'gh:ready', generation: 2 });
  const decision = decideOnTimeout(round, 10_000);
  assert.equal(decision.kind, 'abort');
  assert.match(decision.kind === 'abort' ? decision.reason : '', /worker 1, 3 did not answer prepare within 10000 ms/);
});

test('SerialQueue runs one task at a time and coalesces waiting reloads', async () => {
  const queue = new SerialQueue();
  const order: string[] = [];
  let release: () => void = () => {};
  const first = queue.coalesce('reload', async () => {
    order.push('first');
    await new Promise<void>((r) => {
      release = r;
    });
    return 1;
  });
  await new Promise((r) => setImmediate(r));
  let runs = 0;
  const second = queue.coalesce('reload', async () => {
    runs++;
    order.push('second');
    return 2;
  });
  const third = queue.coalesce('reload', async () => {
    runs++;
    return 3;
  });
  assert.equal(second, third, 'a reload asked during a reload joins the pending one');
  release();
  assert.deepEqual(await Promise.all([first, second, third]), [1, 2, 2]);
  assert.equal(runs, 1);
  assert.deepEqual(order, ['first', 'second']);
  assert.equal(await queue.coalesce('reload', async () => 4), 4, 'after the queue drains, a new run starts');
});
