// Which SniStore new TLS handshakes read, and the commit that makes a store current on the HTTPS
// server: the server is created once, each generation only swaps `activeSni.store` (one
// assignment) and the server's own default context. The SNICallback below is created once and
// always reads the current store.
import type { SecureContext, Server as TlsServer } from 'node:tls';
import { sessionTickets } from './session-tickets.ts';
import type { SniStore } from './sni-store.ts';

/** The store the SNICallback reads. Swapped by installSniStore (or by assigning `.store`). */
export const activeSni: { store: SniStore | null } = { store: null };

function sniCallback(servername: string, callback: (err: Error | null, ctx?: SecureContext) => void): void {
  const store = activeSni.store;
  if (store === null) {
    callback(new Error('no certificates loaded'));
    return;
  }
  callback(null, store.select(servername));
}

/** The SNICallback every server uses; exported so a caller can assert it is wired. */
export const SNI_CALLBACK = sniCallback;

/**
 * Where a tls.Server keeps its SNICallback: a private symbol of Node's, found once per server as
 * the property that holds ours (servers are created with it). null when this Node keeps it
 * elsewhere: the callback then simply stays.
 */
const sniSlots = new WeakMap<object, symbol | null>();
function sniSlotOf(server: object): symbol | null {
  let slot = sniSlots.get(server);
  if (slot === undefined) {
    const holder = symbolFields(server);
    slot = Object.getOwnPropertySymbols(server).find((s) => holder[s] === sniCallback) ?? null;
    sniSlots.set(server, slot);
  }
  return slot;
}

/** The SNI callback a server holds now (undefined: none, the server's own context serves every name). */
export function sniCallbackOf(server: object): unknown {
  const slot = sniSlotOf(server);
  return slot === null ? SNI_CALLBACK : symbolFields(server)[slot];
}

/** A server's symbol-keyed fields, where Node keeps private state such as the SNICallback. */
function symbolFields(server: object): Record<symbol, unknown> {
  return server as Record<symbol, unknown>;
}

/** Fields of Node's tls.Server that its types do not list. */
interface ServerSwitches {
  requestCert: boolean;
  rejectUnauthorized: boolean;
  /** The server's own context (what `setSecureContext()` would build from options). */
  _sharedCreds: SecureContext;
}

/**
 * Makes `store` current (commit): assignments of what SniStore.build prepared, and no context is
 * built here. The SNI callback reads `activeSni.store`; the server's own context (clients that send
 * no SNI, and the one OpenSSL seals tickets with) becomes the default certificate's prebuilt
 * context; the client-certificate switches are read by Node for each new connection; the store's
 * ticket keys become the worker's. Connections already established keep their generation.
 */
export function installSniStore(server: TlsServer | null, store: SniStore): void {
  activeSni.store = store;
  sessionTickets.use(store.ticketKeys);
  if (server === null) return;
  const switches = server as unknown as ServerSwitches;
  switches._sharedCreds = store.defaultContext();
  // One certificate: the server's own context answers every name, so no handshake needs to call
  // into JavaScript to pick one. Node reads the callback from the server for each new connection.
  const slot = sniSlotOf(server);
  if (slot !== null) symbolFields(server)[slot] = store.picksByName ? sniCallback : undefined;
  switches.requestCert = store.clientAuth.requestCert;
  switches.rejectUnauthorized = store.clientAuth.rejectAtHandshake;
}
