// Session-ticket keys shared by every worker, so that a client resumes on any worker.
//
// A key is Node's 48 bytes (16 name + 16 HMAC + 16 AES). After a rotation the primary keeps the
// current key and the one before it and sends both (current first, 96 bytes): workers seal tickets
// with the current key and still open, and renew, tickets sealed with the previous one (dataplane
// tls/session-tickets.ts), so a rotation costs no client a full handshake. A ticket two rotations
// old is no longer opened.
//
// A ticket lives no longer than the session timeout it was sealed under, so once that has passed
// after the rotation, no ticket the previous key could open is still valid: the previous key is
// then forgotten and the current one sent alone (48 bytes), and workers drop the ticket-key hook,
// which costs a call into JavaScript for every ticket (bench/RESULTS.md).
import { TICKET_KEYS_BYTES, ticketLifetimeSeconds } from '@gatehouse/pki';

export interface TicketKeyRing {
  current: Buffer;
  previous: Buffer | null;
  /** When no ticket sealed by `previous` can be valid any more (null: no previous key). */
  previousUntil: number | null;
  /** The longest session timeout (ms) in effect since `current` became current: its tickets' lifetime. */
  longestSessionTimeoutMs: number;
}

/**
 * Slack after the last ticket sealed by the previous key expires: a worker learns of a rotation a
 * little after the primary made it, and may seal with the old key until then.
 */
export const PREVIOUS_KEY_GRACE_MS = 5_000;

export function newTicketKeyRing(fresh: Buffer, sessionTimeoutMs = 0): TicketKeyRing {
  assertKey(fresh);
  return {
    current: fresh,
    previous: null,
    previousUntil: null,
    longestSessionTimeoutMs: sessionTimeoutMs,
  };
}

/** A generation with this session timeout is served: the current key's tickets may live that long. */
export function withSessionTimeout(ring: TicketKeyRing, sessionTimeoutMs: number): TicketKeyRing {
  if (sessionTimeoutMs <= ring.longestSessionTimeoutMs) return ring;
  return { ...ring, longestSessionTimeoutMs: sessionTimeoutMs };
}

/**
 * The end of the previous key's use: the last ticket it sealed (at the rotation) expires after the
 * longest session timeout in effect while it was current, as OpenSSL counts it (whole seconds).
 */
export function previousKeyMattersUntil(rotatedAt: number, longestSessionTimeoutMs: number): number {
  return rotatedAt + ticketLifetimeSeconds(longestSessionTimeoutMs) * 1000 + PREVIOUS_KEY_GRACE_MS;
}

/**
 * The current key becomes the previous one; the one before that is forgotten. `sessionTimeoutMs`:
 * the one in effect now, the lifetime of the tickets the new key seals.
 */
export function rotateTicketKeys(
  ring: TicketKeyRing,
  fresh: Buffer,
  now: number,
  sessionTimeoutMs: number,
): TicketKeyRing {
  assertKey(fresh);
  return {
    current: fresh,
    previous: ring.current,
    previousUntil: previousKeyMattersUntil(now, ring.longestSessionTimeoutMs),
    longestSessionTimeoutMs: sessionTimeoutMs,
  };
}

/** The ring without its previous key once no ticket it sealed can be valid; else the same ring. */
export function forgetExpiredPreviousKey(ring: TicketKeyRing, now: number): TicketKeyRing {
  if (ring.previous === null || ring.previousUntil === null || now < ring.previousUntil) return ring;
  return { ...ring, previous: null, previousUntil: null };
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
