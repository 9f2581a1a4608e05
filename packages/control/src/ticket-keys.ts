// Session-ticket keys shared by every worker, so that a client resumes on any worker.
//
// Node's `ticketKeys` / `setTicketKeys()` hold exactly one 48-byte key (16 name + 16 HMAC + 16 AES):
// OpenSSL's ticket-key callback in Node only accepts tickets whose name equals the current key's.
// Node offers no way to keep a previous key decrypting, so a ticket issued before a rotation costs the
// client one full handshake afterwards (never a failure). We still keep and send the previous key
// (current first, then previous, 96 bytes) so a worker that gains multi-key support can use it; a
// worker that cannot uses the first 48 bytes.
import { randomBytes } from 'node:crypto';

export const TICKET_KEY_BYTES = 48;

export interface TicketKeyRing {
  current: Buffer;
  previous: Buffer | null;
  rotatedAt: number;
}

export function newTicketKeyRing(fresh: Buffer, now: number): TicketKeyRing {
  assertKey(fresh);
  return { current: fresh, previous: null, rotatedAt: now };
}

/** The current key becomes the previous one; the one before that is forgotten. */
export function rotateTicketKeys(ring: TicketKeyRing, fresh: Buffer, now: number): TicketKeyRing {
  assertKey(fresh);
  return { current: fresh, previous: ring.current, rotatedAt: now };
}

/** For `Snapshot.tls.ticketKeys`: the current key only, base64 of 48 bytes (what Node accepts). */
export function snapshotTicketKeys(ring: TicketKeyRing): string {
  return ring.current.toString('base64');
}

/** For `gh:ticket-keys`: current first, then previous when there is one (48 or 96 bytes, base64). */
export function rotationTicketKeys(ring: TicketKeyRing): string {
  return (ring.previous ? Buffer.concat([ring.current, ring.previous]) : ring.current).toString('base64');
}

export function randomTicketKey(): Buffer {
  return randomBytes(TICKET_KEY_BYTES);
}

function assertKey(key: Buffer): void {
  if (key.length !== TICKET_KEY_BYTES) {
    throw new RangeError(`a session-ticket key is ${TICKET_KEY_BYTES} bytes, got ${key.length}`);
  }
}
