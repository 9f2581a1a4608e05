import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateTicketKeys } from '@gatehouse/pki';
import {
  forgetExpiredPreviousKey,
  newTicketKeyRing,
  PREVIOUS_KEY_GRACE_MS,
  previousKeyMattersUntil,
  rotateTicketKeys,
  wireTicketKeys,
  withSessionTimeout,
} from '../src/ticket-keys.ts';

test('rotation keeps exactly one previous key, sent after the current one', () => {
  const [k1, k2, k3] = [generateTicketKeys(), generateTicketKeys(), generateTicketKeys()];
  let ring = newTicketKeyRing(k1);
  assert.deepEqual(Buffer.from(wireTicketKeys(ring), 'base64'), k1, 'before any rotation: the current key alone');
  ring = rotateTicketKeys(ring, k2, 1, 300_000);
  ring = rotateTicketKeys(ring, k3, 2, 300_000);
  assert.deepEqual(ring.current, k3);
  assert.deepEqual(ring.previous, k2);
  const both = Buffer.from(wireTicketKeys(ring), 'base64');
  assert.equal(both.length, 96);
  assert.deepEqual(both.subarray(0, 48), k3, 'current first');
  assert.deepEqual(both.subarray(48), k2, 'then previous');
});

test('the previous key matters for the session lifetime after the rotation (whole seconds), plus the grace', () => {
  assert.equal(previousKeyMattersUntil(1_000, 300_000), 1_000 + 300_000 + PREVIOUS_KEY_GRACE_MS);
  // OpenSSL counts whole seconds: 1.6 s is 2 s, and less than half a second is still one.
  assert.equal(previousKeyMattersUntil(0, 1_600), 2_000 + PREVIOUS_KEY_GRACE_MS);
  assert.equal(previousKeyMattersUntil(0, 100), 1_000 + PREVIOUS_KEY_GRACE_MS);
});

test('the previous key is forgotten once no ticket it sealed can be valid, not before', () => {
  const [k1, k2] = [generateTicketKeys(), generateTicketKeys()];
  const start = newTicketKeyRing(k1, 60_000);
  assert.equal(start.previousUntil, null);
  assert.equal(forgetExpiredPreviousKey(start, 10 ** 12), start, 'no previous key: nothing to forget');
  const rotated = rotateTicketKeys(start, k2, 10_000, 5_000);
  const until = 10_000 + 60_000 + PREVIOUS_KEY_GRACE_MS;
  assert.equal(rotated.previousUntil, until);
  assert.equal(forgetExpiredPreviousKey(rotated, until - 1), rotated, 'a ticket sealed by k1 may still be valid');
  const retired = forgetExpiredPreviousKey(rotated, until);
  assert.equal(retired.previous, null);
  assert.equal(retired.previousUntil, null);
  assert.deepEqual(retired.current, k2, 'the current key stays');
  assert.deepEqual(Buffer.from(wireTicketKeys(retired), 'base64'), k2, 'and is sent alone');
});

test('the previous key is kept for the longest session timeout served while it sealed, not the one now', () => {
  const [k1, k2, k3] = [generateTicketKeys(), generateTicketKeys(), generateTicketKeys()];
  let ring = newTicketKeyRing(k1, 60_000);
  ring = withSessionTimeout(ring, 600_000); // a reload raised it: k1 now seals ten-minute tickets
  ring = withSessionTimeout(ring, 30_000); // and lowered it: k1's ten-minute tickets are still out
  assert.equal(ring.longestSessionTimeoutMs, 600_000);
  ring = rotateTicketKeys(ring, k2, 1_000, 30_000);
  assert.equal(ring.previousUntil, 1_000 + 600_000 + PREVIOUS_KEY_GRACE_MS, 'k1 sealed under ten minutes');
  assert.equal(ring.longestSessionTimeoutMs, 30_000, 'k2 seals under the timeout served now');
  ring = rotateTicketKeys(ring, k3, 2_000, 30_000);
  assert.equal(ring.previousUntil, 2_000 + 30_000 + PREVIOUS_KEY_GRACE_MS, 'k2 sealed under 30 s only');
});

test('a key of the wrong size is refused', () => {
  assert.throws(() => newTicketKeyRing(Buffer.alloc(32)), RangeError);
  assert.throws(() => rotateTicketKeys(newTicketKeyRing(generateTicketKeys()), Buffer.alloc(47), 1, 1), RangeError);
});
