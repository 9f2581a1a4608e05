// Server certificates by TLS server name, one generation at a time. Every SecureContext carries the
// same client CA, CRLs, protocol policy and session-ticket keys, so client verification and session
// resumption are identical whichever name (and whichever worker) a client reaches.
//
// The HTTPS server is created once; each generation only swaps `activeSni.store` (one assignment)
// and refreshes the server's own default context with installSniStore(). The SNICallback below is
// created once and always reads the current store.
//
// Mixed ECDSA and RSA certificates (nodejs/node#54235): Node switches to an SNI context by copying
// that context's certificate into the connection, which leaves the default context's certificate in
// the other key type's slot; some Node/OpenSSL combinations then serve the default for a name whose
// certificate has a different key type. On Node 24 with OpenSSL 3 each name gets its own certificate
// (test/sni-store.test.ts and test/e2e/mtls.test.ts check both key types with Node and openssl
// s_client, TLS 1.2 and 1.3). The guard that stays: every context holds exactly one certificate
// (never a dual RSA+EC context), and the server's default context is the default certificate's own.
import { createHash, constants as cryptoConstants } from 'node:crypto';
import type { Server as TlsServer } from 'node:tls';
import tls from 'node:tls';
import type { ResolvedServerCertificate } from '@gatehouse/pki';
import { type ClientAuthPolicy, compileClientAuth, modeForHost } from './client-auth.ts';
import { GenerationBuildError } from './errors.ts';
import type { Snapshot } from './messages.ts';

/** Same on every worker and every context: session IDs and tickets are scoped by it. */
export const SESSION_ID_CONTEXT = createHash('sha256').update('gatehouse').digest('hex').slice(0, 32);
export const TICKET_KEY_BYTES = 48;
export const ALPN_PROTOCOLS = ['h2', 'http/1.1'];

/** The protocol policy every context shares. */
export interface TlsPolicy {
  minVersion: tls.SecureVersion;
  ciphers: string;
  ecdhCurve: string;
  clientCA: string | null;
  crls: string[];
}

/** Node's ticket keys are exactly 48 bytes; the primary may send current + previous (96). */
export function currentTicketKey(keys: Buffer): Buffer {
  if (keys.length < TICKET_KEY_BYTES) {
    throw new GenerationBuildError(`session-ticket keys are ${keys.length} bytes, need ${TICKET_KEY_BYTES}`);
  }
  return keys.length === TICKET_KEY_BYTES ? keys : keys.subarray(0, TICKET_KEY_BYTES);
}

/** Splits a PEM bundle of CRLs: Node's `crl` option reads one CRL per string. */
export function crlBlocks(pem: string | null): string[] {
  if (pem === null) return [];
  const blocks: string[] = [];
  const end = '-----END X509 CRL-----';
  let from = 0;
  for (;;) {
    const start = pem.indexOf('-----BEGIN X509 CRL-----', from);
    if (start === -1) break;
    const stop = pem.indexOf(end, start);
    if (stop === -1) break;
    blocks.push(`${pem.slice(start, stop + end.length)}\n`);
    from = stop + end.length;
  }
  return blocks;
}

/**
 * The options of one certificate's SecureContext. (The pki package's serverContextOptions() is the
 * intended single source; until it lands this is the same policy: TLS 1.2+, AEAD ciphers from the
 * config, X25519:P-256, client CA and CRLs, shared ticket keys and session-id context, no
 * renegotiation, server cipher order.)
 */
export function contextOptions(
  cert: ResolvedServerCertificate,
  policy: TlsPolicy,
  ticketKey: Buffer,
): tls.SecureContextOptions {
  const options: tls.SecureContextOptions = {
    key: cert.keyPem,
    cert: cert.certPem,
    minVersion: policy.minVersion,
    maxVersion: 'TLSv1.3',
    ciphers: policy.ciphers,
    ecdhCurve: policy.ecdhCurve,
    honorCipherOrder: true,
    sessionIdContext: SESSION_ID_CONTEXT,
    ticketKeys: ticketKey,
    secureOptions: cryptoConstants.SSL_OP_NO_RENEGOTIATION | cryptoConstants.SSL_OP_NO_COMPRESSION,
  };
  if (cert.passphrase !== null) options.passphrase = cert.passphrase;
  if (policy.clientCA !== null) options.ca = policy.clientCA;
  if (policy.crls.length > 0) options.crl = policy.crls;
  return options;
}

export function policyOf(snapshot: Snapshot): TlsPolicy {
  const config = snapshot.config.gateway.tls;
  return {
    minVersion: config.minVersion,
    ciphers: config.ciphers,
    ecdhCurve: config.ecdhCurve,
    clientCA: snapshot.tls.clientCA,
    crls: crlBlocks(snapshot.tls.crl),
  };
}

interface Entry {
  cert: ResolvedServerCertificate;
  context: tls.SecureContext;
}

export class SniStore {
  readonly generation: number;
  readonly clientAuth: ClientAuthPolicy;
  readonly policy: TlsPolicy;
  readonly certificates: readonly ResolvedServerCertificate[];
  private readonly exact: Map<string, Entry>;
  /** `example.com` → the entry whose certificate names `*.example.com`. */
  private readonly wildcard: Map<string, Entry>;
  private readonly entries: Entry[];
  private readonly fallback: Entry;
  private ticketKey: Buffer;
  private readonly handshakeTimeoutMs: number;

  private constructor(
    generation: number,
    clientAuth: ClientAuthPolicy,
    policy: TlsPolicy,
    entries: Entry[],
    fallback: Entry,
    ticketKey: Buffer,
    handshakeTimeoutMs: number,
  ) {
    this.generation = generation;
    this.clientAuth = clientAuth;
    this.policy = policy;
    this.entries = entries;
    this.fallback = fallback;
    this.ticketKey = ticketKey;
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

  /** Builds every context of a generation. Throws GenerationBuildError naming the certificate. */
  static build(snapshot: Snapshot, ticketKeys: Buffer): SniStore {
    const certificates = snapshot.tls.certificates;
    if (certificates.length === 0) throw new GenerationBuildError('no server certificate for the HTTPS listener');
    const ticketKey = currentTicketKey(ticketKeys);
    const policy = policyOf(snapshot);
    const entries: Entry[] = [];
    for (const cert of certificates) {
      let context: tls.SecureContext;
      try {
        context = tls.createSecureContext(contextOptions(cert, policy, ticketKey));
      } catch (error) {
        throw new GenerationBuildError(`certificate ${cert.source} (${cert.subject}): ${(error as Error).message}`, {
          cause: error,
        });
      }
      entries.push({ cert, context });
    }
    const fallback = entries.find((e) => e.cert.isDefault) ?? (entries[0] as Entry);
    return new SniStore(
      snapshot.generation,
      compileClientAuth(snapshot),
      policy,
      entries,
      fallback,
      ticketKey,
      snapshot.config.gateway.timeouts.requestHeaderMs,
    );
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

  /** New ticket keys (rotation) for every context of this generation. */
  setTicketKeys(keys: Buffer): void {
    const key = currentTicketKey(keys);
    this.ticketKey = key;
    for (const entry of this.entries) entry.context.context.setTicketKeys(key);
  }

  /** Options for the server's own (default, no-SNI) context, without the server-level switches. */
  defaultContextOptions(): tls.SecureContextOptions {
    return contextOptions(this.fallback.cert, this.policy, this.ticketKey);
  }

  /** Options for tls/https/http2 `createSecureServer`. */
  serverOptions(): tls.TlsOptions {
    return {
      ...this.defaultContextOptions(),
      SNICallback: sniCallback,
      requestCert: this.clientAuth.requestCert,
      rejectUnauthorized: this.clientAuth.rejectAtHandshake,
      ALPNProtocols: [...ALPN_PROTOCOLS],
      handshakeTimeout: this.handshakeTimeoutMs,
    };
  }
}

/** The store the SNICallback reads. Swapped by installSniStore (or by assigning `.store`). */
export const activeSni: { store: SniStore | null } = { store: null };

function sniCallback(servername: string, callback: (err: Error | null, ctx?: tls.SecureContext) => void): void {
  const store = activeSni.store;
  if (store === null) {
    callback(new Error('no certificates loaded'));
    return;
  }
  callback(null, store.select(servername));
}

/** The SNICallback every server uses; exported so a caller can assert it is wired. */
export const SNI_CALLBACK = sniCallback;

interface ServerSwitches {
  requestCert: boolean;
  rejectUnauthorized: boolean;
}

/**
 * Makes `store` current for `server`: one assignment for the SNI callback, then the server's default
 * context (clients that send no SNI) and its client-certificate switches, which Node reads for each
 * new connection. Connections already established keep their generation.
 */
export function installSniStore(server: TlsServer | null, store: SniStore): void {
  activeSni.store = store;
  if (server === null) return;
  server.setSecureContext(store.defaultContextOptions());
  const switches = server as unknown as ServerSwitches;
  switches.requestCert = store.clientAuth.requestCert;
  switches.rejectUnauthorized = store.clientAuth.rejectAtHandshake;
}

/** Ticket-key rotation without a new generation: every context of the store and the server's own. */
export function rotateTicketKeys(server: TlsServer | null, store: SniStore, keys: Buffer): void {
  store.setTicketKeys(keys);
  server?.setTicketKeys(currentTicketKey(keys));
}
