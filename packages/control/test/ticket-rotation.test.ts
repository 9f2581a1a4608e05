// The primary's ticket-key clock: a rotation sends current + previous; once no ticket the previous
// key sealed can be valid, the current key is sent alone (so workers drop the ticket-key hook).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateTicketKeys } from '@gatehouse/pki';
import { SerialQueue } from '../src/rollout.ts';
import { newTicketKeyRing, rotateTicketKeys, type TicketKeyRing } from '../src/ticket-keys.ts';
import { TicketRotation } from '../src/ticket-rotation.ts';

function rotationOf(ring: TicketKeyRing, changes: { rotated(wire: string): void; retired(wire: string): void }) {
  return new TicketRotation({
    ring,
    queue: new SerialQueue(),
    sessionTimeoutMs: 300_000,
    isRunning: () => true,
    ...changes,
  });
}

test('a previous key whose tickets have all expired is forgotten: the current key is sent alone', async () => {
  const [k1, k2] = [generateTicketKeys(), generateTicketKeys()];
  // Rotated an hour ago with one-second sessions: no ticket k1 sealed is valid any more.
  const ring = rotateTicketKeys(newTicketKeyRing(k1, 1_000), k2, Date.now() - 3_600_000, 1_000);
  let retired: (wire: string) => void = () => {};
  const sent = new Promise<string>((resolve) => {
    retired = resolve;
  });
  const rotation = rotationOf(ring, { rotated: () => assert.fail('no rotation was due'), retired });
  try {
    assert.equal(Buffer.from(rotation.wire, 'base64').length, 96, 'both keys until the retirement runs');
    const wire = await sent;
    assert.deepEqual(Buffer.from(wire, 'base64'), k2);
    assert.equal(rotation.wire, wire, 'new generations carry the current key alone too');
  } finally {
    rotation.stop();
  }
});

test('a rotation sends current + previous, and keeps the previous key while its tickets may be valid', async () => {
  const k1 = generateTicketKeys();
  let retirements = 0;
  let rotated: (wire: string) => void = () => {};
  const sent = new Promise<string>((resolve) => {
    rotated = resolve;
  });
  const rotation = rotationOf(newTicketKeyRing(k1, 300_000), {
    rotated,
    retired: () => {
      retirements++;
    },
  });
  try {
    rotation.schedule(20);
    const wire = Buffer.from(await sent, 'base64');
    assert.equal(wire.length, 96);
    assert.deepEqual(wire.subarray(48), k1, 'the key before the rotation still opens its tickets');
  } finally {
    rotation.stop();
  }
  assert.equal(retirements, 0, 'k1 sealed five-minute tickets moments ago');
});
