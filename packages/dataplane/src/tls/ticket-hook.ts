// The session-ticket key hook on a generation's TLS contexts, kept to when it is needed: enabled
// while the worker's keys carry a previous key, and dropped (the contexts built again, which
// enableTicketKeyCallback() leaves no other way to do) once the primary stops sending one
// (session-tickets.ts says why, control ticket-keys.ts when).
import type { Server as TlsServer } from 'node:tls';
import { sessionTickets, ticketHookStep } from './session-tickets.ts';
import { activeSni, installSniStore } from './active-sni.ts';
import type { SniStore } from './sni-store.ts';

/**
 * Ticket-key rotation without a new generation: the current key into every context of the store,
 * the server's own among them (installSniStore made the store's default context the server's:
 * what Node's own callback seals with; the hook reads `sessionTickets`, which the worker updates
 * first), then the hook enabled or dropped as the keys need.
 */
export function rotateTicketKeys(server: TlsServer | null, store: SniStore, keys: Buffer): Error | null {
  store.setTicketKeys(keys);
  return settleTicketHook(server, store);
}

/**
 * The hook on `store`'s contexts while its keys carry a previous key, and not otherwise: enabled
 * in place, or the contexts built again without it and, when `store` is the one `server` serves,
 * installed (assignments). `server` null: a store not serving yet (prepared, or before bind).
 * Returns the error when the contexts could not be built again: the store then keeps the hook,
 * which still answers every ticket rightly, only at the hook's cost.
 */
export function settleTicketHook(server: TlsServer | null, store: SniStore): Error | null {
  const step = ticketHookStep(store.ticketKeys, store.ticketHook, sessionTickets.available(store.defaultContext()));
  if (step === 'enable') store.enableTicketHook();
  if (step !== 'rebuild') return null;
  try {
    store.rebuildWithoutTicketHook();
  } catch (error) {
    return error as Error;
  }
  if (server !== null && activeSni.store === store) installSniStore(server, store);
  return null;
}
