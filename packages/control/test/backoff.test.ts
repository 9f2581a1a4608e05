import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextRespawn, respawnDelayMs } from '../src/workers.ts';

test('respawn delay doubles from 100 ms and stops at 10 s', () => {
  assert.deepEqual([0, 1, 2, 3, 6, 7, 8, 30].map(respawnDelayMs), [100, 200, 400, 800, 6_400, 10_000, 10_000, 10_000]);
});

test('quick deaths climb the backoff; a worker up for 30 s resets it', () => {
  let failures = 0;
  const delays: number[] = [];
  for (let i = 0; i < 4; i++) {
    const step = nextRespawn(failures, 500);
    delays.push(step.delayMs);
    failures = step.failures;
  }
  assert.deepEqual(delays, [100, 200, 400, 800]);
  assert.deepEqual(nextRespawn(failures, 30_000), { delayMs: 100, failures: 1 });
  assert.deepEqual(nextRespawn(failures, 29_999), { delayMs: 1_600, failures: 5 });
});
