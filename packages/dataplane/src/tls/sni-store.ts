// Server certificates by TLS server name, one generation at a time. Every SecureContext carries the
// same client CA, CRLs, protocol policy and session-ticket keys, so client verification and session
// resumption are identical whichever name (and whichever worker) a client reaches.
//
// A store is built on prepare and made current on commit (active-sni.ts): the HTTPS server is
// created once, and its one SNICallback always reads the current store.
//
// Mixed ECDSA and RSA certificates (nodejs/node#54235): a context returned from SNICallback that
// holds several key pairs offers only the last one; the workaround (measured and explained in
// @gatehouse/pki server-context.ts) is one certificate per context, built by serverContextOptions,
// and a callback that always returns a context. test/tls/sni-store.test.ts and test/e2e/mtls.test.ts
// check ECDSA and RSA names side by side with Node and openssl s_client, TLS 1.2 and 1.3.
import tls from 'node:tls';
import type { ResolvedServerCertificate } from '@gatehouse/pki';
import { type SharedServerTls, serverContextOptions } from '@gatehouse/pki/server-context';
import { currentTicketKeys, parseTicketKeys, type TicketKeyPair } from '@gatehouse/pki/ticket-keys';
import { type ClientAuthPolicy, clientAuthModeKey, compileClientAuth, modeForHost } from './client-auth.ts';
import { SNI_CALLBACK } from './active-sni.ts';
import { registerContext } from './connection-trust.ts';
import { GenerationBuildError } from '../errors.ts';
import type { Snapshot } from '../messages.ts';
import { sessionTickets } from './session-tickets.ts';

export const ALPN_PROTOCOLS = ['h2', 'http/1.1'];

/** Node's ticket keys are exactly 48 bytes; the primary may send current + previous (96). */
function currentTicketKey(keys: Buffer): Buffer {
  try {
    return currentTicketKeys(keys);
  } catch (error) {
    throw new GenerationBuildError((error as Error).message, { cause: error });
  }
}

function ticketKeyPair(keys: Buffer): TicketKeyPair {
  try {
    return parseTicketKeys(keys);
  } catch (error) {
    throw new GenerationBuildError((error as Error).message, { cause: error });
  }
}

/** What every context of a generation shares (protocol policy, client CA and CRLs, ticket keys). */
export function sharedTlsOf(
  snapshot: Snapshot,
  ticketKeys: Buffer,
  clientAuth: ClientAuthPolicy = compileClientAuth(snapshot),
): SharedServerTls {
  return {
    clientCA: snapshot.tls.clientCA,
    crl: snapshot.tls.crl,
    tls: snapshot.config.gateway.tls,
    ticketKeys: currentTicketKey(ticketKeys),
    // With the CA bundle and the CRL, this decides the session id context: a change ends sessions.
    clientAuthMode: clientAuthModeKey(clientAuth.gatewayMode, clientAuth.requestCert, clientAuth.rejectAtHandshake),
  };
}

interface Entry {
  cert: ResolvedServerCertificate;
  context: tls.SecureContext;
}

/** One certificate's context; the ticket-key hook enabled with `hook` (see session-tickets.ts). */
function buildContext(
  cert: ResolvedServerCertificate,
  shared: SharedServerTls,
  clientAuth: ClientAuthPolicy,
  hook: boolean,
): { context: tls.SecureContext; hooked: boolean } {
  let context: tls.SecureContext;
  try {
    // One certificate per context, always (the nodejs/node#54235 workaround, see pki).
    context = tls.createSecureContext(serverContextOptions(cert, shared));
  } catch (error) {
    throw new GenerationBuildError(`certificate ${cert.source} (${cert.subject}): ${(error as Error).message}`, {
      cause: error,
    });
  }
  // The hook reads the worker's keys at each handshake; installing it changes nothing running.
  const hooked = sessionTickets.install(context, hook);
  registerContext(context, clientAuth);
  return { context, hooked };
}

export class SniStore {
  readonly generation: number;
  readonly clientAuth: ClientAuthPolicy;
  private readonly shared: SharedServerTls;
  readonly certificates: readonly ResolvedServerCertificate[];
  private readonly exact: Map<string, Entry>;
  /** `example.com` → the entry whose certificate names `*.example.com`. */
  private readonly wildcard: Map<string, Entry>;
  private readonly entries: Entry[];
  private readonly fallback: Entry;
  private readonly handshakeTimeoutMs: number;
  /** The worker's ticket keys once this store is committed (a rotation before then replaces them). */
  ticketKeys: TicketKeyPair;
  /**
   * Whether its contexts have the ticket-key hook enabled. Kept, not derived from `ticketKeys`: it
   * is the contexts' state, which lags the keys from a rotation until settleTicketHook, and stays
   * enabled when building the contexts again without it failed.
   */
  ticketHook: boolean;

  private constructor(
    generation: number,
    clientAuth: ClientAuthPolicy,
    shared: SharedServerTls,
    ticketKeys: TicketKeyPair,
    entries: Entry[],
    fallback: Entry,
    handshakeTimeoutMs: number,
    ticketHook: boolean,
  ) {
    this.generation = generation;
    this.ticketHook = ticketHook;
    this.clientAuth = clientAuth;
    this.shared = shared;
    this.ticketKeys = ticketKeys;
    this.entries = entries;
    this.fallback = fallback;
    this.handshakeTimeoutMs = handshakeTimeoutMs;
    this.certificates = entries.map((e) => e.cert);
    this.exact = new Map();
    this.wildcard = new Map();
    // First listed wins for a name two certificates share, as with the default.
    for (const entry of entries) {
      for (const name of entry.cert.names) {
        const lower = name.toLowerCase();
        if (lower.startsWith('*.')) {
          const suffix = lower.slice(2);
          if (!this.wildcard.has(suffix)) this.wildcard.set(suffix, entry);
        } else if (!this.exact.has(lower)) {
          this.exact.set(lower, entry);
        }
      }
    }
  }

  /**
   * Builds every context of a generation, changing nothing that runs: the ticket keys are parsed
   * here and only become the worker's at commit. Throws GenerationBuildError naming the certificate.
   */
  static build(snapshot: Snapshot, ticketKeys: Buffer): SniStore {
    const certificates = snapshot.tls.certificates;
    if (certificates.length === 0) throw new GenerationBuildError('no server certificate for the HTTPS listener');
    const clientAuth = compileClientAuth(snapshot);
    const shared = sharedTlsOf(snapshot, ticketKeys, clientAuth);
    const keyPair = ticketKeyPair(ticketKeys);
    const hook = keyPair.previous !== null;
    const entries: Entry[] = [];
    let hooked = false;
    for (const cert of certificates) {
      const context = buildContext(cert, shared, clientAuth, hook);
      hooked = context.hooked;
      entries.push({ cert, context: context.context });
    }
    const fallback = entries.find((e) => e.cert.isDefault) ?? (entries[0] as Entry);
    return new SniStore(
      snapshot.generation,
      clientAuth,
      shared,
      keyPair,
      entries,
      fallback,
      snapshot.config.gateway.timeouts.requestHeaderMs,
      hooked,
    );
  }

  /** Enables the ticket-key hook on every context (keys with a previous key arrived). */
  enableTicketHook(): void {
    for (const entry of this.entries) this.ticketHook = sessionTickets.install(entry.context, true);
  }

  /**
   * Builds every context again without the ticket-key hook (the keys lost their previous key),
   * then swaps them in: the same certificates, options and session id context, so sessions resume
   * across the swap. Nothing changes when a build fails (GenerationBuildError).
   */
  rebuildWithoutTicketHook(): void {
    const built = this.entries.map((entry) => buildContext(entry.cert, this.shared, this.clientAuth, false).context);
    // The SNI callback reads `entry.context` at each handshake; no handshake runs during this loop.
    for (const [i, entry] of this.entries.entries()) entry.context = built[i] as tls.SecureContext;
    this.ticketHook = false;
  }

  /** Exact name, then a one-label wildcard (`*.example.com` covers `a.example.com` only), then the default. */
  select(servername: string | undefined): tls.SecureContext {
    return this.entryFor(servername).context;
  }

  /** The certificate a name is served (for logs, /status and tests). */
  certificateFor(servername: string | undefined): ResolvedServerCertificate {
    return this.entryFor(servername).cert;
  }

  private entryFor(servername: string | undefined): Entry {
    if (!servername) return this.fallback;
    let name = servername;
    for (let i = 0; i < name.length; i++) {
      const c = name.charCodeAt(i);
      if (c >= 65 && c <= 90) {
        name = name.toLowerCase();
        break;
      }
    }
    const exact = this.exact.get(name);
    if (exact !== undefined) return exact;
    const dot = name.indexOf('.');
    if (dot > 0) {
      const wild = this.wildcard.get(name.slice(dot + 1));
      if (wild !== undefined) return wild;
    }
    return this.fallback;
  }

  /** Client-certificate mode the routes of this name are held to (`mixed` when its routes differ). */
  policyFor(servername: string | undefined): ReturnType<typeof modeForHost> {
    if (!servername) return this.clientAuth.gatewayMode;
    return modeForHost(this.clientAuth, servername);
  }

  /**
   * New ticket keys (rotation) for every context of this generation: the current key, which
   * contexts without the ticket-key hook seal and open with (see session-tickets.ts); contexts
   * with it ask `sessionTickets`, and keep the same current key for Node's own callback.
   */
  setTicketKeys(keys: Buffer): void {
    const key = currentTicketKey(keys);
    this.ticketKeys = ticketKeyPair(keys);
    this.shared.ticketKeys = key;
    for (const entry of this.entries) entry.context.context.setTicketKeys(key);
  }

  /** Options for the server's own (default, no-SNI) context, without the server-level switches. */
  defaultContextOptions(): tls.SecureContextOptions {
    return serverContextOptions(this.fallback.cert, this.shared);
  }

  /** More than one certificate: the server name picks the context, so the SNI callback is needed. */
  get picksByName(): boolean {
    return this.entries.length > 1;
  }

  /** The context of clients that send no server name: the default certificate's, built already. */
  defaultContext(): tls.SecureContext {
    return this.fallback.context;
  }

  /** Options for tls/https/http2 `createSecureServer`. */
  serverOptions(): tls.TlsOptions {
    return {
      ...this.defaultContextOptions(),
      SNICallback: SNI_CALLBACK,
      requestCert: this.clientAuth.requestCert,
      rejectUnauthorized: this.clientAuth.rejectAtHandshake,
      ALPNProtocols: [...ALPN_PROTOCOLS],
      handshakeTimeout: this.handshakeTimeoutMs,
    };
  }
}
