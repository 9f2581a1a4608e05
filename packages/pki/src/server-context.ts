// The TLS options every inbound SecureContext is built from, and the session-ticket keys they share.
//
// One context per certificate, never one context holding several key pairs (nodejs/node#54235).
// The issue reports that a context returned from SNICallback does not behave like the server's
// default context when key types differ. Measured on Node 24.21 (OpenSSL 3.5.8), TLS 1.2 and 1.3,
// with Node, `openssl s_client` and `curl` clients (the pki tests repeat the first part on every run):
//   - a context holding ONE certificate, returned from SNICallback, is served correctly whatever
//     the key type of the server's default context (ECDSA default + RSA name and the reverse);
//   - a context holding TWO key pairs (ECDSA + RSA, "dual certificate") is served correctly only as
//     the server's default context. Returned from SNICallback, it offers only the key pair added
//     last, so a client that cannot use that key type fails the handshake.
// The workaround is therefore structural: `serverContextOptions` takes exactly one certificate, so
// each SNI name gets a context whose only certificate is the one that name must be served, and a
// name never depends on the key type of the default context. The SNICallback must always return a
// context (the default certificate's own context for unknown names), never `undefined`.
// If two certificates of different key types list the same name, only one of them can serve it
// through SNI: the SNI store should keep the first listed.
//
// Everything that must be identical across contexts and workers comes from `shared`:
// - client CA and CRL, so client verification is the same for every SNI name (Node switches the
//   verify store to the SNI context's);
// - session-ticket keys and the session id context. OpenSSL encrypts and decrypts tickets with the
//   keys of the context the connection started on, and refuses a resumption whose session id context
//   differs, so every context of every worker carries the same values and a ticket issued by one
//   worker, for any name, resumes on any other.
//
// The session id context is also what ends sessions when the client-auth material changes. A resumed
// session skips certificate verification: it carries the verdict of the handshake that made it. So
// the context is a hash of the client CA bundle, the CRL and the client-auth mode (sessionIdContextFor):
// every worker computes the same value from the same snapshot, and after a revocation or a CA removal
// no TLS 1.2 session and no TLS 1.3 ticket from before it resumes (OpenSSL compares the session's
// context with the server's default context, which the data plane replaces on every commit; it checks
// tickets and session ids alike, and falls back to a full handshake, which verifies the certificate).

import { constants, createHash } from 'node:crypto';
import type { SecureContextOptions } from 'node:tls';
import type { TlsConfig } from '@gatehouse/config';
import { DEFAULT_CIPHERS, DEFAULT_ECDH_CURVE } from '@gatehouse/config/tls-defaults';
import { certificateBlocks, splitCrls } from './inspect.ts';
import { currentTicketKeys, ticketLifetimeSeconds } from './ticket-keys.ts';
import type { ResolvedServerCertificate, ResolvedUpstreamTls } from './types.ts';

// The defaults live with the schema that documents them; re-exported for callers of this module.
export { DEFAULT_CIPHERS, DEFAULT_ECDH_CURVE };

/** OpenSSL's SSL_MAX_SID_CTX_LENGTH. */
const SID_CTX_BYTES = 32;

/**
 * The session id context of every context of a generation: equal for equal client-auth material
 * (CA bundle, CRL, mode), different as soon as one of them changes. 32 hex characters.
 */
export function sessionIdContextFor(shared: Pick<SharedServerTls, 'clientCA' | 'crl' | 'clientAuthMode'>): string {
  const hash = createHash('sha256');
  // Length-prefixed, so that no two different triples hash the same input.
  for (const part of [shared.clientCA ?? '', shared.crl ?? '', shared.clientAuthMode ?? '']) {
    hash.update(`${part.length}:`).update(part);
  }
  return `gh${hash.digest('hex')}`.slice(0, SID_CTX_BYTES);
}

export interface SharedServerTls {
  clientCA: string | null;
  crl: string | null;
  tls: TlsConfig;
  ticketKeys: Buffer;
  /**
   * How client certificates are asked for (the data plane's requestCert/rejectUnauthorized and
   * route modes, as one string): part of the session id context, so a mode change ends sessions.
   */
  clientAuthMode?: string;
}

/**
 * Options for `tls.createSecureContext` (or a `tls.Server`) serving one certificate. `requestCert`
 * and `rejectUnauthorized` are server options, not context options: the dataplane sets them.
 */
export function serverContextOptions(cert: ResolvedServerCertificate, shared: SharedServerTls): SecureContextOptions {
  const options: SecureContextOptions = {
    cert: cert.certPem,
    key: cert.keyPem,
    minVersion: shared.tls.minVersion,
    maxVersion: 'TLSv1.3',
    ciphers: shared.tls.ciphers || DEFAULT_CIPHERS,
    ecdhCurve: shared.tls.ecdhCurve || DEFAULT_ECDH_CURVE,
    honorCipherOrder: true,
    // No renegotiation (a client-initiated renegotiation is a DoS vector audits flag) and no compression (CRIME).
    secureOptions: constants.SSL_OP_NO_RENEGOTIATION | constants.SSL_OP_NO_COMPRESSION,
    sessionIdContext: sessionIdContextFor(shared),
    // Seconds; bounds TLS 1.2 sessions and TLS 1.3 tickets alike (OpenSSL's default is 7,200 s).
    sessionTimeout: ticketLifetimeSeconds(shared.tls.sessionTimeoutMs ?? 300_000),
    ticketKeys: currentTicketKeys(shared.ticketKeys),
    // Always an explicit list: without `ca` Node loads its public root store into the context, and a
    // server that requests client certificates would then accept any publicly issued one. No client
    // CA configured means no client certificate verifies.
    ca: shared.clientCA ? certificateBlocks(shared.clientCA) : [],
  };
  if (cert.passphrase) options.passphrase = cert.passphrase;
  // Node reads every certificate of a `ca` string but only the first CRL of a `crl` string: pass arrays.
  if (shared.crl) options.crl = splitCrls(shared.crl);
  return options;
}

/** TLS options of an outbound agent for one upstream identity (ca null = the system roots). */
export function upstreamTlsOptions(upstream: ResolvedUpstreamTls): SecureContextOptions & {
  rejectUnauthorized: boolean;
  servername?: string;
} {
  const options: SecureContextOptions & { rejectUnauthorized: boolean; servername?: string } = {
    rejectUnauthorized: upstream.rejectUnauthorized,
    minVersion: 'TLSv1.2',
  };
  if (upstream.ca) options.ca = certificateBlocks(upstream.ca);
  if (upstream.cert) options.cert = upstream.cert;
  if (upstream.key) options.key = upstream.key;
  if (upstream.servername) options.servername = upstream.servername;
  return options;
}
