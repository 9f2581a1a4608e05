// Session-ticket keys of this worker: the current key seals every new ticket, and the previous key
// still opens tickets sealed before the last rotation, so a rotation costs no client a full
// handshake (a ticket opened with the previous key is renewed under the current one).
//
// Node's public API holds one 48-byte key per context (`ticketKeys`, `setTicketKeys()`). Its native
// SecureContext also has the hook that Node's own tests use (test-https-resume-after-renew.js):
// `enableTicketKeyCallback()` makes OpenSSL ask `onticketkeycallback(name, iv, encrypt)` for the key
// of each ticket, and the answer `[result, hmacKey, aesKey, name?, iv?]` is what OpenSSL's
// SSL_CTX_set_tlsext_ticket_key_cb expects (result 1 = use, 2 = use and renew, 0 = unknown key).
// The hook is undocumented, so it is feature-detected: without it every context keeps the current
// key through `ticketKeys` (the previous key is then lost on rotation: one full handshake, never a
// failure). OpenSSL seals and opens tickets with the context a connection started on (its
// session_ctx), i.e. the server's own default context, not the SNI context; every context gets the
// hook anyway so that which one OpenSSL asks never matters.
import { randomFillSync } from 'node:crypto';
import type { SecureContext } from 'node:tls';
import { parseTicketKeys, type TicketKeyPair } from '@gatehouse/pki/ticket-keys';

/** OpenSSL's ticket-key callback results. */
export const TICKET_UNKNOWN = 0;
export const TICKET_OK = 1;
export const TICKET_RENEW = 2;

/** The 16-byte parts of a key: name, HMAC secret, AES key. */
const PART = 16;

/** What Node's native context expects back: `[result, hmac, aes]`, plus `name, iv` when sealing. */
export type TicketKeyAnswer = [number, Buffer, Buffer] | [number, Buffer, Buffer, Buffer, Buffer];

/**
 * Which key seals or opens a ticket. Sealing always uses the current key; a ticket named by the
 * previous key is opened and renewed; any other name is unknown (a full handshake follows).
 */
export function answerTicketKey(keys: TicketKeyPair, name: Buffer, encrypt: boolean, iv: Buffer): TicketKeyAnswer {
  const current = keys.current;
  if (encrypt) return [TICKET_OK, current.hmac, current.aes, current.name, iv];
  if (name.equals(current.name)) return [TICKET_OK, current.hmac, current.aes];
  const previous = keys.previous;
  if (previous !== null && name.equals(previous.name)) return [TICKET_RENEW, previous.hmac, previous.aes];
  // OpenSSL ignores the keys with result 0, but Node checks their lengths.
  return [TICKET_UNKNOWN, current.hmac, current.aes];
}

/** Result 0 with well-sized (unused) buffers: Node checks their lengths even then. */
const ZERO_PART = Buffer.alloc(PART);
const NO_TICKET: TicketKeyAnswer = [TICKET_UNKNOWN, ZERO_PART, ZERO_PART, ZERO_PART, ZERO_PART];

interface NativeContext {
  enableTicketKeyCallback?: () => void;
  onticketkeycallback?: (name: Buffer, iv: Buffer, encrypt: boolean) => TicketKeyAnswer;
}

/** The worker's ticket keys, shared by every context of every generation (one instance per worker). */
export class SessionTicketKeys {
  private keys: TicketKeyPair | null = null;
  /** Created once: OpenSSL calls it with `this` bound to the native context. */
  private readonly callback: (name: Buffer, iv: Buffer, encrypt: boolean) => TicketKeyAnswer;

  constructor() {
    this.callback = (name, iv, encrypt) => {
      const keys = this.keys;
      // Never throw into OpenSSL: without keys no ticket is issued or accepted (full handshakes).
      if (keys === null) return NO_TICKET;
      // Sealing takes a fresh IV from us; opening uses the ticket's own.
      return answerTicketKey(keys, name, encrypt, encrypt ? randomFillSync(Buffer.allocUnsafe(PART)) : iv);
    };
  }

  /** New keys from the primary (a rotation). */
  update(wire: Buffer): void {
    this.keys = parseTicketKeys(wire);
  }

  /** Keys parsed ahead (a prepared generation's), made current at its commit. */
  use(keys: TicketKeyPair): void {
    this.keys = keys;
  }

  /**
   * Lets `context` seal and open tickets with these keys. False when this Node has no ticket-key
   * hook: the context then uses the current key it was built with (`ticketKeys`).
   */
  install(context: SecureContext): boolean {
    const native = (context as unknown as { context?: NativeContext }).context;
    if (native === undefined || typeof native.enableTicketKeyCallback !== 'function') return false;
    native.enableTicketKeyCallback();
    native.onticketkeycallback = this.callback;
    return true;
  }
}

/** This worker's keys. */
export const sessionTickets = new SessionTicketKeys();

/** A tls.Server's own default context (Node keeps it in `_sharedCreds`; replaced by setSecureContext). */
export function serverDefaultContext(server: object): SecureContext | null {
  const creds = (server as { _sharedCreds?: SecureContext })._sharedCreds;
  return creds ?? null;
}
