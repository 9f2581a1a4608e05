// Session-ticket keys shared by every worker, so that a client resumes on any worker.
//
// A key is Node's 48 bytes (16 name + 16 HMAC + 16 AES). The primary keeps the current key and the
// one before it and sends both (current first, 96 bytes): workers seal tickets with the current key
// and still open, and renew, tickets sealed with the previous one (dataplane tls/session-tickets.ts), so
// a rotation costs no client a full handshake. A ticket two rotations old is no longer opened.
import { TICKET_KEYS_BYTES } from '@gatehouse/pki';

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

/**
 * For `Snapshot.tls.ticketKeys` and `gh:ticket-keys`: current first, then previous when there is
 * one (48 or 96 bytes, base64).
 */
export function wireTicketKeys(ring: TicketKeyRing): string {
  return (ring.previous ? Buffer.concat([ring.current, ring.previous]) : ring.current).toString('base64');
}

function assertKey(key: Buffer): void {
  if (key.length !== TICKET_KEYS_BYTES) {
    throw new RangeError(`a session-ticket key is ${TICKET_KEYS_BYTES} bytes, got ${key.length}`);
  }
}
