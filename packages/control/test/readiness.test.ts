import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readinessOf } from '../src/readiness.ts';

const bound = { port: 8080 };

test('ready only when running with every slot serving, on the current generation and listening', () => {
  const one = { id: 1, generation: 3, listening: bound };
  const two = { id: 2, generation: 3, listening: bound };
  const both = [one, two];
  assert.deepEqual(readinessOf('running', both, 2, 3), { ready: true, reason: 'generation 3 on 2 workers' });
  assert.deepEqual(readinessOf('draining', both, 2, 3), { ready: false, reason: 'draining' });
  assert.deepEqual(readinessOf('running', both.slice(1), 2, 3), { ready: false, reason: '1 of 2 workers serving' });
  const behind = [one, { id: 2, generation: 2, listening: bound }];
  assert.deepEqual(readinessOf('running', behind, 2, 3), { ready: false, reason: 'worker 2 not on generation 3' });
  const unbound = [{ id: 1, generation: 3, listening: null }, two];
  assert.deepEqual(readinessOf('running', unbound, 2, 3), { ready: false, reason: 'worker 1 not listening' });
});
