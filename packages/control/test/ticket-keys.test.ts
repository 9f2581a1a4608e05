import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateTicketKeys } from '@gatehouse/pki';
import { newTicketKeyRing, rotateTicketKeys, wireTicketKeys } from '../src/ticket-keys.ts';

test('rotation keeps exactly one previous key, sent after the current one', () => {
  const [k1, k2, k3] = [generateTicketKeys(), generateTicketKeys(), generateTicketKeys()];
  let ring = newTicketKeyRing(k1, 0);
  assert.deepEqual(Buffer.from(wireTicketKeys(ring), 'base64'), k1, 'before any rotation: the current key alone');
  ring = rotateTicketKeys(ring, k2, 1);
  ring = rotateTicketKeys(ring, k3, 2);
  assert.deepEqual(ring.current, k3);
  assert.deepEqual(ring.previous, k2);
  const both = Buffer.from(wireTicketKeys(ring), 'base64');
  assert.equal(both.length, 96);
  assert.deepEqual(both.subarray(0, 48), k3, 'current first');
  assert.deepEqual(both.subarray(48), k2, 'then previous');
});

test('a key of the wrong size is refused', () => {
  assert.throws(() => newTicketKeyRing(Buffer.alloc(32), 0), RangeError);
});
