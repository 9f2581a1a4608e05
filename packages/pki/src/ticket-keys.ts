// Session-ticket keys: the bytes the primary makes and rotates, and what a worker reads from them.
// Node's ticket key is 48 bytes: 16 of key name, 16 of HMAC secret, 16 of AES key. The wire form
// between primary and workers is 48 bytes (current) or 96 (current, then previous).
import { randomBytes } from 'node:crypto';
import { PkiError } from './errors.ts';

export const TICKET_KEYS_BYTES = 48;
const PART = 16;

export interface TicketKey {
  name: Buffer;
  hmac: Buffer;
  aes: Buffer;
}

export interface TicketKeyPair {
  current: TicketKey;
  previous: TicketKey | null;
}

/**
 * Seconds a session (TLS 1.2 id or ticket, TLS 1.3 ticket) may be resumed: OpenSSL counts whole
 * seconds, at least one. A ticket carries this lifetime and is refused once it has passed.
 */
export function ticketLifetimeSeconds(sessionTimeoutMs: number): number {
  return Math.max(1, Math.round(sessionTimeoutMs / 1000));
}

export function generateTicketKeys(): Buffer {
  return randomBytes(TICKET_KEYS_BYTES);
}

/**
 * The key a context is built with (`ticketKeys` holds exactly one): the current one of "current +
 * previous". The data plane's ticket-key callback, when Node has it, answers for both keys instead.
 */
export function currentTicketKeys(keys: Buffer): Buffer {
  if (keys.length < TICKET_KEYS_BYTES) {
    throw new PkiError(
      'GH_TICKET_KEYS',
      `session-ticket keys are ${keys.length} bytes; ${TICKET_KEYS_BYTES} are needed`,
    );
  }
  return keys.length === TICKET_KEYS_BYTES ? keys : keys.subarray(0, TICKET_KEYS_BYTES);
}

/** The wire form, split into its keys (copies: they outlive the message they came in). */
export function parseTicketKeys(keys: Buffer): TicketKeyPair {
  if (keys.length !== TICKET_KEYS_BYTES && keys.length !== 2 * TICKET_KEYS_BYTES) {
    throw new PkiError(
      'GH_TICKET_KEYS',
      `session-ticket keys are ${keys.length} bytes; ${TICKET_KEYS_BYTES} (current) or ${2 * TICKET_KEYS_BYTES} (current and previous) are expected`,
    );
  }
  return {
    current: splitKey(keys, 0),
    previous: keys.length === 2 * TICKET_KEYS_BYTES ? splitKey(keys, TICKET_KEYS_BYTES) : null,
  };
}

function splitKey(keys: Buffer, at: number): TicketKey {
  return {
    name: Buffer.from(keys.subarray(at, at + PART)),
    hmac: Buffer.from(keys.subarray(at + PART, at + 2 * PART)),
    aes: Buffer.from(keys.subarray(at + 2 * PART, at + 3 * PART)),
  };
}
