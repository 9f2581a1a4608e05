// Session-ticket keys of this worker: the current key seals every new ticket, and the previous key
// still opens tickets sealed before the last rotation, so a rotation costs no client a full
// handshake (a ticket opened with the previous key is renewed under the current one).
//
// Node's public API holds one 48-byte key per context (`ticketKeys`, `setTicketKeys()`), which
// Node's own C++ callback seals and opens tickets with. Its native SecureContext also has the hook
// that Node's own tests use (test-https-resume-after-renew.js): `enableTicketKeyCallback()` makes
// OpenSSL ask `onticketkeycallback(name, iv, encrypt)` for the key of each ticket, and the answer
// `[result, hmacKey, aesKey, name?, iv?]` is what OpenSSL's SSL_CTX_set_tlsext_ticket_key_cb
// expects (result 1 = use, 2 = use and renew, 0 = unknown key). The hook costs a call into
// JavaScript for every ticket sealed or opened (about 6 % of the CPU of a handshake through the
// gateway, bench/RESULTS.md), and only the previous key needs it: so it is enabled only while the
// keys carry a previous key (ticketHookStep). `enableTicketKeyCallback()` has no way back: a worker
// whose keys lose their previous key builds its contexts again (ticket-hook.ts).
// Both ways seal with the same current key, AES-128-CBC and HMAC-SHA256, so a ticket sealed by one
// opens with the other; every context therefore keeps the current key in `ticketKeys` too.
//
// The hook is undocumented, so it is feature-detected: without it every context keeps the current
// key through `ticketKeys` (the previous key is then lost on rotation: one full handshake, never a
// failure). OpenSSL seals and opens tickets with the context a connection started on (its
// session_ctx), i.e. the server's own default context, while Node takes the key, or the hook's
// answer, from the connection's context of the moment (the one its server name picked, once
// picked): every context answers the hook, enabled or not, and holds the same current key, so
// that a connection that started on a context with the hook and picks a newer one without it (or
// the other way round) is still answered.
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

/** What contexts need when their keys are `keys`: the hook enabled, built again without it, or nothing. */
export type TicketHookStep = 'enable' | 'rebuild' | 'none';

/**
 * Only a previous key needs the hook (Node's own callback knows the current key alone). `hooked`:
 * whether the contexts have it enabled; `available`: whether this Node has the hook at all.
 */
export function ticketHookStep(keys: TicketKeyPair, hooked: boolean, available: boolean): TicketHookStep {
  const needed = keys.previous !== null;
  if (needed && !hooked) return available ? 'enable' : 'none';
  if (!needed && hooked) return 'rebuild';
  return 'none';
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
   * Makes `context` answer the hook with these keys, and with `hook` also enables it, so that
   * OpenSSL asks for the key of every ticket. True when the hook is now enabled; false without
   * `hook` or when this Node has no ticket-key hook: the context then seals and opens with the
   * current key it holds (`ticketKeys`).
   */
  install(context: SecureContext, hook: boolean): boolean {
    const native = nativeContextOf(context);
    if (native === undefined || typeof native.enableTicketKeyCallback !== 'function') return false;
    native.onticketkeycallback = this.callback;
    if (!hook) return false;
    native.enableTicketKeyCallback();
    return true;
  }

  /** Whether this Node's contexts have the ticket-key hook (`context`: any of them). */
  available(context: SecureContext): boolean {
    return typeof nativeContextOf(context)?.enableTicketKeyCallback === 'function';
  }
}

/** The native context behind a tls.SecureContext (Node's types give it as `any`). */
export function nativeContextOf(context: SecureContext): NativeContext | undefined {
  return context.context;
}

/** This worker's keys. */
export const sessionTickets = new SessionTicketKeys();

/** A tls.Server's own default context (Node keeps it in `_sharedCreds`; replaced by setSecureContext). */
export function serverDefaultContext(server: object): SecureContext | null {
  const creds = (server as { _sharedCreds?: SecureContext })._sharedCreds;
  return creds ?? null;
}
